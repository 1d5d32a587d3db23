/** Timing helpers: medians of repeated samples, each sample long enough to rise above timer noise. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The q-quantile of values (0 ≤ q ≤ 1), interpolated between the two nearest ranks. */
export function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const at = q * (sorted.length - 1);
  const lo = Math.floor(at);
  return lo + 1 < sorted.length ? sorted[lo] + (at - lo) * (sorted[lo + 1] - sorted[lo]) : sorted[lo];
}

/**
 * A distribution-free 95% confidence interval of the median: the order statistics n/2 ∓ 0.98·√n (1-based),
 * clamped to the sample.
 */
export function medianInterval(values: number[]): [number, number] {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  const half = 0.98 * Math.sqrt(n);
  const lo = Math.max(0, Math.floor(n / 2 - half) - 1);
  const hi = Math.min(n - 1, Math.ceil(n / 2 + half) - 1);
  return [sorted[lo], sorted[hi]];
}

/** Median seconds per call of `fn` over `samples` samples of `calls` calls each, after one warm-up sample. */
export function timeCalls(fn: () => void, samples: number, calls: number): number {
  const times: number[] = [];
  for (let s = -1; s < samples; s++) {
    const t0 = performance.now();
    for (let c = 0; c < calls; c++) fn();
    if (s >= 0) times.push((performance.now() - t0) / 1000 / calls);
  }
  return median(times);
}

/** How many calls make a sample of about `targetSeconds`, from one timed call. */
export function callsFor(fn: () => void, targetSeconds: number): number {
  const t0 = performance.now();
  fn();
  const seconds = (performance.now() - t0) / 1000;
  return Math.max(1, Math.min(10_000, Math.round(targetSeconds / Math.max(seconds, 1e-7))));
}
