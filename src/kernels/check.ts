/**
 * Argument checks of the TypeScript kernels: a TypeError for the wrong kind of value, a RangeError for a wrong
 * size or value, each naming the kernel and the argument. The native addon makes the same checks in the same
 * words at its boundary (native/binding/args.h), so a bad call fails the same way whichever backend serves it;
 * the native backend calls the addon directly, without these.
 */
import { types } from 'node:util';

export type FloatArray = Float32Array | Float64Array;
export type FloatArrayConstructor = Float32ArrayConstructor | Float64ArrayConstructor;

/** Reads one kernel call's arguments by position; `signature` names them, as in "transA, transB, M, ...". */
export class ArgReader {
  private readonly names: string[];
  private readonly arrays = new Map<string, ArrayBufferView>();

  constructor(
    private readonly kernel: string,
    private readonly args: ArrayLike<unknown>,
    signature: string,
    private readonly floatType: FloatArrayConstructor,
  ) {
    this.names = signature.split(', ');
    if (args.length !== this.names.length) {
      throw new TypeError(`${kernel}: expected ${this.names.length} arguments (${signature}), got ${args.length}`);
    }
  }

  private prefix(index: number): string {
    return `${this.kernel}: ${this.names[index]}`;
  }

  boolean(index: number): boolean {
    const value = this.args[index];
    if (typeof value !== 'boolean') throw new TypeError(`${this.prefix(index)} must be a boolean`);
    return value;
  }

  number(index: number): number {
    const value = this.args[index];
    if (typeof value !== 'number') throw new TypeError(`${this.prefix(index)} must be a number`);
    return value;
  }

  /** An integer in [min, 2^31). Dimensions take min 0, sizes that must be positive (kernel, stride) min 1. */
  int(index: number, min = 0): number {
    const value = this.number(index);
    if (!Number.isInteger(value) || value < min || value >= 2 ** 31) {
      throw new RangeError(`${this.prefix(index)} must be an integer in [${min}, 2^31), got ${value}`);
    }
    return value;
  }

  /** A number in [lo, hi) (or [lo, hi] when `closed`). */
  inRange(index: number, lo: number, hi: number, closed = false): number {
    const value = this.number(index);
    if (!(value >= lo && (closed ? value <= hi : value < hi))) {
      throw new RangeError(`${this.prefix(index)} must be in [${lo}, ${hi}${closed ? ']' : ')'}, got ${value}`);
    }
    return value;
  }

  /** An unsigned 32-bit integer (a seed). */
  uint32(index: number): number {
    const value = this.number(index);
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
      throw new RangeError(`${this.prefix(index)} must be an integer in [0, 2^32), got ${value}`);
    }
    return value;
  }

  /** A float array of the backend's type with exactly `length` elements; `shape` says how the length is formed. */
  floats(index: number, length: number, shape: string): FloatArray {
    return this.typed(index, this.floatType, length, shape) as FloatArray;
  }

  /** floats(), or null (an output not wanted, a bias not there). */
  optionalFloats(index: number, length: number, shape: string): FloatArray | null {
    if (this.args[index] === null) return null;
    if (!isTyped(this.args[index], this.floatType)) throw new TypeError(`${this.prefix(index)} must be a ${this.floatType.name} or null`);
    return this.floats(index, length, shape);
  }

  /** A Float32Array whatever the backend's type (data batches are float32 everywhere). */
  float32s(index: number, length: number, shape: string): Float32Array {
    return this.typed(index, Float32Array, length, shape) as Float32Array;
  }

  int32s(index: number, length: number, shape: string): Int32Array {
    return this.typed(index, Int32Array, length, shape) as Int32Array;
  }

  /** Stored samples of any length: a Uint8Array or a Float32Array. */
  samples(index: number): Uint8Array | Float32Array {
    const value = this.args[index];
    if (!types.isUint8Array(value) && !types.isFloat32Array(value)) {
      throw new TypeError(`${this.prefix(index)} must be a Uint8Array or a Float32Array`);
    }
    if (isDetached(value)) throw new TypeError(`${this.prefix(index)} must not be a view of a detached ArrayBuffer`);
    this.arrays.set(this.names[index], value);
    return value;
  }

  private typed(index: number, type: FloatArrayConstructor | Int32ArrayConstructor, length: number, shape: string): ArrayBufferView {
    const value = this.args[index];
    if (!isTyped(value, type)) throw new TypeError(`${this.prefix(index)} must be a ${type.name}`);
    if (isDetached(value)) throw new TypeError(`${this.prefix(index)} must not be a view of a detached ArrayBuffer`);
    if (value.length !== length) {
      throw new RangeError(`${this.prefix(index)} must have length ${shape} = ${length}, got ${value.length}`);
    }
    this.arrays.set(this.names[index], value);
    return value;
  }

  /** Outputs must not share memory with other arrays of the call: kernels read inputs after writing outputs. */
  noOverlap(outputs: string[]): void {
    for (const out of outputs) {
      const a = this.arrays.get(out);
      if (!a) continue; // a null output
      for (const [name, b] of this.arrays) {
        if (name === out || a.byteLength === 0 || b.byteLength === 0 || a.buffer !== b.buffer) continue;
        if (a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength) {
          throw new RangeError(`${this.kernel}: ${out} must not share memory with ${name}`);
        }
      }
    }
  }
}

const BRANDS = new Map<unknown, (value: unknown) => boolean>([
  [Float32Array, types.isFloat32Array], [Float64Array, types.isFloat64Array], [Int32Array, types.isInt32Array],
] as [unknown, (value: unknown) => boolean][]);

/** A real typed array of `type`, by its internal slots: a Proxy of one or an object with its prototype is not. */
function isTyped(value: unknown, type: FloatArrayConstructor | Int32ArrayConstructor): value is FloatArray | Int32Array {
  return BRANDS.get(type)!(value);
}

/** A view of a detached ArrayBuffer: it reads as empty, but a kernel that makes views of it throws. */
function isDetached(view: ArrayBufferView): boolean {
  if (view.byteLength !== 0 || view.buffer.byteLength !== 0) return false;
  try {
    new Uint8Array(view.buffer);
    return false;
  } catch {
    return true;
  }
}

/** Output size of a convolution or pooling window along one axis; a RangeError when the window does not fit. */
export function windowOutput(kernel: string, axis: string, size: number, window: number, stride: number, padding: number): number {
  const span = size + 2 * padding - window;
  if (span < 0) {
    throw new RangeError(`${kernel}: the ${window}-wide window does not fit ${axis} = ${size} with padding ${padding}`);
  }
  return Math.floor(span / stride) + 1;
}
