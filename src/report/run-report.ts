/** report.html for a finished training run: its configuration, its epochs as a table and, with `plot`, as charts. */
import { trainingCharts } from '../plot/charts.js';
import { writeChart } from '../plot/render.js';
import type { RunConfig } from '../train/config.js';
import type { EpochRecord } from '../train/trainer.js';
import { checkPath, type PathLike } from '../util/path.js';
import { machineInfo } from './machine.js';
import { writeReport } from './report.js';
import { show } from '../util/show.js';

export interface RunReportInput {
  config: RunConfig;
  /** One line: the model and optimizer (Run.describe). */
  describe: string;
  epochs: readonly EpochRecord[];
  plot?: boolean;
  command?: string;
}

/** Writes `dir`/report.html (and with `plot` the loss and accuracy charts); returns the report's path. */
export async function writeRunReport(outDir: PathLike, input: RunReportInput): Promise<string> {
  const dir = checkPath(outDir, 'writeRunReport: dir');
  if (typeof input !== 'object' || input === null || typeof input.config !== 'object' || input.config === null || !Array.isArray(input.epochs)) {
    throw new TypeError(`writeRunReport: input must be { config, describe, epochs, plot?, command? }, got ${show(input)}`);
  }
  const { config, describe, epochs, plot = false, command } = input;
  const subtitle = `${describe} on ${config.data ?? config.dataset}`;
  const charts = [];
  if (plot) for (const chart of trainingCharts(epochs, subtitle)) charts.push(await writeChart(dir, chart.name, chart.spec));
  const pct = (v: number | undefined) => (v === undefined ? null : `${(100 * v).toFixed(2)}%`);
  return writeReport(dir, {
    title: `normnet train: ${subtitle}`, command, config: { ...config }, charts, machine: machineInfo(config.backend),
    seconds: epochs.reduce((sum, r) => sum + r.seconds, 0),
    tables: [{
      caption: 'Epochs',
      columns: ['epoch', 'train loss', 'train accuracy', 'test loss', 'test accuracy', 'seconds', 'samples/s'],
      rows: epochs.map((r) => [r.epoch, Number(r.trainLoss.toFixed(4)), pct(r.trainAccuracy), r.testLoss === undefined ? null : Number(r.testLoss.toFixed(4)),
        pct(r.testAccuracy), Number(r.seconds.toFixed(1)), Math.round(r.samplesPerSecond)]),
    }],
    files: ['metrics.jsonl', 'checkpoint/model.safetensors', 'checkpoint/optimizer.safetensors', 'checkpoint/trainer.json'],
  });
}
