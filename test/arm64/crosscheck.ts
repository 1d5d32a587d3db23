/**
 * Every native kernel against its TS twin on seeded random shapes, on each CPU path the addon has here, with the
 * tolerances of the test files (test/<family>.test.ts). A plain script over dist/, because it runs where vitest
 * cannot: test/arm64-qemu.test.ts runs it on the linux-arm64 prebuild under qemu, with Debian's arm64 Node 18
 * (vitest 4 needs Node 20). Build with `tsc -p tsconfig.arm64.json`, run `node dist-arm64/arm64/crosscheck.js`.
 *
 * Prints one line per check and path, then a JSON summary as the last line:
 *   { arch, addonPath, isas, checks, failures: [{ isa, check, message }], seconds }
 * Exit status 1 when any check fails.
 * Shapes: the edges of each path's tiles (the NEON GEMM's 8 x 12, BatchNorm's 8-channel blocks, the fold's
 * 4-column vectors), blocking (K over 256, M over 128, N over 256), and the sizes of training (the MLP's
 * 784 -> 100 layer at batch 100, the CNN's two convolutions), kept small enough for emulation.
 */
import { configure, float64Backend, getBackend, type Backend } from '../../dist/kernels/backend.js';
import { KERNEL_NAMES, type KernelName } from '../../dist/kernels/kernels.js';
import { ISAS, type Isa } from '../../dist/kernels/native.js';
import { mismatches } from '../support/compare.js';
import { randomFloat32, seededRandom } from '../support/random.js';

interface Check {
  name: string;
  kernels: KernelName[];
  /** The mismatches of native against ts, '' when they agree. */
  run(native: Backend, ts: Backend, random: () => number): string;
}

const joined = (...messages: string[]) => messages.filter(Boolean).join('\n');

/** Every |a - r| <= tolerance * max(1, max |r|): products whose small entries come from cancellation (conv.test.ts). */
function normwise(actual: ArrayLike<number>, reference: ArrayLike<number>, tolerance: number, label: string): string {
  let scale = 1;
  for (let i = 0; i < reference.length; i++) scale = Math.max(scale, Math.abs(reference[i]));
  return mismatches(actual, reference, 0, tolerance * scale, label);
}

// GEMM, as test/gemm.test.ts: against the TS kernel in float64, each entry within Higham's bound for any order of
// float32 multiply-adds, gamma_{K+2} (|alpha| |op(A)| |op(B)| + |beta C0|), gamma_n = n u / (1 - n u).
const GEMM_SHAPES: [number, number, number][] = [
  [1, 1, 1], [7, 5, 3], [8, 12, 16], [9, 13, 17], [17, 23, 255], [16, 24, 257], [64, 10, 128],
  [100, 100, 784], [100, 784, 100], [33, 260, 300], [150, 11, 513],
];
const SCALARS: [number, number][] = [[1, 0], [1, 1], [-0.5, 0.3], [2, -1]];

function gemmCheck(transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number, beta: number): Check {
  return {
    name: `gemm transA=${transA} transB=${transB} ${M}x${N}x${K} alpha=${alpha} beta=${beta}`,
    kernels: ['gemm'],
    run(native, _ts, random) {
      const A = randomFloat32(M * K, random), B = randomFloat32(K * N, random), C0 = randomFloat32(M * N, random);
      const C = C0.slice();
      native.gemm(transA, transB, M, N, K, alpha, A, B, beta, C);
      const value = Float64Array.from(C0);
      float64Backend.gemm(transA, transB, M, N, K, alpha, Float64Array.from(A), Float64Array.from(B), beta, value);
      const bound = Float64Array.from(C0, (c) => Math.abs(beta * c));
      const abs = (v: Float32Array) => Float64Array.from(v, Math.abs);
      float64Backend.gemm(transA, transB, M, N, K, Math.abs(alpha), abs(A), abs(B), 1, bound);
      const u = 2 ** -24, gamma = ((K + 2) * u) / (1 - (K + 2) * u);
      const bad: string[] = [];
      let worst = 0;
      for (let i = 0; i < C.length; i++) {
        const err = Math.abs(C[i] - value[i]), limit = gamma * bound[i] + 1e-30;
        worst = Math.max(worst, err / limit);
        if (!(err <= limit) && bad.length < 5) bad.push(`C[${i}] = ${C[i]}, expected ${value[i]} ± ${limit}`);
      }
      return bad.length === 0 ? '' : `${bad.join('\n')}\nmax error / bound = ${worst}`;
    },
  };
}

