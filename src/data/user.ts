/**
 * The user's own data as a Dataset: float32 samples in one row-major array with their shape [N, ...] and a
 * class index per sample; and a seeded train/validation split of any Dataset. Batches of float data are the
 * stored values unscaled (scale 1), with the same batch API as the image sets.
 */
import { Random } from '../util/random.js';
import { Dataset } from './dataset.js';
import { permutation } from './shuffle.js';

export interface ArraysInit {
  /** N samples, row-major, as float32. Kept by reference, not copied. */
  x: Float32Array;
  /** [N, ...sampleShape], e.g. [150, 4] or [N, 3, 32, 32]. */
  shape: readonly number[];
  /** A class index per sample. */
  labels: Int32Array | readonly number[];
  /** Number of classes; default the largest label + 1. */
  classes?: number;
  classNames?: readonly string[];
  name?: string;
}

export interface SplitOptions {
  /** The validation share: a fraction in (0, 1) of the samples, or a whole count >= 1; default 0.1. */
  validation?: number;
  /** Seed of the shuffle that picks the validation samples; default 0. */
  seed?: number;
}

/** A Dataset over user arrays; a TypeError or RangeError names the bad argument. */
export function fromArrays(init: ArraysInit): Dataset {
  if (typeof init !== 'object' || init === null) throw new TypeError('fromArrays: expected { x, shape, labels, classes? }');
  const { x, shape, labels } = init;
  if (!(x instanceof Float32Array)) throw new TypeError(`fromArrays: x must be a Float32Array, got ${describe(x)}`);
  if (!Array.isArray(shape) || shape.length < 2) throw new TypeError('fromArrays: shape must be an array [N, ...sampleShape] of at least 2 sizes');
  shape.forEach((d, i) => {
    if (!Number.isInteger(d) || d < 1) throw new RangeError(`fromArrays: shape[${i}] must be an integer >= 1, got ${d}`);
  });
  const N = shape[0];
  const size = shape.reduce((a, b) => a * b, 1);
  if (x.length !== size) throw new RangeError(`fromArrays: shape [${shape.join(', ')}] holds ${size} values, x has ${x.length}`);
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i])) throw new RangeError(`fromArrays: x[${i}] is ${x[i]}; values must be finite`);
  }
  if (!(labels instanceof Int32Array) && !Array.isArray(labels)) throw new TypeError(`fromArrays: labels must be an Int32Array or array of class indices, got ${describe(labels)}`);
  if (labels.length !== N) throw new RangeError(`fromArrays: ${N} samples (shape[0]) but ${labels.length} labels`);
  const classes = init.classes;
  if (classes !== undefined && (!Number.isInteger(classes) || classes < 1)) throw new RangeError(`fromArrays: classes must be an integer >= 1, got ${classes}`);
  const copied = new Int32Array(N);
  let max = -1;
  for (let i = 0; i < N; i++) {
    const label = labels[i];
    if (!Number.isInteger(label) || label < 0 || (classes !== undefined && label >= classes)) {
      throw new RangeError(`fromArrays: labels[${i}] = ${label} is not a class index in [0, ${classes ?? 'classes'})`);
    }
    copied[i] = label;
    if (label > max) max = label;
  }
  if (init.classNames !== undefined && (!Array.isArray(init.classNames) || init.classNames.length !== (classes ?? max + 1))) {
    throw new RangeError(`fromArrays: classNames must name each of the ${classes ?? max + 1} classes`);
  }
  return new Dataset({ x, labels: copied, shape, classes: classes ?? max + 1, classNames: init.classNames, name: init.name ?? 'arrays' });
}

/**
 * Splits a dataset into training and validation parts, picked by a shuffle seeded with `seed`: the same seed
 * gives the same parts. Both share the dataset's stored samples; each part keeps the shuffled order.
 */
export function split(dataset: Dataset, options: SplitOptions = {}): { train: Dataset; validation: Dataset } {
  if (!(dataset instanceof Dataset)) throw new TypeError('split: dataset must be a Dataset');
  const fraction = options.validation ?? 0.1;
  const seed = options.seed ?? 0;
  const N = dataset.length;
  if (typeof fraction !== 'number' || !(fraction > 0) || (fraction >= 1 && !Number.isInteger(fraction))) {
    throw new RangeError(`split: validation must be a fraction in (0, 1) or a whole count >= 1, got ${fraction}`);
  }
  const count = fraction < 1 ? Math.round(N * fraction) : fraction;
  if (count < 1 || count >= N) {
    throw new RangeError(`split: validation ${fraction} of ${N} samples gives ${count} for validation; both parts must hold at least one sample`);
  }
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new RangeError(`split: seed must be an integer in [0, 2^32), got ${seed}`);
  const order = permutation(N, new Random(seed));
  return {
    validation: dataset.subset(order.subarray(0, count), `${dataset.name}/validation`),
    train: dataset.subset(order.subarray(count), `${dataset.name}/train`),
  };
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'object';
  return typeof value;
}
