/**
 * `normnet bench` as a user runs it (the built CLI in a child process): its JSON, its tables, the files it writes
 * (bench.html with its charts embedded), its help, and one line for every misuse. --quick throughout, so the
 * whole file stays under a minute on 2 cores.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nativePaths } from '../src/bench/machine.js';

const cli = new URL('../dist/cli/main.js', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'normnet-bench-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function normnet(args: string[]) {
  const run = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 120_000, cwd: work });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

// What this machine should be benchmarked on: each native CPU path from the best detected down, then TS.
const paths = nativePaths();
if (process.env.REQUIRE_NATIVE === '1' && paths.length === 0) throw new Error('REQUIRE_NATIVE=1 but the native addon does not load');
const implementations = [...paths.map((p) => `native ${p}`), 'TS'];
const natives = implementations.slice(0, -1);

interface Row { label: string; values: Record<string, number>; speedup: Record<string, number>; check: Record<string, number>; detail: Record<string, unknown> }
interface Section { name: string; unit: string; tolerance: number; rows: Row[] }
interface Result {
  quick: boolean;
  machine: { cpu: string; cores: number; node: string; paths: string[] };
  implementations: string[];
  results: Record<string, Section>;
  report: string;
}

/** Every row has a positive value for each implementation, a speedup over TS and a passed check for each native one. */
function expectSection(section: Section, rows: number): void {
  expect(section.rows).toHaveLength(rows);
  for (const row of section.rows) {
    expect(Object.keys(row.values), row.label).toEqual(implementations);
    for (const name of implementations) expect(row.values[name], `${row.label} ${name}`).toBeGreaterThan(0);
    expect(Object.keys(row.speedup).sort()).toEqual([...natives].sort());
    for (const name of natives) {
      expect(row.speedup[name]).toBeCloseTo(section.name === 'gemm' ? row.values[name] / row.values.TS : row.values.TS / row.values[name], 6);
      expect(row.check[name], `${row.label} ${name}`).toBeGreaterThanOrEqual(0);
      expect(row.check[name], `${row.label} ${name}`).toBeLessThanOrEqual(section.tolerance);
    }
  }
}

/** bench.html exists and embeds each chart's SVG (as the report's data: URI), and the chart files sit beside it. */
function expectReport(dir: string, charts: string[]): void {
  const html = readFileSync(join(dir, 'bench.html'), 'utf8');
  const images = [...html.matchAll(/<img src="data:image\/svg\+xml;base64,([^"]+)"/g)].map((m) => Buffer.from(m[1], 'base64').toString('utf8'));
  expect(images).toHaveLength(charts.length);
  for (const [i, name] of charts.entries()) {
    expect(images[i]).toMatch(/^<svg[^>]*>/);
    expect(images[i]).toBe(readFileSync(join(dir, `bench-${name}.svg`), 'utf8'));
    expect(existsSync(join(dir, `bench-${name}.png`))).toBe(true);
  }
}

describe('normnet bench', () => {
  it('gemm --quick --json: one JSON object on stdout with every path, a ratio and a passed check per shape; writes bench.html', () => {
    const out = join(work, 'gemm');
    const run = normnet(['bench', 'gemm', '--quick', '--json', '--out', out]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const result = JSON.parse(run.stdout) as Result;
    expect(result.quick).toBe(true);
    expect(result.machine.paths).toEqual(paths);
    expect(result.machine.cores).toBeGreaterThan(0);
    expect(result.machine.node).toBe(process.version);
    expect(result.implementations).toEqual(implementations);
    expect(Object.keys(result.results)).toEqual(['gemm']);
    expectSection(result.results.gemm, 7);
    expect(result.results.gemm.rows[0].detail).toMatchObject({ M: 512, N: 512, K: 512 });
    expect(result.report).toBe(join(out, 'bench.html'));
    expectReport(out, ['gemm']);
    const { report, ...data } = result;
    expect(report).toBeDefined();
    expect(JSON.parse(readFileSync(join(out, 'bench.json'), 'utf8'))).toEqual(data);
  });

  it('with no benchmark named runs all three: a table each, with the machine; the JSON and the report hold them all', () => {
    const out = join(work, 'all');
    const run = normnet(['bench', '--quick', '--out', out]);
    expect(run.status).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toMatch(/^normnet bench --quick: .+, \d+ cores, .*Node v\d+/);
    if (paths.length) expect(lines[0]).toContain(`paths ${paths.join(', ')}`);
    for (const title of ['GEMM: GFLOP/s', 'Layers: µs per step', 'Epoch: s/epoch']) expect(run.stdout).toContain(title);
    // A header row with every implementation, and the rows under it.
    expect(run.stdout).toMatch(new RegExp(`^shape +${implementations.join(' +')}`, 'm'));
    expect(run.stdout).toMatch(/^512³ +\d/m);
    expect(run.stdout).toMatch(/^CNN Conv2d\(20, 50, 3\) \(256,20,12,12\) +\d/m);
    expect(run.stdout).toMatch(/^MLP 784-100×5-10 .* +\d/m);
    expect(run.stdout).toMatch(new RegExp(`wrote ${out}/bench.html`));
    const data = JSON.parse(readFileSync(join(out, 'bench.json'), 'utf8')) as Result;
    expect(Object.keys(data.results)).toEqual(['gemm', 'layers', 'epoch']);
    expectSection(data.results.gemm, 7);
    expectSection(data.results.layers, 17 + 2); // the layers, then the MLP's and the CNN's totals
    expectSection(data.results.epoch, 1);
    expect(data.results.epoch.rows[0].detail).toMatchObject({ stepsPerEpoch: 600 });
    expectReport(out, ['gemm', 'layers', 'epoch']);
  }, 120_000); // ~20 s on a quiet 2-core machine, twice that beside other work

  it('prints its help, and is listed in normnet --help', () => {
    const help = normnet(['bench', '--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^Usage: normnet bench \[gemm\|layers\|epoch\]\.\.\. \[--quick\] \[--json\] \[--out DIR\]$/m);
    for (const flag of ['--quick', '--json', '--out DIR']) expect(help.stdout).toMatch(new RegExp(`^  ${flag} +\\S`, 'm'));
    expect(help.stdout).toContain('default runs/bench-<time>');
    expect(normnet(['--help']).stdout).toMatch(/^  bench \[BENCHMARK\] +\S/m);
  });

  it('rejects an unknown benchmark, an unknown option and a missing value with one line and exit code 2', () => {
    const cases: [string[], string][] = [
      [['bench', 'convolutions'], 'normnet: unknown benchmark: convolutions (one of gemm, layers, epoch) (see normnet --help)\n'],
      [['bench', 'gemm', '--fast'], 'normnet: unknown option for bench: --fast (see normnet --help)\n'],
      [['bench', '--out'], 'normnet: --out needs a value (see normnet --help)\n'],
    ];
    for (const [args, stderr] of cases) {
      const run = normnet(args);
      expect(run.status, args.join(' ')).toBe(2);
      expect(run.stderr).toBe(stderr);
      expect(run.stdout).toBe('');
    }
  });
});
