// A short native training step for scripts/valgrind.sh to run under valgrind: an MLP with BatchNorm1d and
// Dropout and a small CNN with BatchNorm2d and MaxPool2d, each a few forward/backward/optimizer steps (Adam,
// Momentum; one step of each other optimizer), an eval pass and a batch gather, on the main thread and then
// again in a worker thread that loads the addon and exits (so the per-thread state the addon frees at thread
// exit is in the leak check). Sizes are small but
// above the GEMM's micro-tile and the pool's split threshold, so packing, edges and the threaded paths run.
// Imports only the layers, optimizers and backend from dist/ (not dist/index.js: the service's dependencies
// would add minutes under valgrind and nothing of normnet's). Prints "valgrind-step: done ..." at the end: the
// script checks for it, since valgrind's exit code also counts Node's own findings.
import { isMainThread, parentPort, Worker } from 'node:worker_threads';

const dist = new URL('../dist/', import.meta.url);
const { BatchNorm1d, BatchNorm2d, Conv2d, Dropout, Flatten, Linear, MaxPool2d, ReLU, Sequential, SoftmaxCrossEntropy } =
  await import(new URL('nn/index.js', dist).href);
const { AdaGrad, Adam, Momentum, Nesterov, RMSprop, SGD } = await import(new URL('optim/index.js', dist).href);
const { getBackend } = await import(new URL('kernels/backend.js', dist).href);

const backend = getBackend('native'); // throws when the addon (NORMNET_ADDON) does not load: no silent TS run
const steps = Number(process.env.VALGRIND_STEPS ?? 3);

/** Deterministic inputs: a small LCG, so every run is the same. */
function data(n, seed) {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32 - 0.5;
  }
  return out;
}

function train(model, Optim, shape, seed, count = steps) {
  const N = shape[0];
  const x = data(shape.reduce((a, b) => a * b, 1), seed);
  const labels = Array.from({ length: N }, (_, i) => i % 4);
  const loss = new SoftmaxCrossEntropy(model.backend);
  const optimizer = new Optim(model, { lr: 0.01 });
  let value = 0;
  for (let step = 0; step < count; step++) {
    model.zeroGrad();
    value = loss.forward(model.forward(x, shape), labels);
    model.backward(loss.backward());
    optimizer.step();
  }
  model.predict(x.subarray(0, x.length / N), [1, ...shape.slice(1)]); // eval mode, batch 1
  if (!Number.isFinite(value)) throw new Error(`loss ${value}`);
  return value;
}

function run() {
  const mlp = new Sequential([
    new Linear(64, 48), new BatchNorm1d(48), new ReLU(), new Dropout(0.25), new Linear(48, 4),
  ], { backend, seed: 1 });
  const cnn = new Sequential([
    new Conv2d(1, 8, 3, { padding: 1 }), new BatchNorm2d(8), new ReLU(), new MaxPool2d(2), new Flatten(), new Linear(8 * 6 * 6, 4),
  ], { backend, seed: 2 });
  const losses = [train(mlp, Adam, [32, 64], 3), train(cnn, Momentum, [16, 1, 12, 12], 4)];
  for (const Optim of [SGD, Nesterov, AdaGrad, RMSprop]) {
    train(new Sequential([new Linear(20, 12), new BatchNorm1d(12), new ReLU(), new Linear(12, 4)], { backend, seed: 5 }), Optim, [8, 20], 6, 1);
  }
  // The data kernel: 16 rows of 100 uint8 features gathered and scaled.
  const images = Uint8Array.from(data(64 * 100, 7), (v) => Math.floor((v + 0.5) * 255));
  const rows = Int32Array.from({ length: 16 }, (_, i) => (i * 37) % 64);
  backend.gatherScale(new Float32Array(16 * 100), images, rows, 16, 100, 1 / 255);
  return losses;
}

if (isMainThread) {
  const losses = run();
  const worker = new Worker(new URL(import.meta.url), { env: process.env });
  const workerLosses = await new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => code !== 0 && reject(new Error(`worker exited with ${code}`)));
  });
  await new Promise((resolve) => worker.once('exit', resolve));
  const info = backend.info();
  console.log(`valgrind-step: done; isa ${info.isa} (detected ${info.detectedIsa}), threads ${info.threads}, losses ${[...losses, ...workerLosses].map((v) => v.toFixed(4)).join(' ')}`);
} else {
  parentPort.postMessage(run());
}
