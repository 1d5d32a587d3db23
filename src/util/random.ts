/**
 * The seeded generator behind every random choice normnet makes (initialisation, shuffling, dropout seeds):
 * xoshiro128** (Blackman & Vigna), 32-bit state words so it is exact in JS. The same seed gives the same
 * sequence on every machine; `state()` / `Random.fromState()` carry it through a checkpoint.
 */
import { show } from './show.js';

export class Random {
  private s: Uint32Array;

  constructor(seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new RangeError(`seed must be an integer in [0, 2^32), got ${show(seed)}`);
    }
    // splitmix32 spreads the seed over the four state words (never all zero).
    this.s = new Uint32Array(4);
    let z = seed >>> 0;
    for (let i = 0; i < 4; i++) {
      z = (z + 0x9e3779b9) >>> 0;
      let t = z;
      t = Math.imul(t ^ (t >>> 16), 0x85ebca6b);
      t = Math.imul(t ^ (t >>> 13), 0xc2b2ae35);
      this.s[i] = (t ^ (t >>> 16)) >>> 0;
    }
  }

  static fromState(state: readonly number[]): Random {
    if (!Array.isArray(state) || state.length !== 4 || !state.every((v) => Number.isInteger(v) && v >= 0 && v <= 0xffffffff) || state.every((v) => v === 0)) {
      throw new RangeError('random state must be four 32-bit unsigned integers, not all zero');
    }
    const random = new Random(0);
    random.s.set(state);
    return random;
  }

  state(): number[] {
    return Array.from(this.s);
  }

  /** Rewinds or forwards the generator to a state taken with `state()`. */
  setState(state: readonly number[]): void {
    this.s.set(Random.fromState(state).s);
  }

  /** A uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform in [0, 1), with 53 random bits. */
  uniform(): number {
    return (this.nextUint32() * 2 ** 21 + (this.nextUint32() >>> 11)) / 2 ** 53;
  }

  /** Standard normal, by Box-Muller. */
  normal(): number {
    const u = 1 - this.uniform(); // (0, 1]: log(u) is finite
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.uniform());
  }

  /** A uniform integer in [0, n). */
  below(n: number): number {
    if (!(Number.isSafeInteger(n) && n > 0)) throw new RangeError(`Random.below: n must be an integer >= 1, got ${show(n)}`);
    return Math.floor(this.uniform() * n);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
