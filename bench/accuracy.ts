/**
 * `npm run bench:accuracy`: test accuracy (full test set, eval mode) of the reference configurations,
 * normnet beside PyTorch 1.13 measured on this machine type for the same configurations, and of normnet's own
 * defaults against their targets. `--quick` runs only up to 5 epochs; `--seeds N` repeats each row over seeds
 * 1..N and prints the mean and the range. Native backend, default threads.
 *
 * Verdict: "ok" when normnet lands within the seed-to-seed spread of the reference (taken as ±1.5 points
 * after 5 epochs, ±0.5 points once converged; "does not train" means below 20%), or meets the target.
 */
import { buildModel, buildOptimizer, DEFAULT_CONFIG, evaluate, loadData, Trainer, trainingData, type RunConfig } from '../dist/index.js';
import { describeMachine, machineLine } from './support/machine.js';

interface Mark {
  epoch: number;
  /** PyTorch's accuracy in %, a [low, high] range, 'no-train' (chance level), or a target '>=' value. */
  reference: number | [number, number] | 'no-train' | { atLeast: number };
}

interface Row {
  name: string;
  config: Partial<RunConfig>;
  marks: Mark[];
}

const MLP5: Partial<RunConfig> = { hidden: [100, 100, 100, 100, 100], activation: 'relu', init: 'he', optimizer: 'sgd', lr: 0.01, batchSize: 100 };
const MLP3: Partial<RunConfig> = { hidden: [100, 100, 100], activation: 'sigmoid', init: 'xavier', optimizer: 'sgd', lr: 0.1, batchSize: 60 };
const CNN_FASHION: Partial<RunConfig> = { model: 'cnn', dataset: 'fashion-mnist', optimizer: 'sgd', lr: 0.2, batchSize: 256 };

const ROWS: Row[] = [
  { name: 'MLP 784-5×100-10 ReLU He, BN, SGD 0.01, batch 100', config: { ...MLP5, batchnorm: true }, marks: [{ epoch: 5, reference: 95.5 }, { epoch: 20, reference: [96.9, 97.1] }] },
  { name: 'MLP 784-5×100-10 ReLU He, no BN, SGD 0.01, batch 100', config: { ...MLP5, batchnorm: false }, marks: [{ epoch: 5, reference: 94.6 }, { epoch: 20, reference: 96.8 }] },
  { name: 'MLP 784-3×100-10 sigmoid Xavier, BN, SGD 0.1, batch 60', config: { ...MLP3, batchnorm: true }, marks: [{ epoch: 5, reference: 95.9 }, { epoch: 50, reference: 98.1 }] },
  { name: 'MLP 784-3×100-10 sigmoid Xavier, no BN, SGD 0.1, batch 60', config: { ...MLP3, batchnorm: false }, marks: [{ epoch: 5, reference: 90.4 }, { epoch: 50, reference: 97.4 }] },
  { name: 'MLP 784-3×100-10 sigmoid, init std 0.01, no BN', config: { ...MLP3, init: 0.01, batchnorm: false }, marks: [{ epoch: 5, reference: 'no-train' }] },
  { name: 'MLP 784-3×100-10 sigmoid, init std 0.01, BN', config: { ...MLP3, init: 0.01, batchnorm: true }, marks: [{ epoch: 5, reference: 95.8 }] },
  { name: 'CNN (seeds), Fashion-MNIST, BN, SGD 0.2, batch 256', config: { ...CNN_FASHION, batchnorm: true }, marks: [{ epoch: 5, reference: 87 }] },
  { name: 'CNN (seeds), Fashion-MNIST, no BN, SGD 0.2, batch 256', config: { ...CNN_FASHION, batchnorm: false }, marks: [{ epoch: 5, reference: 84 }] },
  { name: 'default `normnet train` (MLP with BN)', config: {}, marks: [{ epoch: DEFAULT_CONFIG.epochs, reference: { atLeast: 98.0 } }] },
  { name: '`--model cnn`, MNIST', config: { model: 'cnn' }, marks: [{ epoch: 10, reference: { atLeast: 99.0 } }] },
  { name: '`--model cnn --dataset fashion-mnist`', config: { model: 'cnn', dataset: 'fashion-mnist' }, marks: [{ epoch: 10, reference: { atLeast: 91.0 } }] },
];

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const seedsAt = args.indexOf('--seeds');
const seeds = seedsAt >= 0 ? Number(args[seedsAt + 1]) : 1;
if (!Number.isInteger(seeds) || seeds < 1) throw new RangeError(`--seeds must be a positive integer, got ${args[seedsAt + 1]}`);

