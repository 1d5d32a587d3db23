/**
 * A layer's activation buffers: one allocation per name, sized for the largest batch seen, and an exact-length
 * view of it per call. The view is cached, so steady-state training with a fixed batch size allocates nothing.
 */
import type { FloatArray } from '../kernels/check.js';

type ArrayType = Float32Array | Float64Array | Int32Array;
type Constructor<T extends ArrayType> = new (length: number) => T;

export class Workspace {
  private readonly buffers = new Map<string, { storage: ArrayType; view: ArrayType }>();

  constructor(private readonly floatType: Constructor<FloatArray>) {}

  floats(name: string, length: number): FloatArray {
    return this.get(name, length, this.floatType);
  }

  int32s(name: string, length: number): Int32Array {
    return this.get(name, length, Int32Array);
  }

  private get<T extends ArrayType>(name: string, length: number, type: Constructor<T>): T {
    let entry = this.buffers.get(name);
    if (entry && entry.view.length === length) return entry.view as T;
    if (!entry || entry.storage.length < length) {
      const storage = new type(length);
      entry = { storage, view: storage };
      this.buffers.set(name, entry);
    }
    entry.view = entry.storage.length === length ? entry.storage : entry.storage.subarray(0, length);
    return entry.view as T;
  }
}