// Linear, as test/linear.test.ts: rtol 1e-4, atol 1e-5 sqrt(k + 1) for sums of k products.
function linearCheck(N: number, I: number, O: number): Check {
  return {
    name: `linear N=${N} in=${I} out=${O}`,
    kernels: ['linearForward', 'linearBackward'],
    run(native, ts, random) {
      const [x, w, b, dy] = [randomFloat32(N * I, random), randomFloat32(O * I, random), randomFloat32(O, random), randomFloat32(N * O, random)];
      const outputs = (k: Backend) => {
        const y = new Float32Array(N * O), y0 = new Float32Array(N * O), dx = new Float32Array(N * I);
        const dw = new Float32Array(O * I).fill(0.5), db = new Float32Array(O).fill(0.5), dw0 = new Float32Array(O * I);
        k.linearForward(y, x, w, b, N, I, O);
        k.linearForward(y0, x, w, null, N, I, O);
        k.linearBackward(dx, dw, db, dy, x, w, N, I, O);
        k.linearBackward(null, dw0, null, dy, x, w, N, I, O);
        return { y, y0, dx, dw, db, dw0 };
      };
      const [a, r] = [outputs(native), outputs(ts)];
      const tol = (k: number) => 1e-5 * Math.sqrt(k + 1);
      return joined(mismatches(a.y, r.y, 1e-4, tol(I), 'y'), mismatches(a.y0, r.y0, 1e-4, tol(I), 'y without bias'),
        mismatches(a.dx, r.dx, 1e-4, tol(O), 'dx'), mismatches(a.dw, r.dw, 1e-4, tol(N), 'dweight'),
        mismatches(a.db, r.db, 1e-4, tol(N), 'dbias'), mismatches(a.dw0, r.dw0, 1e-4, tol(N), 'dweight without dx'));
    },
  };
}

// BatchNorm, as test/batchnorm.test.ts: rtol 1e-4, atol 1e-5 (sqrt(N*S) times that for dgamma and dbeta); then a
// fused ReLU's backward must count dy exactly where the path's own forward output is positive, on data with many
// outputs exactly 0 (each channel's values in pairs ±v, a third of them 0 and a third ±1e-30; odd channels' beta 0).
function batchnormCheck(N: number, C: number, S: number, relu: boolean): Check {
  return {
    name: `batchnorm N=${N} C=${C} S=${S} relu=${relu}`,
    kernels: ['batchnormForwardTrain', 'batchnormForwardEval', 'batchnormBackward'],
    run(native, ts, random) {
      const x = randomFloat32(N * C * S, random).map((v, i) => 3 * v + (i % 7));
      const gamma = randomFloat32(C, random).map((v) => v + 1.5), beta = randomFloat32(C, random);
      const runningMean = randomFloat32(C, random), runningVar = randomFloat32(C, random).map((v) => v + 1.5);
      const dy = randomFloat32(N * C * S, random);
      const outputs = (k: Backend) => {
        const o = {
          y: new Float32Array(N * C * S), yEval: new Float32Array(N * C * S), dx: new Float32Array(N * C * S),
          mean: new Float32Array(C), invStd: new Float32Array(C), runningMean: runningMean.slice(), runningVar: runningVar.slice(),
          dgamma: new Float32Array(C).fill(0.5), dbeta: new Float32Array(C).fill(-0.25),
        };
        k.batchnormForwardEval(o.yEval, x, gamma, beta, runningMean, runningVar, N, C, S, 1e-5, relu);
        k.batchnormForwardTrain(o.y, o.mean, o.invStd, o.runningMean, o.runningVar, x, gamma, beta, N, C, S, 0.1, 1e-5, relu);
        k.batchnormBackward(o.dx, o.dgamma, o.dbeta, dy, x, o.mean, o.invStd, gamma, N, C, S, relu ? beta : null);
        return o;
      };
      const [a, r] = [outputs(native), outputs(ts)];
      const sums = 1e-5 * Math.sqrt(N * S);
      const agree = joined(...(['y', 'yEval', 'dx', 'mean', 'invStd', 'runningMean', 'runningVar'] as const)
        .map((key) => mismatches(a[key], r[key], 1e-4, 1e-5, key)),
        mismatches(a.dgamma, r.dgamma, 1e-4, sums, 'dgamma'), mismatches(a.dbeta, r.dbeta, 1e-4, sums, 'dbeta'));
      return relu ? joined(agree, fusedMask(native, N, C, S, x, gamma, beta, dy)) : agree;
    },
  };
}

