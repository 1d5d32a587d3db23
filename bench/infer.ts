/**
 * `npm run bench:infer`: inference speed of normnet's `predict` on the native backend against onnxruntime-node
 * running the same model (normnet's own ONNX export) in the same process, both on one thread (normnet
 * `configure({ threads: 1 })`, ort `intraOpNumThreads: 1, interOpNumThreads: 1`), for
 *   MLP  784-100×5-10, ReLU, BatchNorm1d after every hidden Linear (bench:epoch's model; He init)
 *   CNN  the preset conv(1→20,5)-BN2d-ReLU-maxpool2 → conv(20→50,3)-BN2d-ReLU-maxpool2 → Linear(1250→128)-ReLU → Linear(128→10)
 * each as trained (BatchNorm in the graph) and folded (Sequential.foldBatchNorm; its ONNX export for ort):
 *   latency     batch 1, µs per call (median)
 *   throughput  batch 1000, samples/s (from the median time per call)
 * ort's figures are `await session.run(...)`, what a Node program gets; its binding hops through setImmediate
 * before every run, which the last line measures on its own. Memory: the parameters and buffers of each normnet
 * model, and the activation buffers its first batch of 1000 allocates (the growth of ArrayBuffer memory then).
 *
 * Targets of the issue: normnet folded ≥ ort's throughput at batch 1000 and ≤ its latency at batch 1 (against
 * ort on the same folded model). The BatchNorm statistics are those of a few training-mode passes over random
 * inputs, so folding changes the weights for real. Before anything is timed every entry's output on the timed
 * inputs must match normnet's unfolded eval output within 1e-5 of its scale (max |a − r| ≤ 1e-5·max |r|). Samples
 * are interleaved, one of each entry a round, so the machine's load falls on all of them alike.
 *
 * Environment: BENCH_INFER_ROUNDS (samples per entry, 15), BENCH_INFER_SAMPLE_MS (milliseconds a sample, 30).
 */
import * as ort from 'onnxruntime-node';
import { cnnLayers, configure, getBackend, mlpLayers, Random, Sequential } from '../dist/index.js';
import { median, medianInterval } from '../dist/bench/stats.js';
import { describeMachine, machineLine } from './support/machine.js';

