/**
 * report.html: one page per run or experiment, with what was run (configuration, command), what came out
 * (tables, charts) and where (machine, backend). It is self-contained so it opens from disk with no network:
 * styles inline, each chart's SVG embedded as a data: URI (the .svg and .png files beside it are linked too).
 */
import { writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { ChartFiles } from '../plot/render.js';
import { checkPath, type PathLike } from '../util/path.js';
import type { MachineInfo } from './machine.js';
import { types } from 'node:util';
import { show } from '../util/show.js';

/** A table cell: text, a number, or text on a background shaded by `heat` in [0, 1]. */
export type Cell = string | number | null | { text: string; heat: number };

export interface ReportTable {
  caption: string;
  columns: string[];
  rows: Cell[][];
}

export interface ReportInput {
  title: string;
  /** One paragraph: what the run shows. */
  description?: string;
  /** The command that reproduces it. */
  command?: string;
  config: Record<string, unknown>;
  tables: ReportTable[];
  charts: ChartFiles[];
  machine: MachineInfo;
  /** Other files of the output directory to link (data.json, ...). */
  files?: string[];
  seconds?: number;
}

const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** White to a mid blue, for heat cells. */
function heatColor(value: number): string {
  const t = Math.min(1, Math.max(0, value));
  const mix = (a: number, b: number) => Math.round(a + (b - a) * t);
  return `rgb(${mix(255, 66)}, ${mix(255, 133)}, ${mix(255, 194)})`;
}

function cell(value: Cell, tag: 'td' | 'th' = 'td'): string {
  if (value === null) return `<${tag}>–</${tag}>`;
  if (typeof value === 'object') {
    const dark = value.heat > 0.6;
    return `<${tag} class="num" style="background:${heatColor(value.heat)};${dark ? 'color:white;' : ''}">${escape(value.text)}</${tag}>`;
  }
  return `<${tag}${typeof value === 'number' ? ' class="num"' : ''}>${escape(String(value))}</${tag}>`;
}

function table(t: ReportTable): string {
  return `<table><caption>${escape(t.caption)}</caption>
<thead><tr>${t.columns.map((c) => `<th>${escape(c)}</th>`).join('')}</tr></thead>
<tbody>${t.rows.map((row) => `<tr>${row.map((c, i) => cell(c, i === 0 ? 'th' : 'td')).join('')}</tr>`).join('\n')}</tbody></table>`;
}

function keyValues(object: Record<string, unknown>): string {
  const rows = Object.entries(object)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `<tr><th>${escape(k)}</th><td>${escape(typeof v === 'string' ? v : JSON.stringify(v))}</td></tr>`);
  return `<table class="kv"><tbody>${rows.join('\n')}</tbody></table>`;
}

function figure(chart: ChartFiles): string {
  const data = Buffer.from(chart.svg).toString('base64');
  return `<figure><img src="data:image/svg+xml;base64,${data}" alt="${escape(chart.title)}">
<figcaption>${escape(chart.title)} (<a href="${escape(basename(chart.svgPath))}">SVG</a>, <a href="${escape(basename(chart.pngPath))}">PNG</a>)</figcaption></figure>`;
}

const STYLE = `body{font-family:"DejaVu Sans",Helvetica,Arial,sans-serif;margin:2em auto;max-width:1200px;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ddd}
.meta{color:#555}pre{background:#f4f4f4;padding:.6em;overflow-x:auto}
figure{margin:1em 0}figure img{max-width:100%;border:1px solid #eee}figcaption{color:#555;font-size:.9em}
table{border-collapse:collapse;margin:1em 0;font-size:.9em}caption{text-align:left;font-weight:bold;padding:.3em 0}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left}thead th{background:#f0f0f0}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
table.kv td{font-family:monospace}`;

export function renderReport(input: ReportInput): string {
  if (typeof input !== 'object' || input === null || types.isProxy(input)) throw new TypeError(`renderReport: input must be an object, got ${show(input)}`);
  if (typeof input.title !== 'string' || typeof input.machine !== 'object' || input.machine === null || !Array.isArray(input.charts) || !Array.isArray(input.tables) ||
    typeof input.config !== 'object' || input.config === null) {
    throw new TypeError('renderReport: input must be { title, config, tables, charts, machine, ... } (a string, an object, two arrays, a machineInfo())');
  }
  const m = input.machine;
  const machine = {
    cpu: m.cpu, cores: m.cores, memory: `${m.memoryGiB} GiB`, node: `${m.node} (${m.platform})`, normnet: m.normnet,
    backend: m.backend === 'native' ? `native (${m.isa}, ${m.threads} threads)` : m.backend,
  };
  const when = new Date().toISOString().replace('T', ' ').replace(/\..*/, ' UTC');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(input.title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>${STYLE}</style></head>
<body>
<h1>${escape(input.title)}</h1>
<p class="meta">normnet ${escape(m.normnet)}, ${escape(when)}${input.seconds !== undefined ? `, ${input.seconds.toFixed(1)} s` : ''}, ${escape(machine.backend)} backend</p>
${input.description ? `<p>${escape(input.description)}</p>` : ''}
${input.command ? `<pre>${escape(input.command)}</pre>` : ''}
${input.charts.length ? `<h2>Charts</h2>\n${input.charts.map(figure).join('\n')}` : ''}
${input.tables.length ? `<h2>Results</h2>\n${input.tables.map(table).join('\n')}` : ''}
<h2>Configuration</h2>
${keyValues(input.config)}
<h2>Machine</h2>
${keyValues(machine)}
${input.files?.length ? `<h2>Files</h2><ul>${input.files.map((f) => `<li><a href="${escape(f)}">${escape(f)}</a></li>`).join('')}</ul>` : ''}
</body></html>
`;
}

/** Writes `dir/report.html` and returns its path. */
export function writeReport(dir: PathLike, input: ReportInput): string {
  const path = join(checkPath(dir, 'writeReport: dir'), 'report.html');
  writeFileSync(path, renderReport(input));
  return path;
}