function fusedMask(k: Backend, N: number, C: number, S: number, values: Float32Array, gamma: Float32Array,
  beta: Float32Array, dy: Float32Array): string {
  const x = new Float32Array(N * C * S);
  for (let c = 0; c < C; c++) {
    for (let i = 0; i < N * S; i++) {
      const pair = i >> 1, magnitude = pair % 3 === 0 ? 0 : pair % 3 === 1 ? 1e-30 : values[c * N * S + pair];
      x[(Math.floor(i / S) * C + c) * S + (i % S)] = i % 2 ? -magnitude : magnitude;
    }
  }
  const zeroed = beta.map((v, c) => (c % 2 ? 0 : v));
  const y = new Float32Array(N * C * S), mean = new Float32Array(C), invStd = new Float32Array(C);
  k.batchnormForwardTrain(y, mean, invStd, new Float32Array(C), new Float32Array(C).fill(1), x, gamma, zeroed, N, C, S, 0.1, 1e-5, true);
  const backward = (g: Float32Array, fused: boolean) => {
    const o = [new Float32Array(N * C * S), new Float32Array(C), new Float32Array(C)];
    k.batchnormBackward(o[0], o[1], o[2], g, x, mean, invStd, gamma, N, C, S, fused ? zeroed : null);
    return o;
  };
  const fused = backward(dy, true), masked = backward(dy.map((g, i) => (y[i] > 0 ? g : 0)), false);
  return joined(...fused.map((v, i) => mismatches(v, masked[i], 0, 0, `fused ReLU backward ${['dx', 'dgamma', 'dbeta'][i]}`)));
}

// Unfolding, as test/conv.test.ts: im2col copies and col2im adds each pixel's entries in one order, so both are
// the TS twin's bits on every path.
type Window = [N: number, C: number, H: number, W: number, KH: number, KW: number, stride: number, padding: number];
const UNFOLD_SHAPES: Window[] = [
  [1, 1, 1, 1, 1, 1, 1, 0], [1, 1, 3, 3, 3, 3, 1, 1], [2, 3, 7, 5, 3, 2, 2, 1], [3, 2, 5, 6, 2, 3, 3, 2],
  [4, 1, 28, 28, 5, 5, 1, 0], [3, 20, 12, 12, 3, 3, 1, 0], [2, 4, 12, 12, 3, 3, 1, 1], [2, 3, 6, 21, 2, 10, 1, 0],
];
const outSize = (size: number, k: number, stride: number, padding: number) => Math.floor((size + 2 * padding - k) / stride) + 1;

