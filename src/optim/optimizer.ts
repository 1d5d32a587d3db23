/**
 * The optimizers' shared base: torch.optim's rules (PyTorch 1.13) over a model's parameters, each step one fused
 * backend kernel call per run of parameters adjacent in memory (src/kernels/ts/optim.ts gives the formulas). Every
 * rule is elementwise with the same scalars for every parameter of the group, so updating a run at once is the
 * same arithmetic as updating its tensors one by one; Sequential lays its parameters (and their gradients) out
 * back to back, so a model's whole step is one call. An optimizer holds:
 *
 *   parameters  the {name, shape, value, grad} views of the model (Sequential.parameters()); value is updated in
 *               place from grad, which is only read (the trainer zeroes it);
 *   state       every state buffer of every parameter in one allocation, sized once: buffer b of parameter k
 *               is a view at (b * total + offset_k), so each buffer kind is one contiguous run over all
 *               parameters, in parameter order;
 *   step        the number of steps taken (torch's state['step']; one count for all parameters, as torch's
 *               counts are equal within one param group).
 *
 * Weight decay, as in torch.optim, adds weightDecay * param to the gradient of every parameter the optimizer
 * holds (not decoupled as in AdamW; pass a subset of parameters() to leave some out).
 *
 * stateDict() is plain JSON: type, options, step, dtype, the parameters' names and shapes, and each buffer kind
 * as base64 of its little-endian bytes, so JSON.stringify / JSON.parse / loadStateDict round-trips bit for bit.
 * stateViews() is the same with the buffers as views of the state (what a checkpoint writes, in binary).
 * loadStateDict() checks everything first and changes nothing when it throws.
 */
import { getBackend, type Backend, type BackendName } from '../kernels/backend.js';
import type { FloatArray } from '../kernels/check.js';
import type { Parameter } from '../nn/sequential.js';
import { formatShape, sizeOf } from '../nn/tensor.js';
import { json, show } from '../util/show.js';

/** Anything with a backend and parameters(): a Sequential. */
export interface ParameterSource {
  readonly backend: Backend<FloatArray>;
  parameters(): Parameter[];
}

export interface OptimizerOptions {
  /** Learning rate, >= 0. */
  lr?: number;
  /** L2 penalty added to the gradient (torch's weight_decay), >= 0; default 0. */
  weightDecay?: number;
  /**
   * The backend to run the updates on, when the first argument is a parameter list (default getBackend()).
   * With a model the model's backend serves.
   */
  backend?: BackendName | Backend<FloatArray>;
}

/** What optimizer.stateDict() gives and loadStateDict() takes: plain JSON. */
export interface OptimizerState {
  format: 'normnet.optimizer';
  version: 1;
  /** The class: 'SGD', 'Momentum', 'Nesterov', 'AdaGrad', 'RMSprop', 'Adam'. */
  type: string;
  /** Every hyper-parameter, defaults included. */
  options: Record<string, number>;
  /** Steps taken. */
  step: number;
  dtype: 'float32' | 'float64';
  parameters: { name: string; shape: number[] }[];
  /** Each state buffer kind over all parameters, in parameter order: base64 of its little-endian bytes. */
  buffers: Record<string, string>;
}

/**
 * What optimizer.stateViews() gives and loadStateDict() also takes: the state with each buffer kind as the
 * values themselves (a checkpoint writes them to optimizer.safetensors in binary, without a copy).
 */
export type OptimizerStateViews = Omit<OptimizerState, 'buffers'> & { buffers: Record<string, Float32Array | Float64Array> };

/**
 * How a hyper-parameter is checked: 'rate' a finite number >= 0, 'unit' in [0, 1], 'beta' in [0, 1),
 * 'positiveUnit' in (0, 1].
 */
export type OptionRule = 'rate' | 'unit' | 'beta' | 'positiveUnit';

/** A hyper-parameter: its rule and default (none: the option is required). */
export interface OptionSpec {
  rule: OptionRule;
  default?: number;
}

const RULES: Record<OptionRule, { test: (v: number) => boolean; text: string }> = {
  rate: { test: (v) => v >= 0 && v < Infinity, text: 'a finite number >= 0' },
  unit: { test: (v) => v >= 0 && v <= 1, text: 'in [0, 1]' },
  beta: { test: (v) => v >= 0 && v < 1, text: 'in [0, 1)' },
  positiveUnit: { test: (v) => v > 0 && v <= 1, text: 'in (0, 1]' },
};

const MAX_STEP = 2 ** 31 - 1; // the kernels take step as an integer below 2^31

