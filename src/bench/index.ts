/**
 * runBench(options): `normnet bench` as a function. Times the native kernels on each CPU path this machine has
 * (from the best detected down to generic; none without the addon) against the TypeScript kernels, on GEMM
 * shapes, on the layers of the seeds' MLP and CNN, and on an epoch of the seeds' MLP. Every benchmark checks
 * native against TS on the same inputs before it times them, and throws a BenchCheckError when they differ. With
 * `out` it writes there bench.json, a chart per benchmark (SVG and PNG) and bench.html.
 */
import { mkdirSync } from 'node:fs';
import { checkPath, type PathLike } from '../util/path.js';
import { show } from '../util/show.js';
import { version } from '../version.js';
import { benchEpoch } from './epoch.js';
import { benchGemm } from './gemm.js';
import { benchImplementations, currentRuntime, select } from './implementations.js';
import { benchLayers } from './layers.js';
import { benchMachine, type BenchMachine } from './machine.js';
import { writeBenchReport } from './report.js';
import { BENCH_NAMES, FULL_SETTINGS, QUICK_SETTINGS, type BenchName, type BenchSection, type BenchSettings } from './types.js';

export { BENCH_NAMES, type BenchName, type BenchSection, type BenchRow, type BenchSettings } from './types.js';
export { BenchCheckError, BENCH_TOLERANCE } from './check.js';
export type { BenchMachine } from './machine.js';

export interface BenchOptions {
  /** Which benchmarks, run in the order of BENCH_NAMES (default all three). */
  benches?: readonly BenchName[];
  /** Fewer samples and TS steps: under a minute on 2 cores, against a few minutes. */
  quick?: boolean;
  /** A directory for bench.json, the charts and bench.html; nothing is written without it. */
  out?: PathLike;
  /** Called as each thing starts being measured, with a short description. */
  onProgress?: (line: string) => void;
  /** The command line that ran it, for the report. */
  command?: string;
}

export interface BenchResult {
  normnet: string;
  quick: boolean;
  machine: BenchMachine;
  /** The implementations' names, as the sections' values are keyed: 'native <path>' for each path, then 'TS'. */
  implementations: string[];
  settings: BenchSettings;
  /** By benchmark, those that were run. */
  results: Partial<Record<BenchName, BenchSection>>;
  seconds: number;
  /** bench.html's path (with `out`). */
  report?: string;
}

export async function runBench(options: BenchOptions = {}): Promise<BenchResult> {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw new TypeError(`runBench: options must be an object, got ${show(options)}`);
  const wanted = options.benches ?? BENCH_NAMES;
  if (!Array.isArray(wanted)) throw new TypeError(`runBench: benches must be an array of benchmark names (of ${BENCH_NAMES.join(', ')}), got ${show(wanted)}`);
  // findIndex, not find: an undefined in the list (or a hole) is an unknown benchmark too.
  const unknown = wanted.findIndex((name) => !BENCH_NAMES.includes(name));
  if (unknown >= 0) throw new RangeError(`runBench: unknown benchmark '${show(wanted[unknown])}' (one of ${BENCH_NAMES.join(', ')})`);
  if (options.quick !== undefined && typeof options.quick !== 'boolean') throw new TypeError(`runBench: quick must be true or false, got ${show(options.quick)}`);
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function') throw new TypeError(`runBench: onProgress must be a function, got ${show(options.onProgress)}`);
  if (options.command !== undefined && typeof options.command !== 'string') throw new TypeError(`runBench: command must be a string, got ${show(options.command)}`);
  // Checked before the benchmarks run, not after minutes of timing.
  const out = options.out === undefined ? undefined : checkPath(options.out, 'runBench: out');
  const quick = options.quick ?? false;
  const settings = quick ? QUICK_SETTINGS : FULL_SETTINGS;
  const progress = options.onProgress ?? (() => {});
  const started = performance.now();
  const machine = benchMachine();
  const impls = benchImplementations();
  const results: BenchResult['results'] = {};
  // Each benchmark switches the CPU path; the caller's is put back, whatever happens.
  const runtime = currentRuntime();
  try {
    for (const name of BENCH_NAMES.filter((n) => wanted.includes(n))) {
      results[name] = name === 'gemm' ? benchGemm(impls, settings, progress)
        : name === 'layers' ? benchLayers(impls, settings, progress) : await benchEpoch(impls, settings, progress);
    }
  } finally {
    if (runtime) select(runtime);
  }
  const result: BenchResult = {
    normnet: version, quick, machine, implementations: Object.keys(impls), settings, results, seconds: (performance.now() - started) / 1000,
  };
  if (out !== undefined) {
    mkdirSync(out, { recursive: true });
    progress('charts and report');
    const { report } = await writeBenchReport(out, {
      machine, sections: Object.values(results), data: result, command: options.command, seconds: result.seconds,
      config: { benchmarks: Object.keys(results).join(', '), quick, implementations: result.implementations.join(', '), ...settings },
    });
    result.report = report;
  }
  return result;
}
