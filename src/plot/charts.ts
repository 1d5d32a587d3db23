/**
 * Vega-Lite specs for the charts normnet draws: curves against steps or epochs (one colour per series,
 * optionally dashed), and the loss / accuracy figures of a training run, like the seeds' matplotlib plots.
 * render.ts turns a spec into SVG and PNG.
 */
import type { EpochRecord } from '../train/trainer.js';
import type { ChartSpec } from './render.js';
import { types } from 'node:util';
import { show } from '../util/show.js';

export interface Series {
  name: string;
  x: readonly number[];
  y: readonly (number | null)[];
  dashed?: boolean;
  color?: string;
}

export interface LineChartOptions {
  title: string;
  subtitle?: string;
  x: string;
  y: string;
  series: readonly Series[];
  yDomain?: readonly [number, number];
  yFormat?: string;
  /** A log scale for y (losses that span decades). */
  yLog?: boolean;
  /** The x values are counts (epochs): integer ticks, and a dot on each point. */
  xCounts?: boolean;
  /** Title of the legend; default none. */
  legend?: string;
  /** Where the legend goes; default right. */
  legendOrient?: 'right' | 'bottom' | 'top';
  width?: number;
  height?: number;
}

/** Tableau 10, Vega's default palette, named here so a series keeps its colour from chart to chart. */
export const PALETTE = ['#4c78a8', '#f58518', '#54a24b', '#e45756', '#72b7b2', '#b279a2', '#eeca3b', '#9d755d'];

/** The long table Vega-Lite reads: one row per point, with the series name. */
export function seriesValues(series: readonly Series[]): { x: number; y: number | null; series: string }[] {
  return series.flatMap((s) => s.x.map((x, i) => ({ x, y: s.y[i] ?? null, series: s.name })));
}

/** Colour and dash scales that follow the series' order and their `color` / `dashed`. */
export function seriesEncoding(series: readonly Series[], legend?: string, orient: 'right' | 'bottom' | 'top' = 'right'): Record<string, unknown> {
  const names = series.map((s) => s.name);
  const legendSpec = { title: legend ?? null, orient, symbolType: 'stroke', ...(orient === 'right' ? {} : { direction: 'horizontal' }) };
  return {
    color: { field: 'series', type: 'nominal', sort: names, scale: { domain: names, range: series.map((s, i) => s.color ?? PALETTE[i % PALETTE.length]) }, legend: legendSpec },
    strokeDash: { field: 'series', type: 'nominal', sort: names, scale: { domain: names, range: series.map((s) => (s.dashed ? [6, 4] : [1, 0])) }, legend: legendSpec },
  };
}

export function lineChart(o: LineChartOptions): ChartSpec {
  if (typeof o !== 'object' || o === null || types.isProxy(o)) throw new TypeError(`lineChart: options must be an object, got ${show(o)}`);
  if (!Array.isArray(o.series) || !o.series.every((s) => typeof s === 'object' && s !== null && typeof s.name === 'string' && Array.isArray(s.x) && Array.isArray(s.y))) {
    throw new TypeError('lineChart: series must be an array of { name, x, y } with x and y arrays');
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: o.subtitle ? { text: o.title, subtitle: o.subtitle, subtitleFontSize: 11, subtitleColor: '#555' } : o.title,
    width: o.width ?? 420,
    height: o.height ?? 260,
    data: { values: seriesValues(o.series) },
    mark: { type: 'line', clip: true, ...(o.xCounts ? { point: { size: 30 } } : {}) },
    encoding: {
      x: {
        field: 'x', type: 'quantitative', title: o.x, scale: { nice: false, zero: false, ...(o.xCounts ? { padding: 10 } : {}) },
        ...(o.xCounts ? { axis: { format: 'd', tickMinStep: 1 } } : {}),
      },
      y: {
        field: 'y', type: 'quantitative', title: o.y,
        scale: o.yDomain ? { domain: [...o.yDomain], nice: false } : o.yLog ? { type: 'log' } : { zero: false },
        ...(o.yFormat ? { axis: { format: o.yFormat } } : {}),
      },
      ...seriesEncoding(o.series, o.legend, o.legendOrient),
    },
  };
}

/** The two figures of a training run: loss and accuracy (train and test) against epochs. */
export function trainingCharts(epochs: readonly EpochRecord[], subtitle?: string): { name: string; spec: ChartSpec }[] {
  if (!Array.isArray(epochs) || !epochs.every((r) => typeof r === 'object' && r !== null)) throw new TypeError(`trainingCharts: epochs must be an array of epoch records, got ${show(epochs)}`);
  if (subtitle !== undefined && typeof subtitle !== 'string') throw new TypeError(`trainingCharts: subtitle must be a string, got ${show(subtitle)}`);
  const x = epochs.map((r) => r.epoch);
  const hasTest = epochs.some((r) => r.testLoss !== undefined);
  const pair = (train: (r: EpochRecord) => number, test: (r: EpochRecord) => number | undefined): Series[] => [
    { name: 'train', x, y: epochs.map(train) },
    ...(hasTest ? [{ name: 'test', x, y: epochs.map((r) => test(r) ?? null), dashed: true }] : []),
  ];
  return [
    { name: 'loss', spec: lineChart({ title: 'Loss', subtitle, x: 'epoch', xCounts: true, y: 'cross-entropy loss', series: pair((r) => r.trainLoss, (r) => r.testLoss) }) },
    { name: 'accuracy', spec: lineChart({ title: 'Accuracy', subtitle, x: 'epoch', xCounts: true, y: 'accuracy', yFormat: '.0%', series: pair((r) => r.trainAccuracy, (r) => r.testAccuracy) }) },
  ];
}