/** Hyper-parameters as numbers, defaults filled in; a TypeError or RangeError naming the first bad one. */
export function resolveOptions<O extends Record<string, number>>(
  type: string, specs: { [K in keyof O]: OptionSpec }, given: Record<string, unknown>, extra: readonly string[] = [],
): O {
  if (typeof given !== 'object' || given === null) throw new TypeError(`${type}: options must be an object`);
  const names = Object.keys(specs);
  for (const key of Object.keys(given)) {
    if (!names.includes(key) && !extra.includes(key)) {
      throw new TypeError(`${type}: unknown option '${key}'; the options are ${[...names, ...extra].join(', ')}`);
    }
  }
  const out: Record<string, number> = {};
  for (const name of names) {
    const spec = specs[name];
    const value = given[name] ?? spec.default;
    if (value === undefined) throw new TypeError(`${type}: ${name} is required (torch.optim has no default for it)`);
    if (typeof value !== 'number') throw new TypeError(`${type}: ${name} must be a number, got ${typeof value}`);
    const rule = RULES[spec.rule];
    if (!rule.test(value)) throw new RangeError(`${type}: ${name} must be ${rule.text}, got ${value}`);
    out[name] = value;
  }
  return out as O;
}

export abstract class Optimizer<O extends Record<string, number> = Record<string, number>> {
  /** The class name, as stateDict() records it. */
  readonly type: string;
  readonly backend: Backend<FloatArray>;
  readonly parameters: readonly Parameter[];
  /** All optimizer state, one allocation: buffer kind b of parameter k at (b * total + offset_k). */
  readonly state: FloatArray;
  /** Parameters adjacent in memory (values, gradients and so state), merged: what one kernel call updates. */
  private readonly runs: Run[];
  private opts: O;
  private steps = 0;

  /**
   * `bufferNames` are the state buffer kinds each parameter has (['expAvg', 'expAvgSq'] for Adam), `specs` the
   * hyper-parameters with their rules and defaults.
   */
  protected constructor(
    type: string,
    source: ParameterSource | readonly Parameter[],
    options: object,
    private readonly specs: { [K in keyof O]: OptionSpec },
    readonly bufferNames: readonly string[],
  ) {
    if (typeof type !== 'string' || typeof specs !== 'object' || specs === null || !Array.isArray(bufferNames)) {
      throw new TypeError('Optimizer is the optimizers\' base class: construct SGD, Momentum, Nesterov, AdaGrad, RMSprop or Adam');
    }
    this.type = type;
    const given = (options ?? {}) as Record<string, unknown>;
    this.opts = resolveOptions<O>(type, specs, given, ['backend']);
    let parameters: readonly Parameter[];
    if (Array.isArray(source)) {
      const b = given.backend as OptimizerOptions['backend'];
      this.backend = typeof b === 'object' && b !== null ? b : getBackend(b);
      parameters = source;
    } else if (typeof (source as ParameterSource)?.parameters === 'function' && typeof (source as ParameterSource).backend === 'object') {
      const model = source as ParameterSource;
      if (given.backend !== undefined && given.backend !== model.backend && given.backend !== model.backend.name) {
        throw new TypeError(`${type}: the backend option conflicts with the model's backend ('${model.backend.name}'); leave it out`);
      }
      this.backend = model.backend;
      parameters = model.parameters();
    } else {
      throw new TypeError(`${type}: the first argument must be a model (a Sequential) or an array of its parameters()`);
    }
    this.parameters = checkParameters(type, parameters, this.backend);
    const total = this.parameters.reduce((n, p) => n + p.value.length, 0);
    const floatType = this.backend.dtype === 'float64' ? Float64Array : Float32Array;
    this.state = new floatType(bufferNames.length * total);
    const merged: (Tensors & { offset: number })[] = [];
    let offset = 0;
    for (const p of this.parameters) {
      const last = merged[merged.length - 1];
      if (last && follows(last.value, p.value) && follows(last.grad, p.grad)) {
        last.value = extend(last.value, p.value.length);
        last.grad = extend(last.grad, p.grad.length);
      } else {
        merged.push({ value: p.value, grad: p.grad, offset });
      }
      offset += p.value.length;
    }
    this.runs = merged.map(({ value, grad, offset: at }) => ({
      value, grad, state: bufferNames.map((_, b) => this.state.subarray(b * total + at, b * total + at + value.length)),
    }));
  }

  /** The hyper-parameters, defaults included (a copy). */
  get options(): O {
    return { ...this.opts };
  }

  /** The learning rate; set it between steps (a schedule), checked as at construction. */
  get lr(): number {
    return this.opts.lr;
  }