function unfoldCheck([N, C, H, W, KH, KW, stride, padding]: Window): Check {
  return {
    name: `im2col col2im N=${N} C=${C} H=${H} W=${W} ${KH}x${KW} stride=${stride} padding=${padding}`,
    kernels: ['im2col', 'col2im'],
    run(native, ts, random) {
      const colsLength = C * KH * KW * N * outSize(H, KH, stride, padding) * outSize(W, KW, stride, padding);
      const x = randomFloat32(N * C * H * W, random), c = randomFloat32(colsLength, random);
      const outputs = (k: Backend) => {
        const cols = new Float32Array(colsLength).fill(NaN), dx = new Float32Array(x.length).fill(NaN);
        k.im2col(cols, x, N, C, H, W, KH, KW, stride, padding);
        k.col2im(dx, c, N, C, H, W, KH, KW, stride, padding);
        return [cols, dx];
      };
      const [a, r] = [outputs(native), outputs(ts)];
      return joined(mismatches(a[0], r[0], 0, 0, 'cols'), mismatches(a[1], r[1], 0, 0, 'dx'));
    },
  };
}

// Convolutions, as test/conv.test.ts: normwise 1e-5.
function convCheck([N, C, H, W, KH, KW, stride, padding]: Window, OC: number): Check {
  return {
    name: `conv2d N=${N} C=${C} H=${H} W=${W} OC=${OC} ${KH}x${KW} stride=${stride} padding=${padding}`,
    kernels: ['conv2dForward', 'conv2dBackwardInput', 'conv2dBackwardParams'],
    run(native, ts, random) {
      const yLength = N * OC * outSize(H, KH, stride, padding) * outSize(W, KW, stride, padding);
      const x = randomFloat32(N * C * H * W, random), weight = randomFloat32(OC * C * KH * KW, random);
      const bias = randomFloat32(OC, random), dy = randomFloat32(yLength, random);
      const dweight0 = randomFloat32(weight.length, random), dbias0 = randomFloat32(OC, random);
      const d = [N, C, H, W, OC, KH, KW, stride, padding] as const;
      const outputs = (k: Backend) => {
        const y = new Float32Array(yLength).fill(NaN), dx = new Float32Array(x.length).fill(NaN);
        const dweight = dweight0.slice(), dbias = dbias0.slice();
        k.conv2dForward(y, x, weight, bias, ...d);
        k.conv2dBackwardInput(dx, dy, weight, ...d);
        k.conv2dBackwardParams(dweight, dbias, dy, x, ...d);
        return [y, dx, dweight, dbias];
      };
      const [a, r] = [outputs(native), outputs(ts)];
      return joined(...['y', 'dx', 'dweight', 'dbias'].map((name, i) => normwise(a[i], r[i], 1e-5, name)));
    },
  };
}

// Max pooling, as test/pool.test.ts: forward selects (exact), backward adds (rtol 1e-4, atol 1e-5).
function poolCheck(N: number, C: number, H: number, W: number, KH: number, KW: number, stride: number): Check {
  return {
    name: `maxpool N=${N} C=${C} H=${H} W=${W} ${KH}x${KW} stride=${stride}`,
    kernels: ['maxpoolForward', 'maxpoolBackward'],
    run(native, ts, random) {
      const outLength = N * C * outSize(H, KH, stride, 0) * outSize(W, KW, stride, 0);
      const x = randomFloat32(N * C * H * W, random), dy = randomFloat32(outLength, random);
      const outputs = (k: Backend) => {
        const y = new Float32Array(outLength), argmax = new Int32Array(outLength), dx = new Float32Array(x.length);
        k.maxpoolForward(y, argmax, x, N, C, H, W, KH, KW, stride);
        k.maxpoolBackward(dx, dy, argmax, N, C, H, W, KH, KW, stride);
        return { y, argmax, dx };
      };
      const [a, r] = [outputs(native), outputs(ts)];
      return joined(mismatches(a.y, r.y, 0, 0, 'y'), mismatches(a.argmax, r.argmax, 0, 0, 'argmax'),
        mismatches(a.dx, r.dx, 1e-4, 1e-5, 'dx'));
    },
  };
}

