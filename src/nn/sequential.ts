/**
 * Sequential: layers applied in order, as torch.nn.Sequential, with the model's memory in one place.
 * Parameters and buffers live in one flat buffer and the gradients in another, each layer holding named
 * views into them; state-dict keys are PyTorch's ('0.weight', '1.running_mean', '1.num_batches_tracked').
 * `weightDecay` (L2, lambda) adds lambda/2 * sum(w^2) over the weights of Linear and Conv2d layers to
 * `regularizationLoss()` and lambda * w to their gradients in `backward`, as the seeds' MultiLayerNet does.
 */
import { randomBytes } from 'node:crypto';
import { getBackend, type Backend, type BackendChoice } from '../kernels/backend.js';
import type { FloatArray } from '../kernels/check.js';
import { readSafetensors, writeFileAtomic, writeSafetensors, type StateDict } from '../io/safetensors.js';
import { checkPath, type PathLike } from '../util/path.js';
import { Random } from '../util/random.js';
import { architectureMetadata, type Architecture } from './architecture.js';
import { foldLayers } from './fold-batchnorm.js';
import type { Layer, LayerContext, TensorSpec } from './layer.js';
import { layerSpec, type LayerSpec } from './layer-list.js';
import { Linear } from './linear.js';
import { sequentialToOnnx, type OnnxOptions } from './onnx-export.js';
import { formatShape, sizeOf, type Tensor } from './tensor.js';
import { checkShape, checkTensor } from './validate.js';
import { json } from '../util/show.js';

export interface SequentialOptions {
  /** 'auto' (the default: native when the addon loads, else TypeScript), 'native', 'ts', or a backend object. */
  backend?: BackendChoice | Backend<FloatArray>;
  /** Seed of the model's generator (initialisation, dropout); default a random one, kept in `seed`. */
  seed?: number;
  /** L2 weight decay lambda on Linear and Conv2d weights; default 0. */
  weightDecay?: number;
  /** Reject inputs holding NaN or Infinity with a RangeError; default false. */
  checkFinite?: boolean;
  /**
   * Let a layer run the next one inside its own kernels (BatchNorm then ReLU: one pass over the activation
   * instead of two, forward and backward); the same results, to rounding. Default true.
   */
  fuse?: boolean;
  /**
   * A sample's shape, without the batch dimension ([784], [1, 28, 28]): part of the architecture that `save`
   * writes and `toOnnx` exports. Default: the first input's, or [in] when the first layer is a Linear.
   */
  inputShape?: readonly number[];
}

export interface Parameter {
  name: string;
  shape: number[];
  value: FloatArray;
  grad: FloatArray;
  /** Weight decay applies to it. */
  decay: boolean;
}

interface Entry {
  key: string;
  layer: Layer;
  spec: TensorSpec;
  value: FloatArray;
  grad?: FloatArray;
}

export class Sequential {
  readonly layers: readonly Layer[];
  readonly backend: Backend<FloatArray>;
  readonly seed: number;
  readonly weightDecay: number;
  readonly checkFinite: boolean;
  readonly random: Random;
  training = true;
  /** All parameters then all buffers, and all gradients (in parameter order): one allocation each. */
  readonly values: FloatArray;
  readonly grads: FloatArray;
  private readonly entries: Entry[] = [];
  private readonly one: FloatArray;
  /** fused[i]: layer i runs inside an earlier layer's kernels, so forward and backward skip it. */
  private readonly fused: boolean[];
  /** A sample's shape, as given or as the first forward saw it. */
  private sampleShape?: number[];