  set lr(value: number) {
    this.opts = resolveOptions<O>(this.type, this.specs, { ...this.opts, lr: value });
  }

  /** Steps taken so far. */
  get stepCount(): number {
    return this.steps;
  }

  /** One update of every parameter from its gradient: one fused kernel call per run of adjacent parameters. */
  step(): void {
    if (this.steps >= MAX_STEP) throw new RangeError(`${this.type}: step count ${this.steps} reached 2^31 - 1`);
    const step = this.steps + 1;
    const options = this.opts;
    for (const run of this.runs) this.update(run, run.state, step, options);
    this.steps = step;
  }

  /** Zeroes the gradients of the parameters this optimizer holds. */
  zeroGrad(): void {
    for (const run of this.runs) run.grad.fill(0);
  }

  /**
   * The kernel call for one run of parameters (value and grad of equal length); `state` are its buffers in
   * bufferNames order, `step` counts from 1.
   */
  protected abstract update(p: Tensors, state: FloatArray[], step: number, options: O): void;

  stateDict(): OptimizerState {
    const views = this.stateViews();
    const buffers: Record<string, string> = {};
    for (const [name, values] of Object.entries(views.buffers)) buffers[name] = encodeFloats(values);
    return { ...views, buffers };
  }

  /** stateDict() with each buffer kind as a view of the optimizer's own state (it changes with the next step). */
  stateViews(): OptimizerStateViews {
    const total = this.state.length / Math.max(this.bufferNames.length, 1);
    const buffers: Record<string, FloatArray> = {};
    this.bufferNames.forEach((name, b) => {
      buffers[name] = this.state.subarray(b * total, (b + 1) * total);
    });
    return {
      format: 'normnet.optimizer',
      version: 1,
      type: this.type,
      options: { ...this.opts },
      step: this.steps,
      dtype: this.backend.dtype,
      parameters: this.parameters.map((p) => ({ name: p.name, shape: [...p.shape] })),
      buffers,
    };
  }

  /**
   * Restores options, step and state saved by stateDict() (or stateViews()) of the same optimizer type over the
   * same parameters (names and shapes) and dtype. Every problem found is listed in one error, and then nothing
   * is changed.
   */
  loadStateDict(state: OptimizerState | OptimizerStateViews): void {
    const where = `${this.type}.loadStateDict`;
    if (typeof state !== 'object' || state === null) throw new TypeError(`${where}: state must be an object from stateDict()`);
    if (state.format !== 'normnet.optimizer' || state.version !== 1) {
      throw new TypeError(`${where}: not an optimizer state (format ${json(state.format)}, version ${json(state.version)}; expected 'normnet.optimizer', 1)`);
    }
    if (state.type !== this.type) throw new TypeError(`${where}: the state is of a ${show(state.type)} optimizer, not ${this.type}`);
    const problems: string[] = [];
    let options: O | undefined;
    try {
      options = resolveOptions<O>(where, this.specs, state.options as Record<string, unknown>);
      const missing = Object.keys(this.specs).filter((name) => !(name in (state.options ?? {})));
      if (missing.length) problems.push(`options lack ${missing.join(', ')}`);
    } catch (error) {
      problems.push((error as Error).message.slice(where.length + 2));
    }
    if (!(Number.isInteger(state.step) && state.step >= 0 && state.step <= MAX_STEP)) {
      problems.push(`step must be an integer in [0, 2^31 - 1], got ${json(state.step)}`);
    }
    if (state.dtype !== this.backend.dtype) problems.push(`dtype is ${json(state.dtype)}, the backend's is '${this.backend.dtype}'`);
    if (!Array.isArray(state.parameters)) {
      problems.push('parameters must be an array of { name, shape }');
    } else {
      if (state.parameters.length !== this.parameters.length) {
        problems.push(`${state.parameters.length} parameters, expected ${this.parameters.length}`);
      }
      this.parameters.forEach((p, k) => {
        const q = state.parameters[k];
        if (!q) return;
        const shape = Array.isArray(q.shape) ? q.shape : [];
        if (q.name !== p.name || shape.length !== p.shape.length || shape.some((d, j) => d !== p.shape[j])) {
          problems.push(`parameter ${k} is ${json(q.name)} ${formatShape(shape)}, expected '${p.name}' ${formatShape(p.shape)}`);
        }
      });
    }
    const decoded: FloatArray[] = [];
    const total = this.state.length / Math.max(this.bufferNames.length, 1);
    const buffers = (typeof state.buffers === 'object' && state.buffers !== null ? state.buffers : {}) as Record<string, unknown>;
    const names = Object.keys(buffers);
    const extra = names.filter((name) => !this.bufferNames.includes(name));
    if (extra.length) problems.push(`unexpected buffers: ${extra.join(', ')}`);
    for (const name of this.bufferNames) {
      const text = buffers[name];
      if (text instanceof Float32Array || text instanceof Float64Array) {
        const values = text as FloatArray;
        if (values.constructor !== this.state.constructor) problems.push(`buffer ${name} is a ${values.constructor.name}, expected ${this.state.constructor.name}`);
        else if (values.length !== total) problems.push(`buffer ${name} holds ${values.length} values, expected ${total}`);
        else decoded.push(values);
        continue;
      }
      if (typeof text !== 'string') {
        problems.push(`buffer ${name} is missing`);
        continue;
      }
      const bytes = Buffer.from(text, 'base64');
      if (bytes.toString('base64') !== text) {
        problems.push(`buffer ${name} is not canonical base64`);
      } else if (bytes.length !== total * this.state.BYTES_PER_ELEMENT) {
        problems.push(`buffer ${name} holds ${bytes.length} bytes, expected ${total * this.state.BYTES_PER_ELEMENT} (${total} ${this.backend.dtype} values)`);
      } else {
        decoded.push(decodeFloats(bytes, this.backend.dtype));
      }
    }
    if (problems.length || options === undefined) throw new RangeError(`${where}: ${problems.join('; ')}`);
    decoded.forEach((values, b) => this.state.set(values, b * total));
    this.opts = options;
    this.steps = state.step;
  }
}