// BatchNorm2d with the max-pool fused, as test/batchnorm-pool.test.ts: against TS within batchnorm's tolerances (not
// argmax: a window's near-tie may round either way), and bit for bit, argmax too, against the path's own
// batchnormForwardTrain + maxpoolForward.
function batchnormPoolCheck(N: number, C: number, H: number, W: number, K: number, stride: number, relu: boolean): Check {
  return {
    name: `batchnormPool N=${N} C=${C} H=${H} W=${W} ${K}x${K} stride=${stride} relu=${relu}`,
    kernels: ['batchnormPoolForwardTrain'],
    run(native, ts, random) {
      const S = H * W, pooled = N * C * outSize(H, K, stride, 0) * outSize(W, K, stride, 0);
      const x = randomFloat32(N * C * S, random).map((v, i) => 3 * v + (i % 7));
      const gamma = randomFloat32(C, random).map((v) => v + 1.5), beta = randomFloat32(C, random);
      const outputs = (k: Backend, fused: boolean) => {
        const o = {
          y: new Float32Array(pooled), argmax: new Int32Array(pooled), mean: new Float32Array(C), invStd: new Float32Array(C),
          runningMean: new Float32Array(C), runningVar: new Float32Array(C).fill(1),
        };
        if (fused) {
          k.batchnormPoolForwardTrain(o.y, o.argmax, o.mean, o.invStd, o.runningMean, o.runningVar, x, gamma, beta, N, C, H, W, K, K, stride, 0.1, 1e-5, relu);
        } else {
          const full = new Float32Array(N * C * S);
          k.batchnormForwardTrain(full, o.mean, o.invStd, o.runningMean, o.runningVar, x, gamma, beta, N, C, S, 0.1, 1e-5, relu);
          k.maxpoolForward(o.y, o.argmax, full, N, C, H, W, K, K, stride);
        }
        return o;
      };
      const [a, r, two] = [outputs(native, true), outputs(ts, true), outputs(native, false)];
      const keys = ['y', 'mean', 'invStd', 'runningMean', 'runningVar'] as const;
      return joined(...keys.map((key) => mismatches(a[key], r[key], 1e-4, 1e-5, key)),
        ...[...keys, 'argmax' as const].map((key) => mismatches(a[key], two[key], 0, 0, `${key} (fused against the two kernels)`)));
    },
  };
}

// Elementwise, as test/elementwise.test.ts: relu and dropout exact, sigmoid rtol 1e-4 (atol 1e-6).
function elementwiseCheck(length: number): Check {
  return {
    name: `elementwise length=${length}`,
    kernels: ['reluForward', 'reluBackward', 'sigmoidForward', 'sigmoidBackward', 'dropoutForward', 'dropoutBackward'],
    run(native, ts, random) {
      const x = randomFloat32(length, random).map((v) => 8 * v), dy = randomFloat32(length, random);
      const outputs = (k: Backend) => {
        const o = Array.from({ length: 7 }, () => new Float32Array(length));
        k.reluForward(o[0], x, length);
        k.reluBackward(o[1], dy, o[0], length);
        k.sigmoidForward(o[2], x, length);
        k.sigmoidBackward(o[3], dy, o[2], length);
        k.dropoutForward(o[4], o[5], x, length, 0.37, 0xdeadbeef);
        k.dropoutBackward(o[6], dy, o[5], length);
        return o;
      };
      const [a, r] = [outputs(native), outputs(ts)];
      const rtol = [0, 0, 1e-4, 1e-4, 0, 0, 0];
      const names = ['relu y', 'relu dx', 'sigmoid y', 'sigmoid dx', 'dropout y', 'dropout mask', 'dropout dx'];
      return joined(...a.map((v, i) => mismatches(v, r[i], rtol[i], rtol[i] * 1e-2, names[i])));
    },
  };
}

