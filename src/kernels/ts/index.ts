/** The TypeScript kernels: the spec the native ones are held against, and the fallback where no addon loads. */
import type { Kernels } from '../kernels.js';
import { gemm } from './gemm.js';

export const tsKernels: Kernels = { gemm };
