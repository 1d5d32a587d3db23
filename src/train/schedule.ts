/**
 * Learning-rate schedules: the factor of the optimizer's base rate at each step of a run. The trainer sets
 * `optimizer.lr = baseLr * factor` before every step, from the step's position alone, so a resumed run follows
 * the same rates as an uninterrupted one.
 *
 *   constant  1 throughout.
 *   cosine    (1 + cos(pi * t / T)) / 2 at step t of T (from 0): torch's CosineAnnealingLR with eta_min 0 and
 *             T_max the run's step count, stepped after every batch.
 */
import { show } from '../util/show.js';

export const SCHEDULES = ['constant', 'cosine'] as const;
export type Schedule = (typeof SCHEDULES)[number];

export function scheduleFactor(schedule: Schedule, step: number, steps: number): number {
  if (!(SCHEDULES as readonly unknown[]).includes(schedule)) throw new RangeError(`scheduleFactor: schedule must be one of ${SCHEDULES.join(', ')}, got ${show(schedule)}`);
  if (!Number.isSafeInteger(steps) || steps < 1) throw new RangeError(`scheduleFactor: steps must be a positive integer, got ${show(steps)}`);
  if (!Number.isSafeInteger(step) || step < 0 || step > steps) throw new RangeError(`scheduleFactor: step must be an integer in [0, steps], got ${show(step)}`);
  switch (schedule) {
    case 'constant':
      return 1;
    case 'cosine':
      return (1 + Math.cos((Math.PI * step) / steps)) / 2;
  }
}
