/**
 * The implementations a benchmark runs, as one map from name to implementation (every trial runs once per
 * entry): the native kernels on a CPU path and/or a thread count, and the TS kernels. `select` sets the native
 * runtime up for one before it runs; `timed` wraps a call of it for timeInterleaved.
 */
import { configure, getBackend, type BackendName } from '../kernels/backend.js';
import type { Isa } from '../kernels/native.js';
import { nativePaths } from './machine.js';
import type { Timed } from './stats.js';

export interface Implementation {
  backend: BackendName;
  /** Native only: the CPU path and the thread count it runs with (default: as configured). */
  isa?: Isa;
  threads?: number;
}

/** The TS kernels' name in every table and map. */
export const TS = 'TS';

/** `normnet bench`'s map: 'native <path>' for each CPU path of this machine, best first, then TS. */
export function benchImplementations(): Record<string, Implementation> {
  return {
    ...Object.fromEntries(nativePaths().map((isa) => [`native ${isa}`, { backend: 'native', isa } as Implementation])),
    [TS]: { backend: 'ts' },
  };
}

/** Configures the native runtime for `impl` (nothing for TS). */
export function select(impl: Implementation): void {
  if (impl.backend === 'native' && (impl.isa !== undefined || impl.threads !== undefined)) configure({ isa: impl.isa, threads: impl.threads });
}

/** The native runtime's CPU path and threads now, to put back with `select` when a benchmark is done. */
export function currentRuntime(): Implementation | undefined {
  const paths = nativePaths();
  if (paths.length === 0) return undefined;
  const { isa, threads } = getBackend('native').info();
  return { backend: 'native', isa: isa as Isa, threads };
}

/**
 * `run` of `impl` as a timeInterleaved entry, its runtime selected before each sample. An entry with a thread
 * count runs once more, untimed, after selecting it: resizing the pool stops its workers, and the call restarts
 * them. A CPU path is a switch of function pointers and needs nothing.
 */
export function timed(impl: Implementation, run: () => void, samples: number): Timed {
  if (impl.backend === 'ts') return { run, samples };
  return {
    run, samples,
    select: () => {
      select(impl);
      if (impl.threads !== undefined) run();
    },
  };
}

/** For each native entry of `values`, how many times faster it is than TS (values in GFLOP/s or in seconds). */
export function speedupOverTs(values: Record<string, number>, higherIsBetter: boolean): Record<string, number> {
  const ts = values[TS];
  return Object.fromEntries(Object.entries(values).filter(([name]) => name !== TS).map(([name, v]) => [name, higherIsBetter ? v / ts : ts / v]));
}
