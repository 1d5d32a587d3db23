import { types } from 'node:util';
import type { FloatArray } from '../kernels/check.js';
import { show } from '../util/show.js';
import type { Tensor } from './tensor.js';

/** Constructor argument checks shared by the layers: a RangeError or TypeError naming the layer and argument. */
export function checkPositiveInt(layer: string, name: string, value: unknown): number {
  if (typeof value !== 'number') throw new TypeError(`${layer}: ${name} must be a number, got ${typeof value}`);
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${layer}: ${name} must be a positive integer, got ${value}`);
  return value;
}

export function checkNonNegativeInt(layer: string, name: string, value: unknown): number {
  if (typeof value !== 'number') throw new TypeError(`${layer}: ${name} must be a number, got ${typeof value}`);
  if (!Number.isInteger(value) || value < 0) throw new RangeError(`${layer}: ${name} must be an integer >= 0, got ${value}`);
  return value;
}

/**
 * Where a check runs, for its message: a name, or a layer, whose describe() is called only when the check fails
 * (the layers check every tensor they are given, and a string built per call would be garbage in the training loop).
 */
export type Where = string | { describe(): string };
const label = (where: Where) => (typeof where === 'string' ? where : where.describe());

const isShape = (shape: unknown): shape is number[] =>
  Array.isArray(shape) && shape.length <= 32 && shape.every((d) => Number.isSafeInteger(d) && d >= 0);

/** A shape: an array of at most 32 sizes, each an integer >= 0. */
export function checkShape(where: Where, name: string, shape: unknown): readonly number[] {
  if (!isShape(shape)) throw new TypeError(`${label(where)}: ${name} must be a shape (an array of sizes, integers >= 0), got ${show(shape)}`);
  return shape;
}

/** A tensor { data, shape }: data a Float32Array or Float64Array holding exactly the shape's values. */
export function checkTensor(where: Where, name: string, tensor: unknown): Tensor {
  if (typeof tensor !== 'object' || tensor === null || types.isProxy(tensor)) {
    throw new TypeError(`${label(where)}: ${name} must be a tensor { data, shape }, got ${show(tensor)}`);
  }
  const { data, shape } = tensor as { data: unknown; shape: unknown };
  if (!isShape(shape)) checkShape(where, `${name}.shape`, shape);
  if (!types.isFloat32Array(data) && !types.isFloat64Array(data)) {
    throw new TypeError(`${label(where)}: ${name}.data must be a Float32Array or Float64Array, got ${show(data)}`);
  }
  const size = (shape as number[]).reduce((a, b) => a * b, 1);
  if ((data as FloatArray).length !== size) {
    throw new RangeError(`${label(where)}: ${name}.data holds ${(data as FloatArray).length} values, its shape [${(shape as number[]).join(', ')}] ${size}`);
  }
  return tensor as Tensor;
}
