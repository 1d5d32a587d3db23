/**
 * `npm run bench:accuracy`: test accuracy (full test set, eval mode) of the reference configurations,
 * normnet beside PyTorch 1.13 measured on this machine type for the same configurations, and of normnet's own
 * defaults against their targets. `--quick` runs only the rows up to 5 epochs; `--seeds N` repeats each row
 * over seeds 1..N and prints the mean and the range (min–max). Native backend, default threads.
 *
 * Each row is one training run per seed: the accuracies after epoch 5 and at the end come from the same run
 * (evaluated in `onEpoch`, only at the epochs needed, except for target rows, which are evaluated every epoch to
 * report the first epoch that meets the target). Seconds per epoch are training only, without evaluation.
 *
 * Verdict: "ok" when normnet lands within the seed-to-seed spread of the reference (taken as ±1.5 points
 * after 5 epochs, ±0.5 points once converged; "does not train" means below 20%); for targets, "met" when
 * every seed meets the target by the last epoch, with the first epoch at which all seeds met it.
 */
import { buildRun, DEFAULT_CONFIG, evaluate, getBackend, Trainer, type RunConfig } from '../dist/index.js';
import { describeMachine, machineLine } from './support/machine.js';

type Reference = number | [number, number] | 'no-train' | { atLeast: number };

interface Mark {
  epoch: number;
  /** PyTorch's accuracy in %, a [low, high] range over its seeds, 'no-train' (chance level), or a target. */
  reference: Reference;
}

interface Row {
  name: string;
  config: Partial<RunConfig>;
  marks: Mark[];
}

interface SeedRun {
  /** Test accuracy (%) after each epoch that was evaluated, by epoch. */
  accuracy: Map<number, number>;
  secondsPerEpoch: number;
}

// Reference configurations: BatchNorm1d after each hidden Linear, before the activation (mlpLayers does this).
const MLP5: Partial<RunConfig> = { model: 'mlp', schedule: 'constant', hidden: [100, 100, 100, 100, 100], activation: 'relu', init: 'he', optimizer: 'sgd', lr: 0.01, batchSize: 100 };
const MLP3: Partial<RunConfig> = { model: 'mlp', schedule: 'constant', hidden: [100, 100, 100], activation: 'sigmoid', init: 'xavier', optimizer: 'sgd', lr: 0.1, batchSize: 60 };
const CNN_FASHION: Partial<RunConfig> = { model: 'cnn', schedule: 'constant', dataset: 'fashion-mnist', optimizer: 'sgd', lr: 0.2, batchSize: 256 };

const ROWS: Row[] = [
  { name: 'MLP 784-5×100-10 ReLU He, BN, SGD 0.01, batch 100', config: { ...MLP5, batchnorm: true }, marks: [{ epoch: 5, reference: 95.5 }, { epoch: 20, reference: [96.9, 97.1] }] },
  { name: 'MLP 784-5×100-10 ReLU He, no BN, SGD 0.01, batch 100', config: { ...MLP5, batchnorm: false }, marks: [{ epoch: 5, reference: 94.6 }, { epoch: 20, reference: 96.8 }] },
  { name: 'MLP 784-3×100-10 sigmoid Xavier, BN, SGD 0.1, batch 60', config: { ...MLP3, batchnorm: true }, marks: [{ epoch: 5, reference: 95.9 }, { epoch: 50, reference: 98.1 }] },
  { name: 'MLP 784-3×100-10 sigmoid Xavier, no BN, SGD 0.1, batch 60', config: { ...MLP3, batchnorm: false }, marks: [{ epoch: 5, reference: 90.4 }, { epoch: 50, reference: 97.4 }] },
  { name: 'MLP 784-3×100-10 sigmoid, init std 0.01, no BN', config: { ...MLP3, init: 0.01, batchnorm: false }, marks: [{ epoch: 5, reference: 'no-train' }] },
  { name: 'MLP 784-3×100-10 sigmoid, init std 0.01, BN', config: { ...MLP3, init: 0.01, batchnorm: true }, marks: [{ epoch: 5, reference: 95.8 }] },
  { name: 'CNN (seeds), Fashion-MNIST, BN, SGD 0.2, batch 256', config: { ...CNN_FASHION, batchnorm: true }, marks: [{ epoch: 5, reference: 87 }] },
  { name: 'CNN (seeds), Fashion-MNIST, no BN, SGD 0.2, batch 256', config: { ...CNN_FASHION, batchnorm: false }, marks: [{ epoch: 5, reference: 84 }] },
  { name: 'default `normnet train` (MLP with BN, MNIST)', config: {}, marks: [{ epoch: DEFAULT_CONFIG.epochs, reference: { atLeast: 98.0 } }] },
  { name: '`normnet train --model cnn` (MNIST)', config: { model: 'cnn' }, marks: [{ epoch: 10, reference: { atLeast: 99.0 } }] },
  { name: '`normnet train --model cnn --dataset fashion-mnist`', config: { model: 'cnn', dataset: 'fashion-mnist' }, marks: [{ epoch: 10, reference: { atLeast: 91.0 } }] },
];

