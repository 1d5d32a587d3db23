/**
 * Timing helpers of `normnet bench` and the repository's benchmarks (bench/): medians of repeated samples, each
 * sample long enough to rise above timer noise, and the order statistics the benchmarks' verdicts rest on.
 */
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

/** One entry of timeInterleaved: what a call is, how many samples it gets, and how to set the runtime up for it. */
export interface Timed {
  run(): void;
  samples: number;
  /** Called before each of the entry's samples (and before counting its calls): e.g. the CPU path or thread count it runs with. */
  select?(): void;
}

/**
 * Seconds per call of each entry, a figure per sample. Samples are interleaved, one of each entry a round, so
 * that a change in the machine's load falls on all of them alike (sample i of two entries with as many samples
 * makes a pair); entries with fewer samples (the slow TS kernels) drop out of the later rounds. Each sample is as
 * many calls as make about `targetSeconds`; the call that counts them is the entry's warm-up, so run each entry
 * once beforehand (its check) to warm its buffers and the JIT.
 */
export function sampleInterleaved(entries: Record<string, Timed>, targetSeconds: number): Record<string, number[]> {
  const names = Object.keys(entries);
  const calls: Record<string, number> = {};
  for (const name of names) {
    entries[name].select?.();
    calls[name] = callsFor(entries[name].run, targetSeconds);
  }
  const times: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  const rounds = Math.max(...names.map((n) => entries[n].samples));
  for (let round = 0; round < rounds; round++) {
    for (const name of names) {
      const { run, samples, select } = entries[name];
      if (round >= samples) continue;
      select?.();
      const t0 = performance.now();
      for (let c = 0; c < calls[name]; c++) run();
      times[name].push((performance.now() - t0) / 1000 / calls[name]);
    }
  }
  return times;
}

/** Median seconds per call of each entry, from sampleInterleaved. */
export function timeInterleaved(entries: Record<string, Timed>, targetSeconds: number): Record<string, number> {
  return Object.fromEntries(Object.entries(sampleInterleaved(entries, targetSeconds)).map(([n, t]) => [n, median(t)]));
}

/** How far a peer's figure may stray before it is not scored: no load spike this large goes unnoticed, and no CPU loses or gains that much to a second core. */
export const PEER_DOUBT_FACTOR = 3;

/**
 * Why a peer's timing cannot stand in a verdict, if it cannot: one of its rounds (separate processes, or
 * consecutive thirds of its samples) took over 3× the median of its other rounds (a load spike of the shared
 * machine hit it), or it took over 3× as long as the same configuration at the other thread count (the slower
 * of the two is the implausible one). One run of bench:epoch once printed PyTorch 2T at 101 s an epoch, 100×
 * its usual value, and scored it a pass.
 */
export function peerDoubt(label: string, rounds: number[], other?: { label: string; seconds: number }): string | undefined {
  for (let i = 0; i < rounds.length && rounds.length > 1; i++) {
    const rest = median(rounds.filter((_, j) => j !== i));
    if (rounds[i] > PEER_DOUBT_FACTOR * rest) {
      return `${label}'s round ${i + 1} took ${(rounds[i] / rest).toFixed(1)}× its other rounds (${rounds.map((x) => x.toPrecision(3)).join(', ')} s)`;
    }
  }
  const seconds = median(rounds);
  if (other && seconds > PEER_DOUBT_FACTOR * other.seconds) {
    return `${label} took ${(seconds / other.seconds).toFixed(2)}× the time of ${other.label}`;
  }
  return undefined;
}

/** A sample's consecutive thirds' medians: the rounds of a single process's samples, for peerDoubt. */
export function thirds(samples: number[]): number[] {
  if (samples.length < 3) return samples;
  const n = samples.length;
  return [0, 1, 2].map((t) => median(samples.slice(Math.floor((n * t) / 3), Math.floor((n * (t + 1)) / 3))));
}
