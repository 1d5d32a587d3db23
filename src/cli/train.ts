/**
 * `normnet train [flags] [--config job.json] [--resume DIR] [--json]`: trains a model on MNIST or
 * Fashion-MNIST, writes metrics.jsonl and a checkpoint every epoch to the output directory, and prints the
 * test accuracy; at the end it writes report.html there, with the loss and accuracy charts (SVG and PNG)
 * when --plot is given. SIGINT / SIGTERM finish the current batch, write a checkpoint and exit 130 / 143.
 * Every misuse exits 2 (1 for a failure while running) with one line, leaving existing files as they were.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { configure, getBackend } from '../kernels/backend.js';
import { writeRunReport } from '../report/run-report.js';
import { readCheckpoint, type Checkpoint } from '../train/checkpoint.js';
import { DEFAULT_CONFIG, validateConfig, type RunConfig } from '../train/config.js';
import { executeRun } from '../train/run.js';
import { optionsHelp, parseFlags, UsageError } from './options.js';
import { createProgress } from './progress.js';

export const TRAIN_USAGE = `Usage: normnet train [options]

Trains a model and writes metrics.jsonl and a checkpoint per epoch to --out, and report.html at the end.

Options:
${optionsHelp()}
  --config FILE      read options from a JSON file (flags given too take precedence)
  --resume DIR       continue the run in DIR from its last checkpoint (only --epochs, --threads may change)
  --json             print one JSON object per epoch on stdout
  --plot             also draw loss and accuracy against epochs (loss.svg/.png, accuracy.svg/.png) into the report`;

/** Keys a resumed run may change: the rest come from its checkpoint. */
const RESUMABLE = new Set(['epochs', 'threads']);

export async function trainCommand(args: string[]): Promise<number> {
  const parsed = parseFlags(args, ['--json', '--plot'], ['--config', '--resume']);
  const output = { json: parsed.switches.has('--json'), plot: parsed.switches.has('--plot'), command: `normnet train ${args.join(' ')}`.trim() };
  let config: RunConfig;
  let outDir: string;
  const resumeDir = parsed.values['--resume'];
  if (resumeDir !== undefined) {
    const changed = Object.keys(parsed.options).filter((key) => !RESUMABLE.has(key));
    if (changed.length > 0 || parsed.values['--config'] !== undefined) {
      throw new UsageError(`--resume continues a run with its own configuration; only --epochs and --threads may be given with it (got ${[...changed, ...(parsed.values['--config'] ? ['config'] : [])].join(', ')})`);
    }
    let checkpoint;
    try {
      checkpoint = readCheckpoint(resumeDir);
    } catch (error) {
      throw new UsageError(`--resume: ${(error as Error).message}`);
    }
    config = { ...validateConfig(checkpoint.config, `${checkpoint.dir}/trainer.json`), ...parsed.options } as unknown as RunConfig;
    outDir = resolve(resumeDir.replace(/\/checkpoint(\.old)?\/?$/, ''));
    return train(config, outDir, output, checkpoint);
  }
  let fromFile: Record<string, unknown> = {};
  const configFile = parsed.values['--config'];
  if (configFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(configFile, 'utf8');
    } catch (error) {
      throw new UsageError(`--config: cannot read ${configFile}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
    let object: unknown;
    try {
      object = JSON.parse(text);
    } catch (error) {
      throw new UsageError(`${configFile}: not JSON: ${(error as Error).message}`);
    }
    fromFile = validateConfig(object, configFile);
  }
  config = { ...DEFAULT_CONFIG, ...fromFile, ...parsed.options } as RunConfig;
  outDir = resolve(config.out ?? join('runs', new Date().toISOString().replace(/[:.]/g, '-')));
  return train(config, outDir, output);
}

interface Output {
  json: boolean;
  plot: boolean;
  command: string;
}

async function train(config: RunConfig, outDir: string, { json, plot, command }: Output, resume?: Checkpoint): Promise<number> {
  if (config.threads !== undefined && getBackend(config.backend).name === 'native') configure({ threads: config.threads });
  ensureWritable(outDir);
  const progress = createProgress({ json, tty: process.stderr.isTTY === true && !json });
  const controller = new AbortController();
  let signalCode = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signalCode = signal === 'SIGINT' ? 130 : 143;
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const { history, run, config: saved } = await executeRun(config, outDir, {
      resume, signal: controller.signal,
      onStart: (r) => progress.message(resume
        ? `normnet: resuming ${outDir} at epoch ${resume.trainer.epoch + 1}, batch ${resume.trainer.batch + 1}`
        : `normnet: ${r.describe} on ${config.data ?? config.dataset} (${r.train.length} training samples), ${r.model.backend.name} backend; output in ${outDir}`),
      onBatch: (info) => progress.batch(info),
      onEpoch: (record, epochs) => progress.epoch(record, epochs),
    });
    if (history.stopped) {
      progress.message(`normnet: stopped by ${signalCode === 130 ? 'SIGINT' : 'SIGTERM'}; checkpoint written to ${join(outDir, 'checkpoint')} (resume with --resume ${outDir})`);
      return signalCode || 130;
    }
    const last = history.epochs[history.epochs.length - 1];
    if (!json && last) progress.message(`test accuracy ${(100 * (last.testAccuracy ?? 0)).toFixed(2)}% after ${last.epoch} epochs`);
    const report = await writeRunReport(outDir, { config: saved, describe: run.describe, epochs: history.epochs, plot, command });
    if (!json) progress.message(`report: ${report}`);
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** The output directory exists and takes files, checked before any training. */
export function ensureWritable(dir: string): void {
  const probe = join(dir, `.write-test-${process.pid}`);
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(probe, '');
    rmSync(probe);
  } catch (error) {
    throw new UsageError(`cannot write to the output directory ${dir}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}