function parseArgs(args: string[]): { quick: boolean; seeds: number } {
  let quick = false;
  let seeds = 1;
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = args[i].split('=', 2);
    if (flag === '--quick') {
      quick = true;
    } else if (flag === '--seeds') {
      const raw = inline ?? args[++i];
      seeds = Number(raw);
      if (!Number.isInteger(seeds) || seeds < 1) throw new RangeError(`--seeds must be a positive integer, got ${raw}`);
    } else {
      throw new RangeError(`unknown argument ${args[i]} (options: --quick, --seeds N)`);
    }
  }
  return { quick, seeds };
}

const isTarget = (r: Reference): r is { atLeast: number } => typeof r === 'object' && !Array.isArray(r);

/** Trains one row with one seed, evaluating after the epochs in `evaluateAt`. */
async function runRow(row: Row, seed: number, epochs: number, evaluateAt: (epoch: number) => boolean): Promise<SeedRun> {
  const config: RunConfig = { ...DEFAULT_CONFIG, ...row.config, epochs, seed, backend: 'native' };
  const run = buildRun(config);
  const test = run.test!; // the built-in datasets always have their test set
  const accuracy = new Map<number, number>();
  let seconds = 0;
  await new Trainer(run.model, run.train, {
    epochs, batchSize: config.batchSize, optimizer: run.optimizer, seed, schedule: config.schedule,
    onEpoch: async (record) => {
      seconds += record.seconds;
      if (evaluateAt(record.epoch)) accuracy.set(record.epoch, 100 * (await evaluate(run.model, test)).accuracy);
    },
  }).run();
  return { accuracy, secondsPerEpoch: seconds / epochs };
}

function referenceText(r: Reference): string {
  if (r === 'no-train') return 'does not train (11%)';
  if (typeof r === 'number') return `${r.toFixed(1)}%`;
  if (Array.isArray(r)) return `${r[0].toFixed(1)}–${r[1].toFixed(1)}%`;
  return `target ≥ ${r.atLeast.toFixed(1)}%`;
}

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

function verdict(mark: Mark, runs: SeedRun[]): string {
  const values = runs.map((r) => r.accuracy.get(mark.epoch)!);
  const r = mark.reference;
  if (r === 'no-train') return mean(values) < 20 ? 'ok (does not train)' : 'differs (trains)';
  if (isTarget(r)) {
    // The first epoch at which every seed is at or above the target.
    let first = 0;
    for (let e = 1; e <= mark.epoch && first === 0; e++) if (runs.every((run) => run.accuracy.get(e)! >= r.atLeast)) first = e;
    const total = mean(runs.map((run) => run.secondsPerEpoch)) * (first || mark.epoch);
    return first > 0 ? `met at epoch ${first} (${total.toFixed(0)} s)` : `missed (${(Math.min(...values) - r.atLeast).toFixed(2)} points)`;
  }
  const [low, high] = Array.isArray(r) ? r : [r, r];
  const spread = mark.epoch <= 5 ? 1.5 : 0.5;
  const m = mean(values);
  const off = m < low ? m - low : m > high ? m - high : 0;
  return Math.abs(off) <= spread ? 'ok' : `differs (${off > 0 ? '+' : ''}${off.toFixed(2)} points)`;
}

async function main(): Promise<void> {
  const { quick, seeds } = parseArgs(process.argv.slice(2));
  if (getBackend('native').name !== 'native') throw new Error('bench:accuracy needs the native backend');
  console.log(`# normnet accuracy benchmark\n\n${machineLine(describeMachine())}\n`);
  console.log(`Test accuracy (full test set, eval mode) after the given epochs, ${seeds === 1 ? 'seed 1' : `mean (min–max) over seeds 1..${seeds}`}; ` +
    `PyTorch 1.13 figures measured on this machine type with the same configurations; s/epoch is training only.${quick ? ' --quick: rows up to 5 epochs.' : ''}\n`);
  console.log('| configuration | epochs | normnet | PyTorch / target | verdict | s/epoch |');
  console.log('|---|---:|---:|---:|---|---:|');
  const started = performance.now();
  for (const row of ROWS) {
    const marks = quick ? row.marks.filter((m) => m.epoch <= 5) : row.marks;
    if (marks.length === 0) continue;
    const epochs = Math.max(...marks.map((m) => m.epoch));
    const everyEpoch = marks.some((m) => isTarget(m.reference));
    const runs: SeedRun[] = [];
    for (let seed = 1; seed <= seeds; seed++) runs.push(await runRow(row, seed, epochs, (e) => everyEpoch || marks.some((m) => m.epoch === e)));
    const perEpoch = mean(runs.map((r) => r.secondsPerEpoch));
    for (const mark of marks) {
      const values = runs.map((r) => r.accuracy.get(mark.epoch)!);
      const shown = seeds === 1 ? `${values[0].toFixed(2)}%` : `${mean(values).toFixed(2)}% (${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)})`;
      console.log(`| ${row.name} | ${mark.epoch} | ${shown} | ${referenceText(mark.reference)} | ${verdict(mark, runs)} | ${perEpoch.toFixed(1)} |`);
    }
  }
  console.log(`\nTotal ${((performance.now() - started) / 60000).toFixed(1)} minutes.`);
}

await main();
