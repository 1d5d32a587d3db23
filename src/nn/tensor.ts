/** A batch as layers pass it: row-major values and their shape, e.g. [N, 784] or [N, C, H, W]. */
import type { FloatArray } from '../kernels/check.js';

export interface Tensor<F extends FloatArray = FloatArray> {
  readonly data: F;
  readonly shape: readonly number[];
}

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
