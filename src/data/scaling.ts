/**
 * Feature scaling: statistics fitted on the training data, then the same transform applied to every set that
 * meets the model (training, test, a resumed run's, `normnet eval`'s), element j of a flattened sample by
 *
 *   x'[n, j] = (x[n, j] - offset[j]) * factor[j]
 *
 *   minmax    offset = min_j,  factor = 1 / (max_j - min_j)       the training range to [0, 1]
 *   standard  offset = mean_j, factor = 1 / std_j                 zero mean, unit population std (as
 *                                                                 scikit-learn's StandardScaler, ddof 0)
 *
 * A constant feature (max_j == min_j) gets factor 0 and so maps to 0, where a division would give NaN. The
 * statistics are plain JSON ({ scale, offset, factor }), kept in float64 and computed in float64; a value is
 * transformed in double and rounded to float32 once, so the same statistics give the same bits wherever they
 * are applied, after a round trip through JSON too.
 */
import { types } from 'node:util';
import { show } from '../util/show.js';

export type ScaleMode = 'none' | 'minmax' | 'standard';

export const SCALE_MODES: readonly ScaleMode[] = Object.freeze(['none', 'minmax', 'standard']);

export interface ScalingStats {
  scale: 'minmax' | 'standard';
  /** One per feature (element of a flattened sample): subtracted first. */
  offset: number[];
  /** One per feature: multiplies the difference. */
  factor: number[];
}

/** The statistics of `x`, (N, featureCount) row-major, for `scale`. */
export function fitScaling(scale: 'minmax' | 'standard', x: Float32Array, featureCount: number): ScalingStats {
  if (scale !== 'minmax' && scale !== 'standard') throw new RangeError(`fitScaling: scale must be 'minmax' or 'standard', got ${show(scale)}`);
  const N = rowCount('fitScaling', x, featureCount);
  if (N === 0) throw new RangeError('fitScaling: x holds no samples to fit');
  const D = featureCount;
  const min = new Float64Array(D).fill(Infinity);
  const max = new Float64Array(D).fill(-Infinity);
  const sum = new Float64Array(D);
  for (let n = 0; n < N; n++) {
    for (let j = 0; j < D; j++) {
      const v = x[n * D + j];
      if (v < min[j]) min[j] = v;
      if (v > max[j]) max[j] = v;
      sum[j] += v;
    }
  }
  const offset: number[] = [];
  const factor: number[] = [];
  if (scale === 'minmax') {
    for (let j = 0; j < D; j++) {
      offset.push(min[j]);
      factor.push(max[j] === min[j] ? 0 : 1 / (max[j] - min[j]));
    }
  } else {
    const mean = sum.map((s) => s / N);
    // The variance from a second pass over the differences: sum(x^2) - N mean^2 loses the small variances.
    const squares = new Float64Array(D);
    for (let n = 0; n < N; n++) {
      for (let j = 0; j < D; j++) {
        const d = x[n * D + j] - mean[j];
        squares[j] += d * d;
      }
    }
    for (let j = 0; j < D; j++) {
      offset.push(mean[j]);
      // Constant by min == max, not by std == 0: the float64 mean of equal float32 values can miss them by an ulp.
      factor.push(max[j] === min[j] ? 0 : 1 / Math.sqrt(squares[j] / N));
    }
  }
  return { scale, offset, factor };
}

/** Scales `x`, (N, featureCount) row-major, in place by `stats`, and returns it. */
export function applyScaling(stats: ScalingStats, x: Float32Array, featureCount: number): Float32Array {
  checkStats(stats, featureCount);
  const N = rowCount('applyScaling', x, featureCount);
  const { offset, factor } = stats;
  const D = featureCount;
  for (let n = 0; n < N; n++) {
    for (let j = 0; j < D; j++) x[n * D + j] = (x[n * D + j] - offset[j]) * factor[j];
  }
  return x;
}

/** Statistics from outside (a checkpoint's JSON) must fit the data before they touch it. */
function checkStats(stats: ScalingStats, featureCount: number): void {
  if (typeof stats !== 'object' || stats === null) throw new TypeError('applyScaling: stats must be { scale, offset, factor }');
  if (stats.scale !== 'minmax' && stats.scale !== 'standard') throw new RangeError(`applyScaling: stats.scale must be 'minmax' or 'standard', got ${show(stats.scale)}`);
  for (const key of ['offset', 'factor'] as const) {
    const values: unknown = stats[key];
    if (!Array.isArray(values) || !values.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      throw new TypeError(`applyScaling: stats.${key} must be an array of finite numbers`);
    }
    if (values.length !== featureCount) {
      throw new RangeError(`applyScaling: stats.${key} has ${values.length} entries (features of the data they were fitted on), the data has ${featureCount} features`);
    }
  }
}

function rowCount(where: string, x: Float32Array, featureCount: number): number {
  if (!types.isFloat32Array(x)) throw new TypeError(`${where}: x must be a Float32Array`);
  if (!Number.isInteger(featureCount) || featureCount < 1) throw new RangeError(`${where}: featureCount must be an integer >= 1, got ${show(featureCount)}`);
  if (x.length % featureCount !== 0) throw new RangeError(`${where}: x holds ${x.length} values, not whole samples of ${featureCount} features`);
  return x.length / featureCount;
}
