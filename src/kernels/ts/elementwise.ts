/**
 * Elementwise activations and inverted dropout over `length` values (PyTorch's relu, sigmoid, dropout):
 *
 *   reluForward:      y = x < 0 ? 0 : x      (NaN propagates, as torch.relu)
 *   reluBackward:     dx = y > 0 ? dy : 0    (takes the forward's output y, which is what is saved)
 *   sigmoidForward:   y = 1 / (1 + exp(-x))
 *   sigmoidBackward:  dx = dy * y * (1 - y)  (y saved by the forward)
 *   dropoutForward:   mask[i] = keep(seed, i) ? 1 / (1 - p) : 0;  y = x * mask   (mask saved for backward)
 *   dropoutBackward:  dx = dy * mask
 *
 * Dropout's mask is a pure function of (seed, i), bit for bit the same in native/kernels/elementwise.cc:
 *   h = seed ^ (i * 0x9E3779B9 mod 2^32), then murmur3's 32-bit finalizer (fmix32), all in uint32;
 *   keep(seed, i) = h >= floor(p * 2^32)   (the threshold computed once, in double)
 * so P(drop) = floor(p * 2^32) / 2^32 = p to within 2^-32, and p = 0 keeps everything. The scale
 * 1 / (1 - p) is computed in double and rounded to the storage's precision when written to mask; y is then
 * x * mask as stored. The caller draws a fresh seed for every call (one per layer and step).
 */
import type { FloatArray } from '../check.js';

export function reluForward<F extends FloatArray>(y: F, x: F, length: number): void {
  for (let i = 0; i < length; i++) {
    const v = x[i];
    y[i] = v < 0 ? 0 : v;
  }
}

export function reluBackward<F extends FloatArray>(dx: F, dy: F, y: F, length: number): void {
  for (let i = 0; i < length; i++) dx[i] = y[i] > 0 ? dy[i] : 0;
}

export function sigmoidForward<F extends FloatArray>(y: F, x: F, length: number): void {
  for (let i = 0; i < length; i++) y[i] = 1 / (1 + Math.exp(-x[i]));
}

export function sigmoidBackward<F extends FloatArray>(dx: F, dy: F, y: F, length: number): void {
  for (let i = 0; i < length; i++) {
    const s = y[i];
    dx[i] = dy[i] * s * (1 - s);
  }
}

/** murmur3's fmix32 of seed ^ (i * golden ratio), as a uint32. */
function dropoutHash(seed: number, i: number): number {
  let h = seed ^ Math.imul(i, 0x9e3779b9);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export function dropoutForward<F extends FloatArray>(y: F, mask: F, x: F, length: number, p: number, seed: number): void {
  const threshold = Math.floor(p * 4294967296);
  const scale = 1 / (1 - p);
  for (let i = 0; i < length; i++) {
    mask[i] = dropoutHash(seed, i) >= threshold ? scale : 0;
    y[i] = x[i] * mask[i];
  }
}

export function dropoutBackward<F extends FloatArray>(dx: F, dy: F, mask: F, length: number): void {
  for (let i = 0; i < length; i++) dx[i] = dy[i] * mask[i];
}
