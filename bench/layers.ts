/**
 * `npm run bench:layers`: forward + backward time of each layer of the seeds' two models (the MLP at batch
 * 100 and the Fashion-MNIST CNN at batch 256), native with the default thread count and with 1 thread, and
 * TS. Each layer sits alone in a `new Sequential([layer], { backend, seed: 1 })` in training mode and one
 * call is `forward(x)` then `backward(dy, { inputGrad: true })` on inputs made once and reused. Before a
 * layer is timed, native and TS are run on the same seeded weights and inputs and their outputs, input
 * gradients and parameter gradients must agree within a normwise relative 1e-4. Every figure is a median
 * over repeated samples; prints a Markdown table with the machine.
 */
import {
  BatchNorm1d, BatchNorm2d, configure, Conv2d, getBackend, Linear, MaxPool2d, Random, ReLU, Sequential, Sigmoid,
  SoftmaxCrossEntropy, Dropout, type BackendName, type Layer, type Tensor,
} from '../dist/index.js';
import { describeMachine, machineLine } from './support/machine.js';
import { callsFor, median } from './support/stats.js';

/** One training step of one layer on one backend: `run` is what is timed, `check` what is compared. */
interface Step {
  run(): void;
  /** A fresh run's results, copied: output, input gradient, parameter gradients. */
  check(): Float32Array[];
}

interface Case {
  model: 'MLP' | 'CNN';
  name: string;
  /** Input shape, NCHW for images, and the output's (the shape of dy). */
  shape: number[];
  outputShape: number[];
  /** The step on a backend, given the inputs shared by every backend. */
  build(backend: BackendName, inputs: Inputs): Step;
}

interface Inputs { x: Tensor; dy: Tensor; labels: Int32Array }

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 15);
/** The TS kernels are 10-100× slower; fewer samples keep the whole run within a few minutes. */
const TS_SAMPLES = Math.min(SAMPLES, 5);
const SAMPLE_SECONDS = 0.03;
const TOLERANCE = 1e-4;

const IMPLEMENTATIONS: Record<string, { backend: BackendName; threads: 'default' | 1 }> = {
  native: { backend: 'native', threads: 'default' },
  'native 1T': { backend: 'native', threads: 1 },
  TS: { backend: 'ts', threads: 'default' },
};

function layerCase(model: Case['model'], make: () => Layer, shape: number[]): Case {
  const layer = make();
  return {
    model, name: layer.describe(), shape, outputShape: layer.outputShape(shape, true),
    build(backend, { x, dy }) {
      const net = new Sequential([make()], { backend, seed: 1 });
      let y: Tensor | undefined;
      let dx: Tensor | undefined;
      const run = () => {
        y = net.forward(x);
        dx = net.backward(dy, { inputGrad: true });
      };
      return {
        run,
        check() {
          net.zeroGrad();
          run();
          return [y!.data, dx!.data, net.grads].map((a) => Float32Array.from(a));
        },
      };
    },
  };
}

/** SoftmaxCrossEntropy is a loss object, not a Layer: forward(logits, labels) and backward(), no Sequential. */
function lossCase(model: Case['model'], shape: number[]): Case {
  return {
    model, name: 'SoftmaxCrossEntropy', shape, outputShape: shape,
    build(backend, { x, labels }) {
      const loss = new SoftmaxCrossEntropy(getBackend(backend));
      let value = 0;
      let dlogits: Tensor | undefined;
      const run = () => {
        value = loss.forward(x, labels);
        dlogits = loss.backward();
      };
      return {
        run,
        check() {
          run();
          return [Float32Array.of(value), Float32Array.from(dlogits!.data)];
        },
      };
    },
  };
}

const CASES: Case[] = [
  // MLP, batch 100
  layerCase('MLP', () => new Linear(784, 100), [100, 784]),
  layerCase('MLP', () => new BatchNorm1d(100), [100, 100]),
  layerCase('MLP', () => new ReLU(), [100, 100]),
  layerCase('MLP', () => new Sigmoid(), [100, 100]),
  layerCase('MLP', () => new Dropout(0.5), [100, 100]),
  layerCase('MLP', () => new Linear(100, 100), [100, 100]),
  layerCase('MLP', () => new Linear(100, 10), [100, 100]),
  lossCase('MLP', [100, 10]),
  // CNN on Fashion-MNIST 1×28×28, batch 256
  layerCase('CNN', () => new Conv2d(1, 20, 5), [256, 1, 28, 28]),
  layerCase('CNN', () => new BatchNorm2d(20), [256, 20, 24, 24]),
  layerCase('CNN', () => new ReLU(), [256, 20, 24, 24]),
  layerCase('CNN', () => new MaxPool2d(2), [256, 20, 24, 24]),
  layerCase('CNN', () => new Conv2d(20, 50, 3), [256, 20, 12, 12]),
  layerCase('CNN', () => new BatchNorm2d(50), [256, 50, 10, 10]),
  layerCase('CNN', () => new MaxPool2d(2), [256, 50, 10, 10]),
  layerCase('CNN', () => new Linear(1250, 128), [256, 1250]),
  layerCase('CNN', () => new Linear(128, 10), [256, 128]),
];

function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function seededArray(random: Random, length: number): Float32Array {
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = random.uniform() * 2 - 1;
  return out;
}

