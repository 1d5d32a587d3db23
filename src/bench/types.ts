/** What `normnet bench`'s three benchmarks take (how long to measure) and give (one table each). */

export const BENCH_NAMES = ['gemm', 'layers', 'epoch'] as const;
export type BenchName = (typeof BENCH_NAMES)[number];

/** How long to measure: the full settings take a few minutes on 2 cores, the quick ones under a minute. */
export interface BenchSettings {
  /** Samples of each native implementation, and of TS (whose kernels are 10-100× slower). */
  samples: number;
  tsSamples: number;
  /** The epoch benchmark: native epochs timed per CPU path, and TS steps (scaled to an epoch). */
  epochs: number;
  tsSteps: number;
}

export const FULL_SETTINGS: BenchSettings = { samples: 15, tsSamples: 5, epochs: 3, tsSteps: 60 };
export const QUICK_SETTINGS: BenchSettings = { samples: 5, tsSamples: 2, epochs: 1, tsSteps: 10 };

/** One measured thing (a GEMM shape, a layer, an epoch) on every implementation. */
export interface BenchRow {
  label: string;
  /** By implementation name, in the section's unit. */
  values: Record<string, number>;
  /** Native implementations: how many times faster than TS (TS time / native time). */
  speedup: Record<string, number>;
  /** Native implementations: the normwise difference from TS found by the check before timing. */
  check: Record<string, number>;
  /** What the row is, for the JSON: the GEMM's M, N, K, the layer's input shape, ... */
  detail: Record<string, unknown>;
}

export interface BenchSection {
  name: BenchName;
  title: string;
  /** The values' unit, e.g. 'GFLOP/s', 'µs per step', 's/epoch'. */
  unit: string;
  higherIsBetter: boolean;
  /** The check's limit on the normwise difference between native and TS. */
  tolerance: number;
  /** How the values were measured, in a sentence or two. */
  method: string;
  rows: BenchRow[];
}
