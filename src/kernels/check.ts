/**
 * Argument checks shared by both backends, so a bad call fails the same way whichever one serves it:
 * a TypeError for the wrong kind of value, a RangeError for a wrong size or value, each naming the kernel
 * and the argument. The native addon checks again at its boundary (native/binding/args.h).
 */
export function expectArgCount(kernel: string, args: ArrayLike<unknown>, count: number, signature: string): void {
  if (args.length !== count) {
    throw new TypeError(`${kernel}: expected ${count} arguments (${signature}), got ${args.length}`);
  }
}

export function expectBoolean(kernel: string, name: string, value: unknown): asserts value is boolean {
  if (typeof value !== 'boolean') throw new TypeError(`${kernel}: ${name} must be a boolean`);
}

export function expectNumber(kernel: string, name: string, value: unknown): asserts value is number {
  if (typeof value !== 'number') throw new TypeError(`${kernel}: ${name} must be a number`);
}

/** A dimension: an integer in [0, 2^31). */
export function expectDim(kernel: string, name: string, value: unknown): asserts value is number {
  expectNumber(kernel, name, value);
  if (!Number.isInteger(value) || value < 0 || value >= 2 ** 31) {
    throw new RangeError(`${kernel}: ${name} must be an integer in [0, 2^31), got ${value}`);
  }
}

/** A Float32Array of exactly `length` elements; `shape` says how that length is formed (e.g. "M*K"). */
export function expectFloat32(kernel: string, name: string, value: unknown, length: number, shape: string): asserts value is Float32Array {
  if (!(value instanceof Float32Array)) throw new TypeError(`${kernel}: ${name} must be a Float32Array`);
  if (value.length !== length) {
    throw new RangeError(`${kernel}: ${name} must have length ${shape} = ${length}, got ${value.length}`);
  }
}

/** Outputs must not share memory with inputs: kernels read inputs after they start writing outputs. */
export function expectNoOverlap(kernel: string, outName: string, out: Float32Array, inName: string, input: Float32Array): void {
  if (out.length === 0 || input.length === 0 || out.buffer !== input.buffer) return;
  const outEnd = out.byteOffset + out.byteLength;
  const inEnd = input.byteOffset + input.byteLength;
  if (out.byteOffset < inEnd && input.byteOffset < outEnd) {
    throw new RangeError(`${kernel}: ${outName} must not share memory with ${inName}`);
  }
}
