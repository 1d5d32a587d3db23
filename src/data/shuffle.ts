/**
 * A random order of 0..N-1: Fisher–Yates (Durstenfeld's in-place form, Knuth TAOCP vol. 2, 3.4.2 Algorithm P)
 * over an Int32Array, drawing from the seeded Random, so an epoch's order depends only on the generator's
 * state: the same seed gives the same orders, on every machine.
 */
import type { Random } from '../util/random.js';
import { types } from 'node:util';
import { show } from '../util/show.js';

/** Fills `out` (or a new Int32Array of N) with a random permutation of 0..N-1 and returns it. */
export function permutation(N: number, random: Random, out?: Int32Array): Int32Array {
  if (!Number.isInteger(N) || N < 0 || N > 0x7fffffff) throw new RangeError(`permutation: N must be an integer in [0, 2^31), got ${show(N)}`);
  if (typeof (random as Partial<Random> | null)?.below !== 'function') throw new TypeError(`permutation: random must be a Random, got ${show(random)}`);
  if (out !== undefined && (!types.isInt32Array(out) || out.length !== N)) {
    throw new RangeError(`permutation: out must be an Int32Array of length N = ${N}`);
  }
  const order = out ?? new Int32Array(N);
  for (let i = 0; i < N; i++) order[i] = i; // start from the identity each time: the order is a function of the generator only
  for (let i = N - 1; i > 0; i--) {
    const j = random.below(i + 1);
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  return order;
}