/** Test accuracy (%) at each mark epoch, and seconds per epoch, for one seed. */
async function runRow(row: Row, seed: number, marks: Mark[]): Promise<{ accuracy: number[]; secondsPerEpoch: number }> {
  const config: RunConfig = { ...DEFAULT_CONFIG, ...row.config, seed } as RunConfig;
  const { train, test } = loadData(config);
  const { model, layout } = buildModel(config, train.sampleShape, train.classes);
  const optimizer = buildOptimizer(config, model);
  const testData = trainingData(test, layout);
  const accuracy: number[] = [];
  let seconds = 0;
  const epochs = Math.max(...marks.map((m) => m.epoch));
  await new Trainer(model, trainingData(train, layout), {
    epochs, batchSize: config.batchSize, optimizer, seed,
    onEpoch: async (record) => {
      seconds += record.seconds;
      if (marks.some((m) => m.epoch === record.epoch)) accuracy.push(100 * (await evaluate(model, testData)).accuracy);
    },
  }).run();
  return { accuracy, secondsPerEpoch: seconds / epochs };
}

function referenceText(r: Mark['reference']): string {
  if (r === 'no-train') return 'does not train (11%)';
  if (typeof r === 'number') return `${r.toFixed(1)}%`;
  if (Array.isArray(r)) return `${r[0].toFixed(1)}–${r[1].toFixed(1)}%`;
  return `target ≥ ${r.atLeast.toFixed(1)}%`;
}

function verdict(mark: Mark, values: number[]): string {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const r = mark.reference;
  if (r === 'no-train') return mean < 20 ? 'ok' : 'differs';
  if (typeof r === 'object' && !Array.isArray(r)) return Math.min(...values) >= r.atLeast ? 'met' : 'missed';
  const [low, high] = Array.isArray(r) ? r : [r, r];
  const spread = mark.epoch <= 5 ? 1.5 : 0.5;
  return mean >= low - spread && mean <= high + spread ? 'ok' : 'differs';
}

async function main(): Promise<void> {
  console.log(`# normnet accuracy benchmark\n\n${machineLine(describeMachine())}\n`);
  console.log(`Test accuracy after the given epochs, ${seeds === 1 ? 'seed 1' : `mean (min–max) over seeds 1..${seeds}`}; PyTorch 1.13 figures measured on this machine type with the same configurations.${quick ? ' --quick: rows up to 5 epochs.' : ''}\n`);
  console.log('| configuration | epochs | normnet | PyTorch / target | verdict | s/epoch |');
  console.log('|---|---:|---:|---:|---|---:|');
  for (const row of ROWS) {
    const marks = quick ? row.marks.filter((m) => m.epoch <= 5) : row.marks;
    if (marks.length === 0) continue;
    const runs: { accuracy: number[]; secondsPerEpoch: number }[] = [];
    for (let seed = 1; seed <= seeds; seed++) runs.push(await runRow(row, seed, marks));
    marks.forEach((mark, i) => {
      const values = runs.map((r) => r.accuracy[i]);
      const mean = values.reduce((a, b) => a + b, 0) / values.length;
      const shown = seeds === 1 ? `${mean.toFixed(2)}%` : `${mean.toFixed(2)}% (${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)})`;
      const perEpoch = runs.reduce((a, r) => a + r.secondsPerEpoch, 0) / runs.length;
      console.log(`| ${row.name} | ${mark.epoch} | ${shown} | ${referenceText(mark.reference)} | ${verdict(mark, values)} | ${perEpoch.toFixed(1)} |`);
    });
  }
}

await main();
