#!/usr/bin/env node
/**
 * The `normnet` command: `train`, `eval`, `experiment`, `submit`, `jobs`, `worker`, `info`, `--version`, `--help`. A misuse exits 2 and a failure 1,
 * each with one line on stderr.
 */
import { getBackend } from '../kernels/backend.js';
import { version } from '../version.js';
import { benchCommand } from './bench.js';
import { evalCommand, EVAL_USAGE } from './eval.js';
import { experimentCommand } from './experiment.js';
import { exportCommand, EXPORT_USAGE } from './export.js';
import { jobsCommand, JOBS_USAGE, submitCommand, SUBMIT_USAGE, workerCommand, WORKER_USAGE } from './jobs.js';
import { ConfigError } from '../train/config.js';
import { UsageError } from './options.js';
import { predictCommand, PREDICT_USAGE } from './predict.js';
import { trainCommand, TRAIN_USAGE } from './train.js';

const USAGE = `Usage: normnet <command> [options]

Commands:
  train [options]       train a model (default: an MLP with BatchNorm on MNIST); normnet train --help
  eval CHECKPOINT       test loss, accuracy and confusion matrix of a checkpoint
  export RUN --onnx F   write a run's model as an ONNX file (--fold-batchnorm folds BatchNorm first)
  predict RUN --input F class probabilities and predicted classes of a file of samples (CSV, .npy, idx)
  experiment NAME       an experiment on Batch Normalization, with charts and a report: weight-scale,
                        activations, depth, optimizers; normnet experiment --help
  submit CONFIG.json    queue a training run (embedded queue in --dir, or BullMQ with --redis); --wait follows it
  jobs                  list the queue's jobs; jobs cancel ID cancels one
  worker                run the queue's jobs (on this machine: --dir; on many: --redis URL)
  serve                 the training service: HTTP API and dashboard over a queue; normnet serve --help
  bench [BENCHMARK]     time native (each CPU path) against TS: gemm, layers, epoch; normnet bench --help
  info [--json]         which backend loaded, the CPU path it takes (avx512 / avx2 / neon / generic) and its threads

Options:
  --version       print the version
  --help          print this help

Environment:
  NORMNET_BACKEND       native | ts (default: native when the addon loads)
  NORMNET_NUM_THREADS   threads of the native pool (default: the machine's cores)
  NORMNET_ISA           force a lower CPU path: avx2 | generic (x86-64), generic (arm64)`;

function info(args: string[]): number {
  const unknown = args.filter((arg) => arg !== '--json');
  if (unknown.length > 0) return usageError(`unknown option for info: ${unknown[0]}`);
  const details = { version, node: process.version, platform: `${process.platform}-${process.arch}`, ...getBackend().info() };
  if (args.includes('--json')) {
    console.log(JSON.stringify(details));
  } else {
    console.log(`normnet ${details.version} (node ${details.node}, ${details.platform})`);
    console.log(`backend:  ${details.backend}${details.addonPath ? ` (${details.addonPath})` : ''}`);
    console.log(`cpu path: ${details.isa} (best on this CPU: ${details.detectedIsa})`);
    console.log(`threads:  ${details.threads}`);
  }
  return 0;
}

function usageError(message: string): number {
  console.error(`normnet: ${message} (see normnet --help)`);
  return 2;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case '--version':
    case '-v':
      console.log(version);
      return 0;
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      console.log(USAGE);
      return 0;
    case 'info':
      return info(rest);
    case 'train':
      if (rest.includes('--help')) return printed(TRAIN_USAGE);
      return trainCommand(rest);
    case 'eval':
      if (rest.includes('--help')) return printed(EVAL_USAGE);
      return evalCommand(rest);
    case 'experiment':
      return experimentCommand(rest);
    case 'export':
      if (rest.includes('--help')) return printed(EXPORT_USAGE);
      return exportCommand(rest);
    case 'predict':
      if (rest.includes('--help')) return printed(PREDICT_USAGE);
      return predictCommand(rest);
    case 'submit':
      if (rest.includes('--help')) return printed(SUBMIT_USAGE);
      return submitCommand(rest);
    case 'jobs':
      if (rest.includes('--help')) return printed(JOBS_USAGE);
      return jobsCommand(rest);
    case 'worker':
      if (rest.includes('--help')) return printed(WORKER_USAGE);
      return workerCommand(rest);
    case 'bench':
      return benchCommand(rest);
    case 'serve':
      return (await import('./serve.js')).serveCommand(rest);
    default:
      return usageError(`unknown command: ${command}`);
  }
}

function printed(text: string): number {
  console.log(text);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    const misuse = error instanceof UsageError || error instanceof ConfigError;
    console.error(`normnet: ${message}${misuse ? ' (see normnet --help)' : ''}`);
    // Now, not when the event loop empties: a Redis client that cannot connect would keep retrying.
    process.exit(misuse ? 2 : 1);
  },
);