// Softmax cross-entropy, as test/loss.test.ts: probs and dlogits rtol 1e-4 (atol 1e-8), the loss 1e-12 relative.
function lossCheck(N: number, C: number, scale: number): Check {
  return {
    name: `softmaxCrossEntropy N=${N} C=${C} scale=${scale}`,
    kernels: ['softmaxCrossEntropyForward', 'softmaxCrossEntropyBackward'],
    run(native, ts, random) {
      const logits = randomFloat32(N * C, random).map((v) => v * scale);
      const labels = Int32Array.from({ length: N }, () => Math.floor(random() * C));
      const outputs = (k: Backend) => {
        const probs = new Float32Array(N * C), dlogits = new Float32Array(N * C);
        const loss = k.softmaxCrossEntropyForward(probs, logits, labels, N, C);
        k.softmaxCrossEntropyBackward(dlogits, probs, labels, N, C, 0.25);
        return { probs, dlogits, loss };
      };
      const [a, r] = [outputs(native), outputs(ts)];
      const loss = Math.abs(a.loss - r.loss) <= 1e-12 * Math.abs(r.loss) + 1e-12 ? '' : `loss ${a.loss}, expected ${r.loss}`;
      return joined(mismatches(a.probs, r.probs, 1e-4, 1e-8, 'probs'), mismatches(a.dlogits, r.dlogits, 1e-4, 1e-8, 'dlogits'), loss);
    },
  };
}

// Optimizers, as test/optim.test.ts: three steps from step 1 (where momentum buffers start as g) and from step 9,
// param and state within a relative 1e-6.
const UPDATES: [KernelName, states: number, scalars: number[]][] = [
  ['sgdUpdate', 0, [0.03, 0.1]],
  ['momentumUpdate', 1, [0.05, 0.8, 0.3, 0.01]],
  ['nesterovUpdate', 1, [0.02, 0.7, 0.05]],
  ['adagradUpdate', 1, [0.1, 0.5, 1e-3, 0.02]],
  ['rmspropUpdate', 1, [0.003, 0.9, 1e-4, 0.1]],
  ['adamUpdate', 2, [0.02, 0.5, 0.9, 1e-3, 0.1]],
];

function optimCheck(kernel: KernelName, states: number, scalars: number[], length: number): Check {
  // The step comes last for the kernels that take one.
  const takesStep = !['sgdUpdate', 'rmspropUpdate'].includes(kernel);
  return {
    name: `${kernel} length=${length}`,
    kernels: [kernel],
    run(native, ts, random) {
      const param = randomFloat32(length, random);
      const state = Array.from({ length: states }, () => randomFloat32(length, random).map((v) => v * v));
      const grads = [0, 1, 2].map((s) => randomFloat32(length, random).map((v) => v * (s + 1)));
      const outputs = (k: Backend) => {
        const o = [param.slice(), ...state.map((s) => s.slice())];
        for (const first of [1, 9]) {
          grads.forEach((g, s) => (k[kernel] as (...args: unknown[]) => void)(...o, g, length, ...scalars,
            ...(takesStep ? [first + s] : [])));
        }
        return o;
      };
      const [a, r] = [outputs(native), outputs(ts)];
      return joined(...a.map((v, i) => mismatches(v, r[i], 1e-6, 0, i === 0 ? 'param' : `state ${i}`)));
    },
  };
}

// gatherScale, as test/gather.test.ts: the TS kernel's bits, for uint8 and float32 samples; 0.00023768374341584384
// puts 63 * scale next to a float32 rounding midpoint, where the float form would round the other way. The rows
// are prefetched first (prefetchRows: AArch64's PRFM), which must change nothing.
function gatherCheck(N: number, D: number, stored: number): Check {
  return {
    name: `prefetchRows, gatherScale N=${N} D=${D} from ${stored} rows`,
    kernels: ['gatherScale', 'prefetchRows'],
    run(native, ts, random) {
      const bytes = Uint8Array.from({ length: stored * D }, () => Math.floor(random() * 256));
      const floats = randomFloat32(stored * D, random);
      const rows = Int32Array.from({ length: N }, () => Math.floor(random() * stored));
      const messages: string[] = [];
      for (const x of [bytes, floats]) {
        for (const k of [native, ts]) k.prefetchRows(x, rows, N, D);
        for (const scale of [1 / 255, 1, 0.37, 0.00023768374341584384]) {
          const [a, r] = [native, ts].map((k) => {
            const out = new Float32Array(N * D).fill(NaN);
            k.gatherScale(out, x, rows, N, D, scale);
            return out;
          });
          messages.push(mismatches(a, r, 0, 0, `${x.constructor.name} scale ${scale}`));
        }
      }
      return joined(...messages);
    },
  };
}