  constructor(layers: Layer[], options: SequentialOptions = {}) {
    if (!Array.isArray(layers) || layers.length === 0) throw new TypeError('Sequential: layers must be a non-empty array of layers');
    for (let i = 0; i < layers.length; i++) { // not forEach: it skips holes, and an array of 2^32 - 1 holes loops for minutes
      const layer = layers[i];
      if (typeof layer?.forward !== 'function' || typeof layer?.tensors !== 'function') throw new TypeError(`Sequential: layers[${i}] is not a layer`);
      if (layers.indexOf(layer) !== i) throw new TypeError(`Sequential: layers[${i}] appears twice; create a new layer for each position`);
    }
    this.layers = layers;
    // Every layer is offered its successor (or none), so a layer fused by an earlier model is reset here.
    const fuse = options.fuse ?? true;
    this.fused = layers.map(() => false);
    layers.forEach((layer, i) => {
      // A layer written against an older Layer may lack fuseNext: it then fuses nothing.
      const offered = fuse && !this.fused[i];
      const taken = Number(layer.fuseNext?.(offered ? layers[i + 1] : undefined, offered ? layers.slice(i + 2) : []) ?? 0);
      for (let k = 1; k <= taken && i + k < layers.length; k++) this.fused[i + k] = true;
    });
    this.backend = typeof options.backend === 'object' ? options.backend : getBackend(options.backend);
    this.seed = options.seed ?? randomBytes(4).readUInt32LE(0);
    this.random = new Random(this.seed);
    this.weightDecay = options.weightDecay ?? 0;
    if (!(this.weightDecay >= 0 && Number.isFinite(this.weightDecay))) throw new RangeError(`Sequential: weightDecay must be a finite number >= 0, got ${this.weightDecay}`);
    this.checkFinite = options.checkFinite ?? false;
    if (options.inputShape !== undefined) {
      const shape = options.inputShape;
      if (!Array.isArray(shape) || shape.length === 0 || !shape.every((d) => Number.isInteger(d) && d > 0)) {
        throw new TypeError(`Sequential: inputShape must be a sample's shape such as [784] or [1, 28, 28], got ${json(shape)}`);
      }
      this.sampleShape = [...shape];
      this.outputShape([2, ...shape], false); // the layers take it: a RangeError naming the first that does not
    }
    const floatType = this.backend.dtype === 'float64' ? Float64Array : Float32Array;
    this.one = new floatType([1]);

    const specs = layers.flatMap((layer, i) => layer.tensors().map((spec) => ({ layer, i, spec })));
    const parameterCount = specs.filter((s) => s.spec.kind === 'parameter').reduce((n, s) => n + sizeOf(s.spec.shape), 0);
    this.values = new floatType(specs.reduce((n, s) => n + sizeOf(s.spec.shape), 0));
    this.grads = new floatType(parameterCount);
    // Parameters first, in order, then the buffers: the values of all parameters are one run, as are their
    // gradients, so an optimizer updates the whole model in one kernel call.
    let at = 0;
    let bufferAt = parameterCount;
    for (const { layer, i, spec } of specs) {
      const length = sizeOf(spec.shape);
      const parameter = spec.kind === 'parameter';
      const start = parameter ? at : bufferAt;
      const entry: Entry = { key: `${i}.${spec.name}`, layer, spec, value: this.values.subarray(start, start + length) };
      if (parameter) {
        entry.grad = this.grads.subarray(at, at + length);
        at += length;
      } else {
        bufferAt += length;
      }
      spec.init(entry.value, this.random);
      this.entries.push(entry);
    }
    const context: LayerContext = { backend: this.backend, random: this.random };
    for (const layer of layers) {
      const mine = this.entries.filter((e) => e.layer === layer);
      const values = Object.fromEntries(mine.map((e) => [e.spec.name, e.value]));
      const grads = Object.fromEntries(mine.filter((e) => e.grad).map((e) => [e.spec.name, e.grad!]));
      layer.bind(values, grads, context);
    }
  }

  /** Whether layer i runs inside an earlier layer's kernels (fused): a pass layer by layer skips it. */
  isFused(i: number): boolean {
    return this.fused[i] === true;
  }

  train(): this {
    this.training = true;
    return this;
  }

  eval(): this {
    this.training = false;
    return this;
  }

  /** The model's output for a batch. The result is a view the next forward overwrites; copy it to keep it. */
  forward(x: Tensor | FloatArray, shape?: readonly number[]): Tensor {
    let t = this.checkInput(x, shape);
    this.outputShape(t.shape); // every layer accepts its input before any of them runs
    this.sampleShape ??= t.shape.slice(1);
    for (let i = 0; i < this.layers.length; i++) if (!this.fused[i]) t = this.layers[i].forward(t, this.training);
    return t;
  }

  /**
   * The output shape for an input shape, in the model's mode or in `training`'s; a RangeError naming the first
   * layer that does not accept its input.
   */
  outputShape(input: readonly number[], training = this.training): number[] {
    let shape = [...checkShape('Sequential.outputShape', 'input', input)];
    this.layers.forEach((layer, i) => {
      try {
        shape = layer.outputShape(shape, training);
      } catch (error) {
        if (error instanceof RangeError) throw new RangeError(`layer ${i}: ${error.message}`);
        throw error;
      }
    });
    return shape;
  }

