import { describe, expect, it } from 'vitest';
import { median, medianInterval, peerDoubt, quantile, thirds } from '../src/bench/stats.js';

// The benchmarks' verdicts ("2 threads not slower than 1") rest on these.
describe('bench statistics', () => {
  const oneTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

  it('quantile interpolates between ranks, in any input order', () => {
    const values = oneTo(9).reverse();
    expect(quantile(values, 0)).toBe(1);
    expect(quantile(values, 0.25)).toBe(3);
    expect(quantile(values, 0.5)).toBe(median(values));
    expect(quantile(values, 1)).toBe(9);
    expect(quantile([1, 2], 0.5)).toBe(1.5);
  });

  it('medianInterval brackets the median with the order statistics n/2 ∓ 0.98·√n', () => {
    // n = 100: ranks 50 ∓ 9.8 → the 40th and 60th values.
    expect(medianInterval(oneTo(100).reverse())).toEqual([40, 60]);
    expect(medianInterval([5])).toEqual([5, 5]);
    const [lo, hi] = medianInterval([3, 1, 2]);
    expect(lo).toBe(1);
    expect(hi).toBe(3);
  });

  it('medianInterval covers the true median about 95% of the time', () => {
    let seed = 12345;
    const uniform = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    let covered = 0;
    const trials = 2000;
    for (let t = 0; t < trials; t++) {
      const [lo, hi] = medianInterval(Array.from({ length: 48 }, uniform));
      if (lo <= 0.5 && 0.5 <= hi) covered++;
    }
    expect(covered / trials).toBeGreaterThan(0.93);
    expect(covered / trials).toBeLessThan(0.99);
  });

  it('peerDoubt refuses a peer round over 3× its others, or a thread count over 3× slower than the other', () => {
    // The run that printed PyTorch 2T at 101 s an epoch against ~0.7 s: refused either way.
    expect(peerDoubt('PyTorch 2T', [0.7, 101, 0.72])).toMatch(/round 2 took 142\.3× its other rounds/);
    expect(peerDoubt('PyTorch 2T', [101, 100], { label: 'PyTorch 1T', seconds: 0.7 })).toMatch(/took 143\.57× the time of PyTorch 1T/);
    expect(peerDoubt('PyTorch 1T', [2.2], { label: 'PyTorch 2T', seconds: 0.7 })).toMatch(/3\.14×/);
    // The faster of the two is not the implausible one (PyTorch 2T with a pthread OpenBLAS under OpenMP: 3.8 s).
    expect(peerDoubt('PyTorch 1T', [0.58], { label: 'PyTorch 2T', seconds: 3.82 })).toBeUndefined();
    // Ordinary noise and a second core that pays (or costs) less than 3× are scored.
    expect(peerDoubt('PyTorch 2T', [0.7, 1.9, 0.72], { label: 'PyTorch 1T', seconds: 1.3 })).toBeUndefined();
    expect(peerDoubt('OpenBLAS 2T', [1], { label: 'OpenBLAS 1T', seconds: 2.9 })).toBeUndefined();
    expect(peerDoubt('one', [5])).toBeUndefined();
  });

  it('thirds gives the medians of a sample\'s consecutive thirds', () => {
    expect(thirds([1, 2, 3, 10, 11, 12, 100, 101, 102])).toEqual([2, 11, 101]);
    expect(thirds([4, 5])).toEqual([4, 5]);
  });
});
