/**
 * The check every benchmark makes before it times: native and TS, run on the same inputs, must agree. The
 * difference is normwise, max |native − TS| / max |TS| over an array: entries near zero come from cancellation
 * (a sum of products of either sign), so each error is measured against the array's largest value, not its own.
 * A failed check throws: a benchmark of a wrong result is not a number.
 */

/**
 * The relative 1e-4 within which native and TS agree on the same inputs (DESIGN.md; what the cross-check tests
 * hold), here normwise. A wrong index or a dropped term errs by O(1) of the norm, far beyond it.
 */
export const BENCH_TOLERANCE = 1e-4;

/** Native and TS differ by more than the benchmark's tolerance. */
export class BenchCheckError extends Error {
  override name = 'BenchCheckError';
}

/** max |a − r| / max |r| (the plain max |a − r| when r is all zeros); a NaN anywhere gives NaN (Math.max keeps it), which fails any check. */
export function normwiseDifference(a: ArrayLike<number>, r: ArrayLike<number>): number {
  if (a.length !== r.length) throw new RangeError(`normwiseDifference: lengths ${a.length} and ${r.length}`);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < r.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - r[i]));
    scale = Math.max(scale, Math.abs(r[i]));
  }
  return scale === 0 ? diff : diff / scale;
}

/**
 * The worst normwise difference over pairs of arrays (named, e.g. 'output', 'input gradient'), each checked
 * against BENCH_TOLERANCE; throws a BenchCheckError naming the first pair beyond it.
 */
export function checkAgreement(what: string, pairs: readonly [name: string, native: ArrayLike<number>, ts: ArrayLike<number>][]): number {
  let worst = 0;
  for (const [name, native, ts] of pairs) {
    const difference = normwiseDifference(native, ts);
    if (!(difference <= BENCH_TOLERANCE)) {
      throw new BenchCheckError(`${what}: native and TS ${name} differ by ${difference.toExponential(2)} of max |TS| (tolerance ${BENCH_TOLERANCE})`);
    }
    worst = Math.max(worst, difference);
  }
  return worst;
}
