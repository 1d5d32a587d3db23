/** What a run was computed on, for its report and data files: CPU, cores, memory, Node, normnet's backend. */
import { cpus, totalmem } from 'node:os';
import { getBackend, type BackendChoice } from '../kernels/backend.js';
import { version } from '../version.js';

export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  platform: string;
  normnet: string;
  backend: string;
  isa: string;
  threads: number;
}

export function machineInfo(backend: BackendChoice = 'auto'): MachineInfo {
  const info = getBackend(backend).info();
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    normnet: version,
    backend: info.backend,
    isa: info.isa,
    threads: info.threads,
  };
}
