/**
 * `normnet bench [gemm|layers|epoch]... [--quick] [--json] [--out DIR]`: runBench (src/bench/) from the command
 * line. Prints the machine and a table per benchmark (with --json, one JSON object on stdout and nothing else
 * there), and writes bench.json, the charts and bench.html to --out. Progress goes to stderr. Misuse exits 2 with
 * one line; a failed check (native and TS differ) is an error, exit 1.
 */
import { join, resolve } from 'node:path';
import { BENCH_NAMES, runBench, type BenchName, type BenchResult } from '../bench/index.js';
import { machineLine } from '../bench/machine.js';
import { sectionTable } from '../bench/report.js';
import type { ReportTable } from '../report/report.js';
import { UsageError } from './options.js';
import { ensureWritable } from './train.js';

export const BENCH_USAGE = `Usage: normnet bench [gemm|layers|epoch]... [--quick] [--json] [--out DIR]

Times normnet's native kernels on each CPU path this machine has (avx512, avx2, generic: from the best it
detects down) against its TypeScript kernels (only TS when the native addon is not available). Each result is
checked against TS on the same inputs before it is timed; a difference beyond 1e-4 is an error.

Benchmarks (default: all three):
  gemm      GFLOP/s of 512³ and of the MLP's and CNN's training products
  layers    forward + backward of each layer of the MLP and CNN presets, each alone in a Sequential
  epoch     seconds per epoch of the MLP 784-100×5-10 (ReLU, He, BatchNorm, SGD 0.01, batch 100) on MNIST;
            TS trains a fixed number of steps, scaled to an epoch

Options:
  --quick       fewer samples and TS steps: under a minute on 2 cores (a few minutes without)
  --json        print one JSON object of all results on stdout, and nothing else there
  --out DIR     write bench.json, the charts (SVG, PNG) and bench.html there (default runs/bench-<time>)
  --help        print this help`;

interface BenchArgs { benches: BenchName[]; quick: boolean; json: boolean; out?: string }

function parseArgs(args: readonly string[]): BenchArgs {
  const parsed: BenchArgs = { benches: [], quick: false, json: false };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--quick') {
      parsed.quick = true;
    } else if (arg === '--json') {
      parsed.json = true;
    } else if (arg === '--out' || arg.startsWith('--out=')) {
      const value = arg === '--out' ? args[++i] : arg.slice('--out='.length);
      if (!value || value.startsWith('--')) throw new UsageError('--out needs a value');
      parsed.out = value;
    } else if (arg.startsWith('-')) {
      throw new UsageError(`unknown option for bench: ${arg}`);
    } else if ((BENCH_NAMES as readonly string[]).includes(arg)) {
      parsed.benches.push(arg as BenchName);
    } else {
      throw new UsageError(`unknown benchmark: ${arg} (one of ${BENCH_NAMES.join(', ')})`);
    }
  }
  return parsed;
}

/** A table as aligned text: the first column left-aligned, the numbers right-aligned. */
function textTable(table: ReportTable): string {
  const cells = [table.columns, ...table.rows.map((row) => row.map((c) => (c === null ? '–' : typeof c === 'object' ? c.text : String(c))))];
  const widths = table.columns.map((_, j) => Math.max(...cells.map((row) => row[j].length)));
  return cells.map((row) => row.map((c, j) => (j === 0 ? c.padEnd(widths[j]) : c.padStart(widths[j]))).join('  ').trimEnd()).join('\n');
}

function printResult(result: BenchResult): void {
  console.log(`normnet bench${result.quick ? ' --quick' : ''}: ${machineLine(result.machine)}`);
  for (const section of Object.values(result.results)) {
    const table = sectionTable(section);
    console.log(`\n${table.caption}\n\n${textTable(table)}`);
  }
}

export async function benchCommand(args: string[]): Promise<number> {
  if (args.includes('--help')) {
    console.log(BENCH_USAGE);
    return 0;
  }
  const { benches, quick, json, out } = parseArgs(args);
  const outDir = resolve(out ?? join('runs', `bench-${new Date().toISOString().replace(/[:.]/g, '-')}`));
  ensureWritable(outDir);
  // Progress on stderr: always beside the text tables, and with --json only on a terminal.
  const showProgress = !json || process.stderr.isTTY === true;
  const result = await runBench({
    benches: benches.length ? benches : undefined, quick, out: outDir, command: `normnet bench ${args.join(' ')}`.trimEnd(),
    onProgress: showProgress ? (line) => process.stderr.write(`bench: ${line}\n`) : undefined,
  });
  if (json) {
    console.log(JSON.stringify(result));
  } else {
    printResult(result);
    console.log(`\n${result.seconds.toFixed(0)} s; wrote ${result.report} with its charts and bench.json`);
  }
  return 0;
}
