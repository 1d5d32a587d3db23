/** What a benchmark table is measured on: CPU, cores, memory, Node, the backend's CPU path, the FMA peak. */
import { execFileSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { getBackend } from '../../dist/index.js';
import { buildPeer } from './peers.js';

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  isa: string;
  /** One core's measured float32 FMA peak, GFLOP/s, and the vector width the probe used. */
  peakGflops: number;
  peakIsa: string;
}

export function describeMachine(): Machine {
  const peak = execFileSync(buildPeer('peak_flops'), { encoding: 'utf8' }).trim().split(' ');
  const native = getBackend().info();
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    isa: `${native.backend} ${native.isa}`,
    peakGflops: Number(peak[0]),
    peakIsa: peak[1],
  };
}

export function machineLine(m: Machine): string {
  return `${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node}, normnet ${m.isa}; ` +
    `one core's FMA peak ${m.peakGflops.toFixed(1)} GFLOP/s (${m.peakIsa}, bench/peak_flops.c)`;
}