/** What an update reads and writes: a parameter's (or a run of them) values and gradients. */
export interface Tensors {
  value: FloatArray;
  grad: FloatArray;
}

interface Run extends Tensors {
  /** The run's view of each state buffer kind. */
  state: FloatArray[];
}

/** b starts where a ends, in the same buffer. */
function follows(a: FloatArray, b: FloatArray): boolean {
  return a.buffer === b.buffer && a.constructor === b.constructor && a.byteOffset + a.byteLength === b.byteOffset;
}

/** a, lengthened by `length` values of its buffer. */
function extend(a: FloatArray, length: number): FloatArray {
  const type = a.constructor as Float32ArrayConstructor | Float64ArrayConstructor;
  return new type(a.buffer as ArrayBuffer, a.byteOffset, a.length + length);
}

function checkParameters(type: string, parameters: readonly Parameter[], backend: Backend<FloatArray>): Parameter[] {
  if (!Array.isArray(parameters)) throw new TypeError(`${type}: parameters must be an array`);
  if (parameters.length === 0) throw new RangeError(`${type}: got an empty parameter list`);
  const floatType = backend.dtype === 'float64' ? Float64Array : Float32Array;
  const seen = new Set<FloatArray>();
  return Array.from(parameters, (p, k) => { // not map: it skips holes
    const label = `${type}: parameters[${k}]${typeof p?.name === 'string' ? ` ('${p.name}')` : ''}`;
    if (!(p?.value instanceof floatType) || !(p.grad instanceof floatType)) {
      throw new TypeError(`${label}: value and grad must be ${floatType.name}s, the ${backend.name} backend's storage`);
    }
    if (p.grad.length !== p.value.length || !Array.isArray(p.shape) || sizeOf(p.shape) !== p.value.length) {
      throw new RangeError(`${label}: value (${p.value.length}), grad (${p.grad.length}) and shape ${formatShape(Array.isArray(p.shape) ? p.shape : [])} disagree`);
    }
    if (seen.has(p.value)) throw new RangeError(`${label} appears twice`);
    seen.add(p.value);
    return p;
  });
}

/**
 * base64 of the values' bytes, little-endian (the byte order of every platform normnet builds for). Encoded in
 * pieces of under 1 MB: Node makes a longer result an external string, which V8 collects only when external
 * memory has grown by tens of MB, so a checkpoint per epoch left its optimizer state behind (RSS +2.7 MB an epoch).
 */
function encodeFloats(values: FloatArray): string {
  const bytes = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
  const piece = 3 * 2 ** 18; // a multiple of 3 bytes, so the pieces' base64 joins into the whole's
  let text = '';
  for (let start = 0; start < bytes.length; start += piece) text += bytes.subarray(start, start + piece).toString('base64');
  return text;
}

function decodeFloats(bytes: Buffer, dtype: 'float32' | 'float64'): FloatArray {
  const copy = new Uint8Array(bytes); // aligned copy
  return dtype === 'float64' ? new Float64Array(copy.buffer) : new Float32Array(copy.buffer);
}