  /**
   * Backpropagates dy (the gradient of the loss with respect to the output) through every layer, adding
   * into the parameters' gradients. Returns the input's gradient when `inputGrad` is set.
   */
  backward(dy: Tensor, options: { inputGrad?: boolean } = {}): Tensor | undefined {
    let t: Tensor | undefined = checkTensor('Sequential.backward', 'dy', dy);
    for (let i = this.layers.length - 1; i >= 0 && t; i--) {
      if (!this.fused[i]) t = this.layers[i].backward(t, i > 0 || options.inputGrad === true);
    }
    if (this.weightDecay > 0) {
      for (const e of this.entries) {
        // grad += lambda * w, as a 1 x n GEMM of rank 1
        if (e.spec.decay && e.grad) this.backend.gemm(false, false, 1, e.value.length, 1, this.weightDecay, this.one, e.value, 1, e.grad);
      }
    }
    return t;
  }

  zeroGrad(): void {
    this.grads.fill(0);
  }

  /** lambda/2 * sum of squared decayed weights (0 without weight decay). */
  regularizationLoss(): number {
    if (this.weightDecay === 0) return 0;
    let sum = 0;
    for (const e of this.entries) if (e.spec.decay) for (let i = 0; i < e.value.length; i++) sum += e.value[i] * e.value[i];
    return 0.5 * this.weightDecay * sum;
  }

  parameters(): Parameter[] {
    return this.entries.filter((e) => e.grad).map((e) => ({ name: e.key, shape: e.spec.shape, value: e.value, grad: e.grad!, decay: e.spec.decay === true }));
  }

  /** Eval-mode output for a batch of any size (1 included), as a new array; the mode is restored after. */
  predict(x: Tensor | FloatArray, shape?: readonly number[]): Tensor {
    const was = this.training;
    this.training = false;
    try {
      const out = this.forward(x, shape);
      return { data: out.data.slice(), shape: out.shape };
    } finally {
      this.training = was;
    }
  }

  /**
   * Parameters, buffers and counters under PyTorch's keys, copied; `{ copy: false }` gives views of the model's
   * own parameters and buffers instead (they change with the next step: for writing out at once).
   */
  stateDict(options: { copy?: boolean } = {}): StateDict {
    const dict: StateDict = {};
    const dtype = this.backend.dtype === 'float64' ? 'F64' : 'F32';
    const copy = options?.copy ?? true;
    this.layers.forEach((layer, i) => {
      for (const e of this.entries) if (e.layer === layer) dict[e.key] = { dtype, shape: [...e.spec.shape], data: copy ? e.value.slice() : e.value };
      for (const [name, value] of Object.entries(layer.counters())) dict[`${i}.${name}`] = { dtype: 'I64', shape: [], data: BigInt64Array.of(BigInt(value)) };
    });
    return dict;
  }

  /**
   * Loads a state dict with exactly this model's keys and shapes. Missing keys, unexpected keys and wrong
   * shapes are all listed in one RangeError, and then nothing is changed.
   */
  loadStateDict(dict: StateDict): void {
    const problems: string[] = [];
    const expected = new Map<string, number[]>();
    for (const e of this.entries) expected.set(e.key, e.spec.shape);
    const counters: [Layer, string, string][] = [];
    this.layers.forEach((layer, i) => {
      for (const name of Object.keys(layer.counters())) {
        expected.set(`${i}.${name}`, []);
        counters.push([layer, name, `${i}.${name}`]);
      }
    });
    const missing = [...expected.keys()].filter((key) => !(key in dict));
    const extra = Object.keys(dict).filter((key) => !expected.has(key));
    if (missing.length) problems.push(`missing keys: ${missing.join(', ')}`);
    if (extra.length) problems.push(`unexpected keys: ${extra.join(', ')}`);
    for (const [key, shape] of expected) {
      const t = dict[key];
      if (!t) continue;
      if (t.shape.length !== shape.length || t.shape.some((d, j) => d !== shape[j])) {
        problems.push(`${key} has shape ${formatShape(t.shape)}, expected ${formatShape(shape)}`);
      } else if (t.data.length !== sizeOf(shape)) {
        problems.push(`${key} holds ${t.data.length} values for shape ${formatShape(shape)}`);
      }
    }
    if (problems.length) throw new RangeError(`loadStateDict: ${problems.join('; ')}`);
    for (const e of this.entries) {
      const data = dict[e.key].data;
      for (let j = 0; j < data.length; j++) e.value[j] = Number(data[j]);
    }
    for (const [layer, name, key] of counters) layer.setCounter(name, Number(dict[key].data[0]));
  }

