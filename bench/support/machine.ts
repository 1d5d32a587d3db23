/**
 * What a benchmark table is measured on: `normnet bench`'s machine (CPU, cores, memory, Node, the backend's CPU
 * path and threads) plus one core's measured FMA peak, from the repository's C probe.
 */
import { execFileSync } from 'node:child_process';
import { benchMachine, machineLine as benchMachineLine, type BenchMachine } from '../../dist/bench/machine.js';
import { buildPeer } from './peers.js';

export interface Machine extends BenchMachine {
  /** One core's measured float32 FMA peak, GFLOP/s, and the vector width the probe used. */
  peakGflops: number;
  peakIsa: string;
}

export function describeMachine(): Machine {
  const peak = execFileSync(buildPeer('peak_flops'), { encoding: 'utf8' }).trim().split(' ');
  return { ...benchMachine(), peakGflops: Number(peak[0]), peakIsa: peak[1] };
}

export function machineLine(m: Machine): string {
  return `${benchMachineLine(m)}; one core's FMA peak ${m.peakGflops.toFixed(1)} GFLOP/s (${m.peakIsa}, bench/peak_flops.c)`;
}
