/**
 * How `normnet bench` shows its results: a table per benchmark (the same for the terminal and for bench.html), a
 * chart per benchmark (Vega-Lite, rendered to SVG and PNG by src/plot/render.ts), and bench.html with them, the
 * machine and the JSON data, self-contained as every normnet report is (src/report/report.ts).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PALETTE } from '../plot/charts.js';
import { writeChart, type ChartFiles, type ChartSpec } from '../plot/render.js';
import { renderReport, type ReportTable } from '../report/report.js';
import { machineLine, type BenchMachine } from './machine.js';
import { TS } from './implementations.js';
import type { BenchSection } from './types.js';

/** Three significant digits, but whole numbers from 1000 up and one decimal from 10 up: enough to compare, few enough to read. */
const round = (v: number) => (Math.abs(v) >= 1000 ? Math.round(v) : Math.abs(v) >= 10 ? Math.round(v * 10) / 10 : Number(v.toPrecision(3)));

const ROW_HEADER: Record<BenchSection['name'], string> = { gemm: 'shape', layers: 'layer (input)', epoch: 'model' };

/**
 * The section as a table: its values by implementation, each native path's speedup over TS, and the check's
 * worst difference over the native paths.
 */
export function sectionTable(section: BenchSection): ReportTable {
  const names = Object.keys(section.rows[0].values);
  const natives = names.filter((n) => n !== TS);
  return {
    caption: `${section.title}: ${section.unit}, ${section.higherIsBetter ? 'higher' : 'lower'} is better. ${section.method}` +
      (natives.length ? ` ×TS: how many times faster than TS. check: the worst normwise difference |native − TS| / max |TS| (limit ${section.tolerance.toExponential(0)}).` : ''),
    columns: [ROW_HEADER[section.name], ...names, ...natives.map((n) => `${n.replace(/^native /, '')} ×TS`), ...(natives.length ? ['check'] : [])],
    rows: section.rows.map((r) => [
      r.label, ...names.map((n) => round(r.values[n])), ...natives.map((n) => round(r.speedup[n])),
      ...(natives.length ? [Number(Math.max(...natives.map((n) => r.check[n])).toPrecision(2))] : []),
    ]),
  };
}

/** Grouped horizontal bars, one group a row and one bar an implementation, on a log scale (TS is 10-100× away). */
export function sectionChart(section: BenchSection, machine: BenchMachine): ChartSpec {
  const names = Object.keys(section.rows[0].values);
  // A log scale has no zero for bars to start at: they start at the power of ten below the smallest value.
  const base = 10 ** Math.floor(Math.log10(Math.min(...section.rows.flatMap((r) => Object.values(r.values)))));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: `${section.title}: ${section.unit} (${section.higherIsBetter ? 'higher' : 'lower'} is better)`,
      subtitle: machineLine(machine), subtitleFontSize: 11, subtitleColor: '#555',
    },
    width: 480,
    height: { step: 9 },
    data: { values: section.rows.flatMap((r) => names.map((n) => ({ row: r.label, implementation: n, value: r.values[n] }))) },
    mark: 'bar',
    encoding: {
      y: { field: 'row', type: 'nominal', sort: section.rows.map((r) => r.label), title: null, axis: { labelLimit: 600 } },
      yOffset: { field: 'implementation', type: 'nominal', sort: names },
      x: { field: 'value', type: 'quantitative', title: section.unit, scale: { type: 'log', domainMin: base } },
      x2: { datum: base },
      color: {
        field: 'implementation', type: 'nominal', sort: names, title: null,
        scale: { domain: names, range: names.map((_, i) => PALETTE[i % PALETTE.length]) }, legend: { orient: 'bottom', direction: 'horizontal' },
      },
    },
  };
}

export interface BenchReportInput {
  machine: BenchMachine;
  sections: BenchSection[];
  /** The result as bench.json holds it. */
  data: unknown;
  config: Record<string, unknown>;
  command?: string;
  seconds: number;
}

/** Writes bench.json, bench-<name>.svg/.png for each section and bench.html into `dir`; returns the charts and the report's path. */
export async function writeBenchReport(dir: string, input: BenchReportInput): Promise<{ report: string; charts: ChartFiles[] }> {
  writeFileSync(join(dir, 'bench.json'), `${JSON.stringify(input.data, null, 1)}\n`);
  const charts: ChartFiles[] = [];
  for (const section of input.sections) charts.push(await writeChart(dir, `bench-${section.name}`, sectionChart(section, input.machine)));
  const report = join(dir, 'bench.html');
  // renderReport, not writeReport: writeReport names its file report.html, and this page is bench.html.
  writeFileSync(report, renderReport({
    title: 'normnet bench: native against TypeScript',
    description: `The native kernels on each CPU path of this machine (${input.machine.paths.join(', ') || 'none: no native addon'}) ` +
      'against the TypeScript kernels, on the same inputs; each result is checked against TS before it is timed.',
    command: input.command, config: input.config, machine: input.machine,
    tables: input.sections.map(sectionTable), charts, files: ['bench.json'], seconds: input.seconds,
  }));
  return { report, charts };
}