  /** Writes the state dict, and the architecture (when known) in the metadata, so loadModel can rebuild the model. */
  save(path: PathLike, metadata?: Record<string, string>): void {
    if (metadata !== undefined && (typeof metadata !== 'object' || metadata === null || !Object.values(metadata).every((v) => typeof v === 'string'))) {
      throw new TypeError('Sequential.save: metadata must be an object of strings');
    }
    writeSafetensors(checkPath(path, 'Sequential.save: path'), this.stateDict({ copy: false }), { ...architectureMetadata(this.architecture()), ...metadata });
  }

  /** A sample's shape (no batch dimension): as given, else the first input's, else [in] of a first Linear; else undefined. */
  get inputShape(): number[] | undefined {
    const first = this.layers[0];
    const shape = this.sampleShape ?? (first instanceof Linear ? [first.inFeatures] : undefined);
    return shape && [...shape];
  }

  /**
   * The input shape and the layer list with every option, which layersFromList rebuilds the layers from;
   * undefined when the input shape is unknown or a layer has no layer-list type (a user's own class).
   */
  architecture(): Architecture | undefined {
    const inputShape = this.inputShape;
    const layers = this.layers.map(layerSpec);
    if (!inputShape || layers.some((spec) => spec === undefined)) return undefined;
    return { inputShape, layers: layers as LayerSpec[] };
  }

  /**
   * A new model, in eval mode, computing this one's eval output with every BatchNorm folded into the Linear or
   * Conv2d before it (or made a ChannelAffine when there is none) and Dropout left out: fewer layers and passes,
   * less memory. Equal to this model's eval output within float32 rounding. See fold-batchnorm.ts.
   */
  foldBatchNorm(): Sequential {
    const { layers, state } = foldLayers(this.layers, this.stateDict());
    const folded = new Sequential(layers, { backend: this.backend, seed: this.seed, checkFinite: this.checkFinite, inputShape: this.inputShape });
    folded.loadStateDict(state);
    return folded.eval();
  }

  /** The model as an ONNX file's bytes (eval mode; input "input" [N, ...inputShape], output "logits"). See onnx-export.ts. */
  toOnnx(options: OnnxOptions = {}): Uint8Array {
    return sequentialToOnnx(this, options);
  }

  /** Writes `toOnnx(options)` to `path`, atomically. */
  saveOnnx(path: PathLike, options: OnnxOptions = {}): void {
    writeFileAtomic(checkPath(path, 'Sequential.saveOnnx: path'), this.toOnnx(options));
  }

  /** Loads weights saved by `save` or by torch + safetensors (`save_file(model.state_dict(), path)`). */
  load(path: PathLike): void {
    this.loadStateDict(readSafetensors(checkPath(path, 'Sequential.load: path')).tensors);
  }

  /** PyTorch-style summary, one layer a line. */
  describe(): string {
    return `Sequential(\n${this.layers.map((layer, i) => `  (${i}): ${layer.describe()}`).join('\n')}\n)`;
  }

  private checkInput(x: Tensor | FloatArray, shape?: readonly number[]): Tensor {
    const t: Tensor = ArrayBuffer.isView(x) ? { data: x as FloatArray, shape: shape ?? [] } : (x as Tensor);
    const floatType = this.backend.dtype === 'float64' ? Float64Array : Float32Array;
    if (!(t?.data instanceof floatType)) throw new TypeError(`Sequential.forward: input must be a ${floatType.name} (or { data, shape } holding one)`);
    if (!Array.isArray(t.shape) || t.shape.length === 0 || !t.shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new TypeError(`Sequential.forward: shape must be an array of dimensions such as [N, 784], got ${json(t.shape)}`);
    }
    if (sizeOf(t.shape) !== t.data.length) {
      throw new RangeError(`Sequential.forward: input of shape ${formatShape(t.shape)} needs ${sizeOf(t.shape)} values, got ${t.data.length}`);
    }
    if (this.checkFinite) {
      for (let i = 0; i < t.data.length; i++) {
        if (!Number.isFinite(t.data[i])) throw new RangeError(`Sequential.forward: input[${i}] is ${t.data[i]} (checkFinite is on)`);
      }
    }
    return t;
  }
}
