/**
 * The layer benchmark: forward + backward of each layer of the seeds' two models (the MLP at batch 100, the
 * Fashion-MNIST CNN at batch 256), each alone in a `new Sequential([layer], { backend, seed: 1 })` in training
 * mode (so a ReLU is a layer of its own here, not fused into BatchNorm). One step is `forward(x)` then
 * `backward(dy, { inputGrad: true })` on inputs made once and reused; SoftmaxCrossEntropy, a loss object rather
 * than a layer, is `forward(logits, labels)` then `backward()`. Before a layer is timed, every implementation
 * runs it on the same seeded weights and inputs, and the native output, input gradient and parameter gradients
 * must agree with TS's.
 */
import { getBackend, type BackendName } from '../kernels/backend.js';
import { BatchNorm1d, BatchNorm2d, Conv2d, Dropout, Linear, MaxPool2d, ReLU, Sequential, Sigmoid, SoftmaxCrossEntropy, type Layer, type Tensor } from '../nn/index.js';
import { Random } from '../util/random.js';
import { BENCH_TOLERANCE, checkAgreement } from './check.js';
import { select, speedupOverTs, timed, TS, type Implementation } from './implementations.js';
import { timeInterleaved } from './stats.js';
import type { BenchRow, BenchSection, BenchSettings } from './types.js';

/** One training step of one layer on one backend: `run` is what is timed, `check` what is compared. */
export interface LayerStep {
  run(): void;
  /** A fresh run's results, copied: output, input gradient, parameter gradients. */
  check(): Float32Array[];
}

export interface LayerCase {
  model: 'MLP' | 'CNN';
  name: string;
  /** Input shape, NCHW for images, and the output's (the shape of dy). */
  shape: number[];
  outputShape: number[];
  /** The step on a backend, given the inputs shared by every backend. */
  build(backend: BackendName, inputs: LayerInputs): LayerStep;
}

export interface LayerInputs { x: Tensor; dy: Tensor; labels: Int32Array }

/** About 30 ms a sample. */
export const LAYER_SAMPLE_SECONDS = 0.03;

/** What check() returns, in order, for the check's messages. */
const RESULTS = ['outputs', 'input gradients', 'parameter gradients'];

function layerCase(model: LayerCase['model'], make: () => Layer, shape: number[]): LayerCase {
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

function lossCase(model: LayerCase['model'], shape: number[]): LayerCase {
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

export const LAYER_CASES: readonly LayerCase[] = [
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

/** x, dy (shaped as the output) and labels, from one seeded generator: the same on every backend. */
export function layerInputs(c: LayerCase, seed: number): LayerInputs {
  const random = new Random(seed);
  const fill = (shape: number[]) => Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => random.uniform() * 2 - 1);
  const x = { data: fill(c.shape), shape: c.shape };
  const dy = { data: fill(c.outputShape), shape: c.outputShape };
  const labels = Int32Array.from({ length: c.shape[0] }, () => random.below(c.shape[c.shape.length - 1]));
  return { x, dy, labels };
}

/**
 * Each implementation's step of the case, built and run once through check() (which also warms it up for the
 * timing); each native one's results checked against TS's. `impls` must include TS.
 */
export function layerSteps(c: LayerCase, impls: Record<string, Implementation>, inputs: LayerInputs): { steps: Record<string, LayerStep>; check: Record<string, number> } {
  const steps: Record<string, LayerStep> = {};
  const results: Record<string, Float32Array[]> = {};
  for (const [name, impl] of Object.entries(impls)) {
    select(impl);
    steps[name] = c.build(impl.backend, inputs);
    results[name] = steps[name].check();
  }
  const check: Record<string, number> = {};
  for (const name of Object.keys(impls).filter((n) => n !== TS)) {
    check[name] = checkAgreement(`${c.model} ${c.name} (${name})`, results[name].map((r, k) => [RESULTS[k], r, results[TS][k]]));
  }
  return { steps, check };
}

/** Seconds per step of each implementation, interleaved. */
export function timeLayerSteps(steps: Record<string, LayerStep>, impls: Record<string, Implementation>, settings: Pick<BenchSettings, 'samples' | 'tsSamples'>): Record<string, number> {
  const entries = Object.fromEntries(Object.entries(steps).map(([name, step]) =>
    [name, timed(impls[name], step.run, impls[name].backend === 'ts' ? settings.tsSamples : settings.samples)]));
  return timeInterleaved(entries, LAYER_SAMPLE_SECONDS);
}

export function benchLayers(impls: Record<string, Implementation>, settings: BenchSettings, progress: (line: string) => void): BenchSection {
  const rows: BenchRow[] = [];
  /** A model's layers summed: a training step's layer time, unfused. */
  const total = (model: LayerCase['model']) => {
    const of = rows.filter((r) => r.detail.model === model);
    const values = Object.fromEntries(Object.keys(impls).map((name) => [name, of.reduce((sum, r) => sum + r.values[name], 0)]));
    const check = Object.fromEntries(Object.keys(impls).filter((n) => n !== TS).map((name) => [name, Math.max(...of.map((r) => r.check[name]))]));
    return { label: `${model} total`, values, speedup: speedupOverTs(values, false), check, detail: { model, total: true } };
  };
  LAYER_CASES.forEach((c, i) => {
    progress(`layers ${c.model} ${c.name}`);
    const { steps, check } = layerSteps(c, impls, layerInputs(c, 1000 + i));
    const seconds = timeLayerSteps(steps, impls, settings);
    const values = Object.fromEntries(Object.entries(seconds).map(([name, t]) => [name, t * 1e6]));
    rows.push({
      label: `${c.model} ${c.name} (${c.shape.join(',')})`, values, speedup: speedupOverTs(values, false), check,
      detail: { model: c.model, layer: c.name, input: c.shape },
    });
  });
  const byModel = (model: LayerCase['model']) => [...rows.filter((r) => r.detail.model === model), total(model)];
  return {
    name: 'layers', title: 'Layers', unit: 'µs per step', higherIsBetter: false, tolerance: BENCH_TOLERANCE, rows: [...byModel('MLP'), ...byModel('CNN')],
    method: 'Forward + backward (input gradient included) of each layer of the MLP (batch 100) and the CNN (batch 256), ' +
      `alone in a Sequential, training mode; medians of ${settings.samples} samples (TS ${settings.tsSamples}) ` +
      `of about ${LAYER_SAMPLE_SECONDS * 1000} ms each, interleaved across implementations.`,
  };
}