/** x, dy (shaped as the output) and labels, from one seeded generator: the same on every backend. */
function makeInputs(c: Case, seed: number): Inputs {
  const random = new Random(seed);
  const x = { data: seededArray(random, sizeOf(c.shape)), shape: c.shape };
  const dy = { data: seededArray(random, sizeOf(c.outputShape)), shape: c.outputShape };
  const labels = Int32Array.from({ length: c.shape[0] }, () => random.below(c.shape[c.shape.length - 1]));
  return { x, dy, labels };
}

/**
 * Normwise relative difference of each result, max |native - ts| / max |ts|: entries near zero come from
 * cancellation, so each error is measured against the array's largest value. Throws above TOLERANCE.
 */
function verify(c: Case, inputs: Inputs): number {
  const native = c.build('native', inputs).check();
  const ts = c.build('ts', inputs).check();
  const what = ['output', 'input gradient', 'parameter gradients'];
  let worst = 0;
  native.forEach((a, k) => {
    const r = ts[k];
    let diff = 0;
    let scale = 0;
    for (let i = 0; i < r.length; i++) {
      diff = Math.max(diff, Math.abs(a[i] - r[i]));
      scale = Math.max(scale, Math.abs(r[i]));
    }
    const rel = scale === 0 ? diff : diff / scale;
    if (!(rel <= TOLERANCE)) throw new Error(`${c.model} ${c.name}: native and TS ${what[k]}s differ by ${rel.toExponential(2)} of max |TS|`);
    worst = Math.max(worst, rel);
  });
  return worst;
}

/**
 * Median seconds per call of each implementation's step. Samples are interleaved (one of each implementation
 * per round, after a warm-up round) so that a change in the machine's load falls on all of them alike.
 */
function timeSteps(steps: Record<string, Step>, threads: number): Record<string, number> {
  const names = Object.keys(steps);
  const use = (name: string) => {
    const impl = IMPLEMENTATIONS[name];
    if (impl.backend === 'native') configure({ threads: impl.threads === 'default' ? threads : impl.threads });
    return impl.backend === 'ts' ? TS_SAMPLES : SAMPLES;
  };
  const calls = Object.fromEntries(names.map((n) => { use(n); return [n, callsFor(steps[n].run, SAMPLE_SECONDS)]; }));
  const times: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let round = -1; round < SAMPLES; round++) {
    for (const name of names) {
      if (round >= use(name)) continue;
      const { run } = steps[name];
      if (IMPLEMENTATIONS[name].backend === 'native') run(); // resizing the pool stops its workers; restart them untimed
      const t0 = performance.now();
      for (let c = 0; c < calls[name]; c++) run();
      if (round >= 0) times[name].push((performance.now() - t0) / 1000 / calls[name]);
    }
  }
  configure({ threads });
  return Object.fromEntries(names.map((n) => [n, median(times[n])]));
}

function main(): void {
  const started = performance.now();
  const machine = describeMachine();
  const threads = getBackend('native').info().threads;
  const names = Object.keys(IMPLEMENTATIONS);
  console.log(`# normnet layer benchmark\n\n${machineLine(machine)}\n`);
  console.log(`Forward + backward (input gradient included) per layer, µs per batch, training mode; medians of ` +
    `${SAMPLES} samples (TS: ${TS_SAMPLES}) of about ${SAMPLE_SECONDS * 1000} ms each, interleaved across implementations. ` +
    `native: default thread count, ${threads} thread${threads === 1 ? '' : 's'}; native 1T: 1 thread. Each layer runs alone in a Sequential (seed 1); ` +
    `SoftmaxCrossEntropy is a loss object, timed as forward(logits, labels) + backward(). "check" is the worst ` +
    `normwise relative difference between native and TS over output, input gradient and parameter gradients ` +
    `(limit ${TOLERANCE}).\n`);

  const columns = ['model', 'layer', 'input', `native ${threads}T`, 'native 1T', 'TS', 'TS/native', 'TS/native 1T', `${threads}T/1T speedup`, 'check'];
  console.log(`| ${columns.join(' | ')} |`);
  console.log(`|${columns.map((_, i) => (i < 3 ? '---' : '---:')).join('|')}|`);

  const row = (cells: string[]) => console.log(`| ${cells.join(' | ')} |`);
  const us = (seconds: number) => (seconds * 1e6).toFixed(seconds < 1e-3 ? 1 : 0);
  const ratios = (t: Record<string, number>) => [
    `${(t.TS / t.native).toFixed(1)}×`, `${(t.TS / t['native 1T']).toFixed(1)}×`, `${(t['native 1T'] / t.native).toFixed(2)}×`,
  ];
  let totals: Record<string, number> = {};
  let model: Case['model'] | undefined;
  const totalRow = () => {
    if (model) row([`**${model}**`, '**total**', '', ...names.map((n) => `**${us(totals[n])}**`), ...ratios(totals).map((r) => `**${r}**`), '']);
  };

  CASES.forEach((c, i) => {
    if (c.model !== model) {
      totalRow();
      model = c.model;
      totals = Object.fromEntries(names.map((n) => [n, 0]));
    }
    const inputs = makeInputs(c, 1000 + i);
    const worst = verify(c, inputs);
    const steps = Object.fromEntries(names.map((n) => [n, c.build(IMPLEMENTATIONS[n].backend, inputs)]));
    const times = timeSteps(steps, threads);
    for (const name of names) totals[name] += times[name];
    row([c.model, c.name, `(${c.shape.join(',')})`, ...names.map((n) => us(times[n])), ...ratios(times), worst.toExponential(1)]);
  });
  totalRow();
  console.log(`\nWhole run: ${((performance.now() - started) / 1000).toFixed(0)} s.`);
}

main();
