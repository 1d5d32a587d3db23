/**
 * The layer contract. A layer declares its parameters and buffers (PyTorch's names, shapes and state-dict
 * order); the model allocates all of them in one buffer and hands each layer its views (`bind`); then
 * `forward` and `backward` call kernels on those views and on the layer's workspace. Backward writes the
 * input gradient and adds into parameter gradients.
 */
import type { Backend } from '../kernels/backend.js';
import type { FloatArray } from '../kernels/check.js';
import type { Random } from '../util/random.js';
import { show } from '../util/show.js';
import { formatShape, type Tensor } from './tensor.js';
import { Workspace } from './workspace.js';

export interface TensorSpec {
  /** The state-dict name within the layer: 'weight', 'bias', 'running_mean', ... */
  name: string;
  shape: number[];
  /** Parameters train and have gradients; buffers (running statistics) do not. */
  kind: 'parameter' | 'buffer';
  /** Weight decay applies to it (the weights of Linear and Conv2d, not biases or BatchNorm). */
  decay?: boolean;
  init(values: FloatArray, random: Random): void;
}

export interface LayerContext {
  backend: Backend<FloatArray>;
  /** The model's generator: dropout draws its mask seeds from it. */
  random: Random;
}

export abstract class Layer {
  /** How the layer prints, PyTorch style: 'Linear(784, 100)'. */
  abstract describe(): string;
  /** The output shape for an input shape; a RangeError naming the layer when the input does not fit. */
  abstract outputShape(input: readonly number[], training: boolean): number[];
  abstract forward(x: Tensor, training: boolean): Tensor;
  /** dx for dy; `needDx` false lets the first layer skip it. */
  abstract backward(dy: Tensor, needDx: boolean): Tensor | undefined;
  /** A fresh, unbound layer with the same configuration (gradCheck rebuilds models in float64 with it). */
  abstract clone(): Layer;

  /**
   * Sequential offers each layer the one after it (undefined: none, or fusion is off), and the layers after that
   * (`following`). A layer that applies `next` within its own kernels returns true, or the number of layers from
   * `next` on that it applies (BatchNorm2d: its ReLU and the MaxPool2d after it, 2); Sequential then skips those
   * layers in forward and backward, and the layer's forward returns the last one's output.
   */
  fuseNext(next: Layer | undefined, following: readonly Layer[] = []): boolean | number {
    void next;
    void following;
    return false;
  }

  protected context?: LayerContext;
  private boundWorkspace?: Workspace;
  /** The layer's activation buffers, in the backend's float type; made by bind (before it, ctx's error). */
  protected get workspace(): Workspace {
    void this.ctx;
    return this.boundWorkspace!;
  }

  tensors(): TensorSpec[] {
    return [];
  }

  /** Integer state saved beside the tensors (BatchNorm's num_batches_tracked). */
  counters(): Record<string, number> {
    return {};
  }

  setCounter(name: string, value: number): void {
    throw new RangeError(`${this.describe()} has no counter ${show(name)} (value ${show(value)})`);
  }

  bind(values: Record<string, FloatArray>, grads: Record<string, FloatArray>, context: LayerContext): void {
    for (const [name, value] of [['values', values], ['grads', grads], ['context', context]] as const) {
      if (typeof value !== 'object' || value === null) throw new TypeError(`${this.describe()}.bind: ${name} must be an object, got ${show(value)}`);
    }
    if (typeof context.backend !== 'object' || context.backend === null || typeof context.random !== 'object' || context.random === null) {
      throw new TypeError(`${this.describe()}.bind: context must be { backend, random }`);
    }
    this.context = context;
    this.boundWorkspace = new Workspace(this.floatType);
  }

  /** The backend's array type: Float32Array, or Float64Array for gradient checks. */
  protected get floatType(): Float32ArrayConstructor | Float64ArrayConstructor {
    return this.ctx.backend.dtype === 'float64' ? Float64Array : Float32Array;
  }

  protected get ctx(): LayerContext {
    if (!this.context) throw new Error(`${this.describe()} is not part of a model yet: add it to a Sequential`);
    return this.context;
  }

  protected shapeError(expected: string, got: readonly number[]): RangeError {
    return new RangeError(`${this.describe()}: expected input of shape ${expected}, got ${formatShape(got)}`);
  }
}
