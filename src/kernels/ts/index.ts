/**
 * The TypeScript kernels: the spec the native ones are held against, and the fallback where no addon loads.
 * Generic over Float32Array and Float64Array storage (float64 serves the gradient checks).
 */
import type { FloatArray } from '../check.js';
import type { Kernels } from '../kernels.js';
import * as batchnorm from './batchnorm.js';
import * as batchnormPool from './batchnorm-pool.js';
import * as conv from './conv.js';
import * as elementwise from './elementwise.js';
import { gatherScale, prefetchRows } from './gather.js';
import { gemm } from './gemm.js';
import * as linear from './linear.js';
import * as loss from './loss.js';
import * as optim from './optim.js';
import * as pool from './pool.js';

export const tsKernels: Kernels<FloatArray> = {
  gemm,
  ...linear,
  ...batchnorm,
  ...batchnormPool,
  ...conv,
  ...pool,
  ...elementwise,
  ...loss,
  ...optim,
  gatherScale,
  prefetchRows,
};