const env = (name: string, fallback: number) => {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got '${raw}'`);
  return value;
};
const ROUNDS = env('BENCH_INFER_ROUNDS', 15);
const SAMPLE_MS = env('BENCH_INFER_SAMPLE_MS', 30);
const TOLERANCE = 1e-5;
const BATCHES = [1, 1000];

/** One way to get a batch's logits: a normnet model's predict, or an ort session's run. */
interface Entry {
  name: string;
  run(x: Float32Array, shape: number[]): Float32Array | Promise<Float32Array>;
}

interface Workload {
  key: string;
  title: string;
  model: Sequential;
  sampleShape: number[];
}

function workloads(): Workload[] {
  const backend = getBackend('native');
  const random = new Random(1);
  const make = (key: string, title: string, layers: ConstructorParameters<typeof Sequential>[0], sampleShape: number[]): Workload => {
    const model = new Sequential(layers, { backend, seed: 1, inputShape: sampleShape });
    // A few training-mode passes give the BatchNorms running statistics of their own (a fresh one folds to the identity).
    const x = Float32Array.from({ length: 64 * sampleShape.reduce((a, b) => a * b, 1) }, () => random.normal());
    for (let i = 0; i < 5; i++) model.forward(x, [64, ...sampleShape]);
    return { key, title, model: model.eval(), sampleShape };
  };
  return [
    make('mlp', 'MLP 784-100×5-10 BN', mlpLayers(784, 10, { init: 'he' }), [784]),
    make('cnn', 'CNN preset BN', cnnLayers(10), [1, 28, 28]),
  ];
}

async function ortEntry(name: string, model: Sequential): Promise<Entry> {
  const session = await ort.InferenceSession.create(model.toOnnx(), { intraOpNumThreads: 1, interOpNumThreads: 1 });
  return {
    name,
    run: async (x, shape) => (await session.run({ input: new ort.Tensor('float32', x, shape) })).logits.data as Float32Array,
  };
}

function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return actual.length === expected.length ? diff / scale : Infinity;
}

/** Median seconds per call of each entry (and the median's 95% interval), samples interleaved round by round. */
async function timeEntries(entries: Entry[], x: Float32Array, shape: number[]): Promise<{ seconds: number; interval: [number, number] }[]> {
  const calls: number[] = [];
  for (const entry of entries) {
    for (let i = 0; i < 3; i++) await entry.run(x, shape); // warm the buffers, the JIT and ort's allocator
    const t0 = performance.now();
    await entry.run(x, shape);
    calls.push(Math.max(1, Math.round(SAMPLE_MS / Math.max(performance.now() - t0, 1e-3))));
  }
  const times: number[][] = entries.map(() => []);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [k, entry] of entries.entries()) {
      const t0 = performance.now();
      for (let c = 0; c < calls[k]; c++) await entry.run(x, shape);
      times[k].push((performance.now() - t0) / 1000 / calls[k]);
    }
  }
  return times.map((t) => ({ seconds: median(t), interval: medianInterval(t) }));
}

/** Bytes of ArrayBuffer memory that the model's first predict of a 1000-sample batch adds: its layers' activation buffers (and the 1000-row result). */
function activationBytes(model: Sequential, sampleShape: number[]): number {
  const x = new Float32Array(1000 * sampleShape.reduce((a, b) => a * b, 1));
  const before = process.memoryUsage().arrayBuffers;
  model.predict(x, [1000, ...sampleShape]);
  return process.memoryUsage().arrayBuffers - before;
}

async function setImmediateSeconds(): Promise<number> {
  const hop = () => new Promise<void>((resolve) => setImmediate(resolve));
  const samples: number[] = [];
  for (let s = 0; s < ROUNDS; s++) {
    const t0 = performance.now();
    for (let i = 0; i < 1000; i++) await hop();
    samples.push((performance.now() - t0) / 1000 / 1000);
  }
  return median(samples);
}

async function main(): Promise<void> {
  configure({ threads: 1 });
  console.log(`bench:infer on ${machineLine(describeMachine())}`);
  console.log(`normnet native on 1 thread, onnxruntime-node ${ort.env.versions.common} on 1 thread (intra-op 1, inter-op 1); ${ROUNDS} interleaved samples of ~${SAMPLE_MS} ms per entry\n`);
  const rows: string[] = [];
  const verdicts: string[] = [];
  for (const { key, title, model, sampleShape } of workloads()) {
    const folded = model.foldBatchNorm();
    const activations = [model, folded].map((m) => activationBytes(m, sampleShape));
    const entries: Entry[] = [
      { name: 'normnet', run: (x, shape) => model.predict(x, shape).data as Float32Array },
      { name: 'normnet folded', run: (x, shape) => folded.predict(x, shape).data as Float32Array },
      await ortEntry('ort', model),
      await ortEntry('ort folded', folded),
    ];
    const random = new Random(2);
    const results: Record<string, Record<number, number>> = Object.fromEntries(entries.map((e) => [e.name, {}]));
    for (const N of BATCHES) {
      const shape = [N, ...sampleShape];
      const x = Float32Array.from({ length: N * sampleShape.reduce((a, b) => a * b, 1) }, () => random.normal());
      const expected = model.predict(x, shape).data;
      for (const entry of entries) {
        const error = relativeError(await entry.run(x, shape), expected);
        if (!(error <= TOLERANCE)) throw new Error(`${title}, batch ${N}: ${entry.name}'s output differs from normnet's eval output by ${error.toExponential(2)} of its scale (tolerance ${TOLERANCE})`);
      }
      const timed = await timeEntries(entries, x, shape);
      entries.forEach((entry, k) => {
        results[entry.name][N] = timed[k].seconds;
      });
      const cells = timed.map(({ seconds, interval }) => (N === 1
        ? `${(seconds * 1e6).toFixed(1)} µs (${(interval[0] * 1e6).toFixed(1)}–${(interval[1] * 1e6).toFixed(1)})`
        : `${Math.round(N / seconds).toLocaleString('en-US')}/s (${Math.round(N / interval[1]).toLocaleString('en-US')}–${Math.round(N / interval[0]).toLocaleString('en-US')})`));
      rows.push(`| ${title} | ${N === 1 ? 'latency, batch 1' : `throughput, batch ${N}`} | ${cells.join(' | ')} |`);
    }
    const [mine, theirs] = [results['normnet folded'], results['ort folded']];
    verdicts.push(`${key}: normnet folded ${(theirs[1000] / mine[1000]).toFixed(2)}× ort folded's throughput at batch 1000 (target ≥ 1: ${mine[1000] <= theirs[1000] ? 'met' : 'not met'}), ` +
      `${(mine[1] / theirs[1]).toFixed(2)}× its latency at batch 1 (target ≤ 1: ${mine[1] <= theirs[1] ? 'met' : 'not met'}); ` +
      `folding: ${model.layers.length} → ${folded.layers.length} layers, ${(model.values.length * 4 / 1024).toFixed(0)} → ${(folded.values.length * 4 / 1024).toFixed(0)} KiB of parameters and buffers, ` +
      `${(activations[0] / 2 ** 20).toFixed(1)} → ${(activations[1] / 2 ** 20).toFixed(1)} MiB of activation buffers at batch 1000`);
  }
  console.log(`| model | measure | ${['normnet', 'normnet folded', 'ort', 'ort folded'].join(' | ')} |`);
  console.log(`|---|---|---|---|---|---|`);
  for (const row of rows) console.log(row);
  console.log('\n(median; in brackets the 95% interval of the median)');
  for (const verdict of verdicts) console.log(verdict);
  console.log(`ort's setImmediate hop before each run: ${((await setImmediateSeconds()) * 1e6).toFixed(1)} µs of its latency`);
}

await main();