function checks(): Check[] {
  const random = seededRandom(2024);
  const out: Check[] = [];
  for (const [M, N, K] of GEMM_SHAPES) {
    for (const [transA, transB] of [[false, false], [false, true], [true, false], [true, true]]) {
      const [alpha, beta] = SCALARS[Math.floor(random() * SCALARS.length)];
      out.push(gemmCheck(transA, transB, M, N, K, alpha, beta));
    }
  }
  for (const [N, I, O] of [[1, 1, 1], [7, 13, 5], [37, 50, 10], [100, 784, 100]]) out.push(linearCheck(N, I, O));
  for (const [N, C, S] of [[2, 3, 1], [37, 45, 1], [100, 21, 1], [6, 21, 1], [3, 1, 2], [7, 5, 13], [4, 5, 13], [16, 20, 144]]) {
    for (const relu of [false, true]) out.push(batchnormCheck(N, C, S, relu));
  }
  out.push(...UNFOLD_SHAPES.map(unfoldCheck));
  for (const [i, shape] of UNFOLD_SHAPES.slice(1).entries()) out.push(convCheck(shape, [3, 4, 2, 20, 50, 5, 7][i]));
  out.push(poolCheck(1, 1, 5, 7, 2, 2, 2), poolCheck(2, 3, 7, 9, 3, 3, 2), poolCheck(4, 20, 24, 24, 2, 2, 2));
  for (const relu of [false, true]) out.push(batchnormPoolCheck(4, 20, 24, 24, 2, 2, relu), batchnormPoolCheck(3, 5, 7, 9, 3, 2, relu));
  out.push(...[1, 7, 1000, 4099].map(elementwiseCheck));
  out.push(lossCheck(1, 1, 1), lossCheck(7, 3, 5), lossCheck(100, 10, 3), lossCheck(5, 1000, 20), lossCheck(3, 17, 1e4));
  for (const [kernel, states, scalars] of UPDATES) out.push(optimCheck(kernel, states, scalars, 1000), optimCheck(kernel, states, scalars, 7));
  out.push(gatherCheck(1, 1, 1), gatherCheck(7, 13, 9), gatherCheck(100, 784, 600));
  return out;
}

function main(): void {
  const start = performance.now();
  const native = getBackend('native'), ts = getBackend('ts');
  const info = native.info();
  const all = checks();
  const failures: { isa: string; check: string; message: string }[] = [];
  for (const kernel of KERNEL_NAMES) {
    if (!all.some((c) => c.kernels.includes(kernel))) failures.push({ isa: '-', check: kernel, message: 'no check covers it' });
  }
  const isas = ISAS.slice(ISAS.indexOf(info.detectedIsa as Isa));
  try {
    for (const isa of isas) {
      configure({ isa });
      for (const [i, check] of all.entries()) {
        const message = check.run(native, ts, seededRandom(i + 1));
        console.log(`${message === '' ? 'ok  ' : 'FAIL'} [${isa}] ${check.name}${message === '' ? '' : `\n${message}`}`);
        if (message !== '') failures.push({ isa, check: check.name, message });
      }
    }
  } finally {
    configure({ isa: info.detectedIsa as Isa });
  }
  const seconds = Math.round((performance.now() - start) / 100) / 10;
  console.log(JSON.stringify({ arch: process.arch, addonPath: info.addonPath, isas, checks: all.length * isas.length, failures, seconds }));
  process.exitCode = failures.length === 0 ? 0 : 1;
}

main();
