/**
 * What a benchmark is measured on: the report's machine (CPU model, cores, memory, Node, normnet's backend and
 * threads) and the native CPU paths this machine can take, from the best detected down to generic.
 */
import { getBackend, nativeAvailable } from '../kernels/backend.js';
import { ISAS, type Isa } from '../kernels/native.js';
import { machineInfo, type MachineInfo } from '../report/machine.js';

export interface BenchMachine extends MachineInfo {
  /** The native CPU paths, best first (empty without the addon). */
  paths: Isa[];
}

/** The native paths from the detected one down to generic, as the tests iterate them; none without the addon. */
export function nativePaths(): Isa[] {
  if (!nativeAvailable()) return [];
  const best = getBackend('native').info().detectedIsa as Isa;
  return ISAS.slice(ISAS.indexOf(best));
}

export function benchMachine(): BenchMachine {
  return { ...machineInfo(nativeAvailable() ? 'native' : 'ts'), paths: nativePaths() };
}

/**
 * One line, e.g. "AMD EPYC, 2 cores, 8 GiB, Node v20.20.2 (linux-x64), normnet 0.1.0, native avx512 (paths avx512,
 * avx2, generic), 2 threads": the path configured now, which the repository's benchmarks run on, and all of them.
 */
export function machineLine(m: BenchMachine): string {
  const backend = m.paths.length ? `native ${m.isa} (paths ${m.paths.join(', ')}), ${m.threads} thread${m.threads === 1 ? '' : 's'}` : 'TS only (no native addon)';
  return `${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node} (${m.platform}), normnet ${m.normnet}, ${backend}`;
}
