/**
 * Optimizer update kernels against a float64 reference of torch.optim's rules written here from torch 1.13's
 * source, over several steps (weight decay on and off, first and later steps, lrDecay, dampening), on every
 * backend and CPU path; native against TS; bad input from both backends and the raw addon. Then the optimizer
 * classes: options, one kernel call per run of adjacent parameters (a whole model: one), one state allocation,
 * and a state dict that survives JSON bit for bit (3 steps, save, load into a fresh optimizer, continue = the
 * uninterrupted run).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { configure, getBackend, nativeAvailable, type Backend } from '../src/kernels/backend.js';
import type { FloatArray } from '../src/kernels/check.js';
import type { KernelName } from '../src/kernels/kernels.js';
import { ISAS, loadNative, type Isa } from '../src/kernels/native.js';
import { BatchNorm1d, Linear, ReLU, Sequential, SoftmaxCrossEntropy } from '../src/nn/index.js';
import type { Parameter } from '../src/nn/sequential.js';
import { AdaGrad, Adam, Momentum, Nesterov, RMSprop, SGD, type Optimizer, type OptimizerState } from '../src/optim/index.js';
import { describeBackends } from './support/backends.js';
import { mismatches } from './support/compare.js';
import { randomFloat32, seededRandom } from './support/random.js';

type Kind = 'sgd' | 'momentum' | 'nesterov' | 'adagrad' | 'rmsprop' | 'adam';
type Hyper = Record<string, number>;

/** Each kernel: its state buffers and how its scalars follow the arrays and length. */
const KERNELS: Record<Kind, { name: KernelName; buffers: string[]; scalars: string[] }> = {
  sgd: { name: 'sgdUpdate', buffers: [], scalars: ['lr', 'weightDecay'] },
  momentum: { name: 'momentumUpdate', buffers: ['velocity'], scalars: ['lr', 'momentum', 'dampening', 'weightDecay', 'step'] },
  nesterov: { name: 'nesterovUpdate', buffers: ['velocity'], scalars: ['lr', 'momentum', 'weightDecay', 'step'] },
  adagrad: { name: 'adagradUpdate', buffers: ['sum'], scalars: ['lr', 'lrDecay', 'eps', 'weightDecay', 'step'] },
  rmsprop: { name: 'rmspropUpdate', buffers: ['squareAvg'], scalars: ['lr', 'alpha', 'eps', 'weightDecay'] },
  adam: { name: 'adamUpdate', buffers: ['expAvg', 'expAvgSq'], scalars: ['lr', 'beta1', 'beta2', 'eps', 'weightDecay', 'step'] },
};

/** Hyper-parameter sets: torch's defaults, then others with weight decay. */
const CASES: [Kind, Hyper][] = [
  ['sgd', { lr: 0.1, weightDecay: 0 }],
  ['sgd', { lr: 0.03, weightDecay: 0.1 }],
  ['momentum', { lr: 0.1, momentum: 0.9, dampening: 0, weightDecay: 0 }],
  ['momentum', { lr: 0.05, momentum: 0.8, dampening: 0.3, weightDecay: 0.01 }],
  ['nesterov', { lr: 0.1, momentum: 0.9, weightDecay: 0 }],
  ['nesterov', { lr: 0.02, momentum: 0.7, weightDecay: 0.05 }],
  ['adagrad', { lr: 0.01, lrDecay: 0, eps: 1e-10, weightDecay: 0 }],
  ['adagrad', { lr: 0.1, lrDecay: 0.5, eps: 1e-3, weightDecay: 0.02 }],
  ['rmsprop', { lr: 0.01, alpha: 0.99, eps: 1e-8, weightDecay: 0 }],
  ['rmsprop', { lr: 0.003, alpha: 0.9, eps: 1e-4, weightDecay: 0.1 }],
  ['adam', { lr: 0.001, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 }],
  ['adam', { lr: 0.02, beta1: 0.5, beta2: 0.9, eps: 1e-3, weightDecay: 0.1 }],
];

const LENGTHS = [0, 1, 7, 33, 1000];

/** torch.optim's single-tensor rules (torch/optim/{sgd,adagrad,rmsprop,adam}.py, 1.13), in float64. */
function referenceStep(kind: Kind, h: Hyper, param: Float64Array, state: Float64Array[], grad: ArrayLike<number>, step: number): void {
  for (let i = 0; i < param.length; i++) {
    const p = param[i];
    const g = h.weightDecay !== 0 ? grad[i] + h.weightDecay * p : grad[i];
    if (kind === 'sgd') {
      param[i] = p - h.lr * g;
    } else if (kind === 'momentum' || kind === 'nesterov') {
      const dampening = kind === 'nesterov' ? 0 : h.dampening;
      const buf = step === 1 ? g : h.momentum * state[0][i] + (1 - dampening) * g;
      state[0][i] = buf;
      param[i] = p - h.lr * (kind === 'nesterov' ? g + h.momentum * buf : buf);
    } else if (kind === 'adagrad') {
      const clr = h.lr / (1 + (step - 1) * h.lrDecay);
      state[0][i] += g * g;
      param[i] = p - clr * g / (Math.sqrt(state[0][i]) + h.eps);
    } else if (kind === 'rmsprop') {
      state[0][i] = h.alpha * state[0][i] + (1 - h.alpha) * g * g;
      param[i] = p - h.lr * g / (Math.sqrt(state[0][i]) + h.eps);
    } else {
      state[0][i] = h.beta1 * state[0][i] + (1 - h.beta1) * g;
      state[1][i] = h.beta2 * state[1][i] + (1 - h.beta2) * g * g;
      const stepSize = h.lr / (1 - h.beta1 ** step);
      const denom = Math.sqrt(state[1][i]) / Math.sqrt(1 - h.beta2 ** step) + h.eps;
      param[i] = p - stepSize * state[0][i] / denom;
    }
  }
}

function callKernel(b: Backend, kind: Kind, h: Hyper, param: Float32Array, state: Float32Array[], grad: Float32Array, step: number): void {
  const { name, scalars } = KERNELS[kind];
  const values = scalars.map((s) => (s === 'step' ? step : h[s]));
  (b[name] as (...args: unknown[]) => void)(param, ...state, grad, param.length, ...values);
}

/** Inputs for `steps` steps: a parameter, initial state (NaN where step 1 must not read it), a gradient per step. */
function inputs(kind: Kind, length: number, steps: number, seed: number, firstStep: number) {
  const random = seededRandom(seed);
  const param = randomFloat32(length, random);
  const state = KERNELS[kind].buffers.map((name) => {
    if (name === 'velocity' && firstStep === 1) return new Float32Array(length).fill(NaN); // torch copies g at step 1
    if (firstStep === 1 && (kind === 'rmsprop' || kind === 'adam')) return new Float32Array(length);
    const values = randomFloat32(length, random);
    return name === 'expAvgSq' || name === 'sum' || name === 'squareAvg' ? values.map((v) => v * v) : values.map((v) => 0.5 * v);
  });
  const grads = Array.from({ length: steps }, (_, s) => randomFloat32(length, random).map((v) => v * (s + 1)));
  return { param, state, grads };
}

function run(b: Backend, kind: Kind, h: Hyper, length: number, firstStep: number, steps = 4, seed = 7) {
  const x = inputs(kind, length, steps, seed + length, firstStep);
  x.grads.forEach((g, s) => callKernel(b, kind, h, x.param, x.state, g, firstStep + s));
  return x;
}

function runReference(kind: Kind, h: Hyper, length: number, firstStep: number, steps = 4, seed = 7) {
  const x = inputs(kind, length, steps, seed + length, firstStep);
  const param = Float64Array.from(x.param);
  const state = x.state.map((s) => Float64Array.from(s));
  x.grads.forEach((g, s) => referenceStep(kind, h, param, state, g, firstStep + s));
  return { param, state };
}

describeBackends('optimizer kernels', (backend) => {
  describe.each(CASES)('%s %j', (kind, h) => {
    it.each(LENGTHS)('length %i: 4 steps from step 1 match the float64 torch rule', (length) => {
      const got = run(backend(), kind, h, length, 1);
      const want = runReference(kind, h, length, 1);
      expect(mismatches(got.param, want.param, 1e-5, 1e-6, 'param')).toBe('');
      got.state.forEach((s, k) => expect(mismatches(s, want.state[k], 1e-5, 1e-6, KERNELS[kind].buffers[k])).toBe(''));
    });

    it('4 steps from step 5 with state already there match the float64 torch rule', () => {
      const got = run(backend(), kind, h, 257, 5);
      const want = runReference(kind, h, 257, 5);
      expect(mismatches(got.param, want.param, 1e-5, 1e-6, 'param')).toBe('');
      got.state.forEach((s, k) => expect(mismatches(s, want.state[k], 1e-5, 1e-6, KERNELS[kind].buffers[k])).toBe(''));
    });
  });

  it.each(['sgd', 'momentum', 'adagrad', 'rmsprop', 'adam'] as Kind[])('%s: a tensor large enough for the thread pool (2^17 + 5)', (kind) => {
    const h = CASES.find(([k, c]) => k === kind && c.weightDecay > 0)![1];
    const length = 2 ** 17 + 5;
    const got = run(backend(), kind, h, length, 1, 2);
    const want = runReference(kind, h, length, 1, 2);
    expect(mismatches(got.param, want.param, 1e-5, 1e-6, 'param')).toBe('');
    got.state.forEach((s, k) => expect(mismatches(s, want.state[k], 1e-5, 1e-6, KERNELS[kind].buffers[k])).toBe(''));
  });

  it('leaves grad unchanged and accepts disjoint views of one buffer', () => {
    const all = randomFloat32(40, seededRandom(3));
    const [param, expAvg, expAvgSq, grad] = [0, 1, 2, 3].map((k) => all.subarray(10 * k, 10 * k + 10));
    expAvgSq.fill(0.25);
    const before = grad.slice();
    backend().adamUpdate(param, expAvg, expAvgSq, grad, 10, 0.01, 0.9, 0.999, 1e-8, 0.1, 1);
    expect(grad).toEqual(before);
  });
});

describe.skipIf(!nativeAvailable())('optimizer kernels: native against TS', () => {
  describe.each(CASES)('%s %j', (kind, h) => {
    it.each([1, 1000, 2 ** 17 + 3])('length %i, 3 steps from step 1 and from step 9, within 1e-6', (length) => {
      for (const firstStep of [1, 9]) {
        const native = run(getBackend('native'), kind, h, length, firstStep, 3, 11);
        const ts = run(getBackend('ts'), kind, h, length, firstStep, 3, 11);
        expect(mismatches(native.param, ts.param, 1e-6, 0, 'param')).toBe('');
        native.state.forEach((s, k) => expect(mismatches(s, ts.state[k], 1e-6, 0, KERNELS[kind].buffers[k])).toBe(''));
      }
    });
  });
});

// native/kernels/optim.h's promise: on every CPU path (the AVX-512 one runs its own copy of the loops) the updates
// are the TS kernels' bit for bit.
describe.skipIf(!nativeAvailable())('optimizer kernels: native against TS, bit for bit on every CPU path', () => {
  const best = (nativeAvailable() ? getBackend('native').info().detectedIsa : 'generic') as Isa;
  afterAll(() => configure({ isa: best }));
  describe.each(ISAS.slice(ISAS.indexOf(best)))('%s', (isa) => {
    it.each(CASES)('%s %j: lengths 1, 1000 and 2^17 + 3, 3 steps from step 1 and from step 9', (kind, h) => {
      configure({ isa });
      for (const length of [1, 1000, 2 ** 17 + 3]) {
        for (const firstStep of [1, 9]) {
          const native = run(getBackend('native'), kind, h, length, firstStep, 3, 11);
          const ts = run(getBackend('ts'), kind, h, length, firstStep, 3, 11);
          expect(mismatches(native.param, ts.param, 0, 0, 'param')).toBe('');
          native.state.forEach((s, k) => expect(mismatches(s, ts.state[k], 0, 0, KERNELS[kind].buffers[k])).toBe(''));
        }
      }
    });
  });
});

// Bad input: the same error from the TS checks and from the addon's own.
const f = (n: number) => new Float32Array(n);
const shared = f(30);
const BAD: [string, KernelName, unknown[], ErrorConstructor, RegExp][] = [
  ['too few arguments', 'sgdUpdate', [f(3), f(3), 3, 0.1], TypeError, /^sgdUpdate: expected 5 arguments \(param, grad, length, lr, weightDecay\), got 4$/],
  ['param too short', 'sgdUpdate', [f(2), f(3), 3, 0.1, 0], RangeError, /^sgdUpdate: param must have length length = 3, got 2$/],
  ['grad too long', 'momentumUpdate', [f(3), f(3), f(4), 3, 0.1, 0.9, 0, 0, 1], RangeError, /^momentumUpdate: grad must have length length = 3, got 4$/],
  ['state too short', 'adamUpdate', [f(3), f(3), f(2), f(3), 3, 0.1, 0.9, 0.999, 1e-8, 0, 1], RangeError, /^adamUpdate: expAvgSq must have length length = 3, got 2$/],
  ['a Float64Array', 'rmspropUpdate', [f(3), new Float64Array(3), f(3), 3, 0.1, 0.99, 1e-8, 0], TypeError, /^rmspropUpdate: squareAvg must be a Float32Array$/],
  ['length fractional', 'sgdUpdate', [f(3), f(3), 2.5, 0.1, 0], RangeError, /^sgdUpdate: length must be an integer in \[0, 2\^31\), got 2.5$/],
  ['negative lr', 'sgdUpdate', [f(3), f(3), 3, -0.1, 0], RangeError, /^sgdUpdate: lr must be in \[0, Infinity\), got -0.1$/],
  ['infinite lr', 'adamUpdate', [f(3), f(3), f(3), f(3), 3, Infinity, 0.9, 0.999, 1e-8, 0, 1], RangeError, /^adamUpdate: lr must be in \[0, Infinity\), got Infinity$/],
  ['NaN weight decay', 'sgdUpdate', [f(3), f(3), 3, 0.1, NaN], RangeError, /^sgdUpdate: weightDecay must be in \[0, Infinity\), got NaN$/],
  ['lr a string', 'sgdUpdate', [f(3), f(3), 3, '0.1', 0], TypeError, /^sgdUpdate: lr must be a number$/],
  ['momentum above 1', 'momentumUpdate', [f(3), f(3), f(3), 3, 0.1, 1.5, 0, 0, 1], RangeError, /^momentumUpdate: momentum must be in \[0, 1\], got 1.5$/],
  ['negative dampening', 'momentumUpdate', [f(3), f(3), f(3), 3, 0.1, 0.9, -1, 0, 1], RangeError, /^momentumUpdate: dampening must be in \[0, 1\], got -1$/],
  ['step 0', 'nesterovUpdate', [f(3), f(3), f(3), 3, 0.1, 0.9, 0, 0], RangeError, /^nesterovUpdate: step must be an integer in \[1, 2\^31\), got 0$/],
  ['step fractional', 'adagradUpdate', [f(3), f(3), f(3), 3, 0.1, 0, 1e-10, 0, 1.5], RangeError, /^adagradUpdate: step must be an integer in \[1, 2\^31\), got 1.5$/],
  ['negative lrDecay', 'adagradUpdate', [f(3), f(3), f(3), 3, 0.1, -1, 1e-10, 0, 1], RangeError, /^adagradUpdate: lrDecay must be in \[0, Infinity\), got -1$/],
  ['alpha above 1', 'rmspropUpdate', [f(3), f(3), f(3), 3, 0.1, 1.01, 1e-8, 0], RangeError, /^rmspropUpdate: alpha must be in \[0, 1\], got 1.01$/],
  ['negative eps', 'rmspropUpdate', [f(3), f(3), f(3), 3, 0.1, 0.99, -1e-8, 0], RangeError, /^rmspropUpdate: eps must be in \[0, Infinity\), got -1e-8$/],
  ['beta1 = 1', 'adamUpdate', [f(3), f(3), f(3), f(3), 3, 0.1, 1, 0.999, 1e-8, 0, 1], RangeError, /^adamUpdate: beta1 must be in \[0, 1\), got 1$/],
  ['negative beta2', 'adamUpdate', [f(3), f(3), f(3), f(3), 3, 0.1, 0.9, -0.5, 1e-8, 0, 1], RangeError, /^adamUpdate: beta2 must be in \[0, 1\), got -0.5$/],
  ['param is grad', 'sgdUpdate', [shared.subarray(0, 3), shared.subarray(0, 3), 3, 0.1, 0], RangeError, /^sgdUpdate: param must not share memory with grad$/],
  ['state overlaps param', 'adamUpdate', [shared.subarray(0, 4), shared.subarray(3, 7), f(4), f(4), 4, 0.1, 0.9, 0.999, 1e-8, 0, 1], RangeError, /^adamUpdate: param must not share memory with expAvg$/],
  ['state overlaps grad', 'momentumUpdate', [f(4), shared.subarray(10, 14), shared.subarray(12, 16), 4, 0.1, 0.9, 0, 0, 2], RangeError, /^momentumUpdate: velocity must not share memory with grad$/],
  ['two states overlap', 'adamUpdate', [f(4), shared.subarray(20, 24), shared.subarray(22, 26), f(4), 4, 0.1, 0.9, 0.999, 1e-8, 0, 1], RangeError, /^adamUpdate: expAvg must not share memory with expAvgSq$/],
];

describeBackends('optimizer kernels: bad input', (backend) => {
  it.each(BAD)('%s', (_name, kernel, args, type, message) => {
    const call = () => (backend()[kernel] as (...a: unknown[]) => void)(...args);
    expect(call).toThrow(type);
    expect(call).toThrow(message);
  });
});

describe('optimizer kernels: bad input at the native boundary (the addon without the TS checks)', () => {
  const load = loadNative();
  it.skipIf(!load.ok).each(BAD)('%s', (_name, kernel, args, type, message) => {
    if (!load.ok) return;
    const call = () => (load.addon[kernel] as (...a: unknown[]) => void)(...args);
    expect(call).toThrow(type);
    expect(call).toThrow(message);
  });
});

// ---- the optimizer classes ----

type Factory = (model: Sequential) => Optimizer;
const OPTIMIZERS: [string, Factory][] = [
  ['SGD', (m) => new SGD(m, { lr: 0.1, weightDecay: 1e-3 })],
  ['Momentum', (m) => new Momentum(m, { lr: 0.05, momentum: 0.9, dampening: 0.1, weightDecay: 1e-3 })],
  ['Nesterov', (m) => new Nesterov(m, { lr: 0.05, weightDecay: 1e-3 })],
  ['AdaGrad', (m) => new AdaGrad(m, { lr: 0.05, lrDecay: 0.01, initialAccumulatorValue: 0.1, weightDecay: 1e-3 })],
  ['RMSprop', (m) => new RMSprop(m, { lr: 0.005, weightDecay: 1e-3 })],
  ['Adam', (m) => new Adam(m, { lr: 0.01, weightDecay: 1e-3 })],
];

function makeModel(backend: Backend): Sequential {
  return new Sequential([new Linear(6, 8), new BatchNorm1d(8), new ReLU(), new Linear(8, 3)], { backend, seed: 42 });
}

const BATCH = (() => {
  const random = seededRandom(5);
  return { x: randomFloat32(10 * 6, random), labels: Array.from({ length: 10 }, (_, i) => (i * 7) % 3) };
})();

function trainStep(model: Sequential, optimizer: Optimizer): void {
  const loss = new SoftmaxCrossEntropy(model.backend);
  model.zeroGrad();
  loss.forward(model.forward({ data: BATCH.x.slice(), shape: [10, 6] }), BATCH.labels);
  model.backward(loss.backward());
  optimizer.step();
}

const bits = (a: FloatArray) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

describe('optimizer state of more than 1 MB', () => {
  it('is the base64 of its bytes, and loads back bit for bit (it is encoded in pieces)', () => {
    const model = new Sequential([new Linear(784, 512), new ReLU(), new Linear(512, 10)], { backend: 'ts', seed: 3 });
    const optimizer = new Adam(model, { lr: 0.01 });
    const random = seededRandom(9);
    for (const p of model.parameters()) p.grad.set(randomFloat32(p.grad.length, random));
    optimizer.step();
    const state = optimizer.stateDict();
    expect(optimizer.state.byteLength).toBeGreaterThan(2 ** 21); // two buffer kinds of > 1 MB each
    // Each kind decodes to its slice of the state, in order (loadStateDict also insists on canonical base64).
    const decoded = Buffer.concat(Object.values(state.buffers).map((text) => Buffer.from(text, 'base64')));
    expect(decoded.equals(bits(optimizer.state))).toBe(true);
    const again = new Adam(model, { lr: 0.01 });
    again.loadStateDict(JSON.parse(JSON.stringify(state)) as OptimizerState);
    expect(bits(again.state).equals(bits(optimizer.state))).toBe(true);
  });
});

describeBackends('optimizer classes', (backend) => {
  it.each(OPTIMIZERS)('%s: stateDict survives JSON bit for bit (3 steps, save, load fresh, 3 more = 6 uninterrupted)', (_name, make) => {
    const straight = makeModel(backend());
    const straightOpt = make(straight);
    for (let s = 0; s < 6; s++) trainStep(straight, straightOpt);

    const first = makeModel(backend());
    const firstOpt = make(first);
    for (let s = 0; s < 3; s++) trainStep(first, firstOpt);
    const saved = JSON.stringify(firstOpt.stateDict());
    const weights = first.stateDict();

    const second = makeModel(backend());
    second.loadStateDict(weights);
    const secondOpt = make(second);
    secondOpt.loadStateDict(JSON.parse(saved) as OptimizerState);
    expect(secondOpt.stepCount).toBe(3);
    expect(bits(secondOpt.state).equals(bits(firstOpt.state))).toBe(true);
    expect(JSON.stringify(secondOpt.stateDict())).toBe(saved);
    for (let s = 0; s < 3; s++) trainStep(second, secondOpt);

    expect(bits(second.values).equals(bits(straight.values))).toBe(true);
    expect(bits(secondOpt.state).equals(bits(straightOpt.state))).toBe(true);
    expect(secondOpt.stepCount).toBe(6);
  });

  it.each(OPTIMIZERS)('%s: one kernel call a step for a whole model, one per run of adjacent parameters for a subset, the same bits as per tensor; state in one allocation', (name, make) => {
    const counts = new Map<string, number>();
    const counting = (b: Backend) => Object.fromEntries(Object.entries(b).map(([key, value]) => [key, typeof value === 'function'
      ? (...args: unknown[]) => { counts.set(key, (counts.get(key) ?? 0) + 1); return (value as (...a: unknown[]) => unknown)(...args); }
      : value])) as unknown as Backend;
    const kernel = { SGD: 'sgdUpdate', Momentum: 'momentumUpdate', Nesterov: 'nesterovUpdate', AdaGrad: 'adagradUpdate', RMSprop: 'rmspropUpdate', Adam: 'adamUpdate' }[name]!;
    const run = (parameters: (model: Sequential) => Parameter[][]) => {
      const model = makeModel(backend());
      model.grads.set(randomFloat32(model.grads.length, seededRandom(3)));
      counts.clear();
      const probe = make(model);
      const optimizers = parameters(model).map((list) => new (probe.constructor as new (p: Parameter[], o: object) => Optimizer)(list, { ...probe.options, backend: counting(model.backend) }));
      for (let s = 0; s < 2; s++) for (const o of optimizers) o.step();
      return { model, optimizers, calls: Object.fromEntries(counts) };
    };
    const whole = run((m) => [m.parameters()]);
    expect(whole.calls).toEqual({ [kernel]: 2 });
    const total = whole.model.parameters().reduce((n, p) => n + p.value.length, 0);
    expect(whole.optimizers[0].state.length).toBe(whole.optimizers[0].bufferNames.length * total);
    const perTensor = run((m) => m.parameters().map((p) => [p]));
    expect(bits(whole.model.values).equals(bits(perTensor.model.values))).toBe(true);
    const subset = run((m) => [[0, 2, 3].map((k) => m.parameters()[k])]);
    expect(subset.calls).toEqual({ [kernel]: 4 }); // runs [0] and [2, 3]
  });

  it('takes a model or its parameters with a backend; defaults are torch\'s', () => {
    const model = makeModel(backend());
    const adam = new Adam(model);
    expect(adam.options).toEqual({ lr: 0.001, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 });
    expect(adam.backend).toBe(model.backend);
    expect(new RMSprop(model).options).toEqual({ lr: 0.01, alpha: 0.99, eps: 1e-8, weightDecay: 0 });
    expect(new AdaGrad(model).options).toEqual({ lr: 0.01, lrDecay: 0, eps: 1e-10, weightDecay: 0, initialAccumulatorValue: 0 });
    expect(new Momentum(model, { lr: 0.1 }).options).toEqual({ lr: 0.1, momentum: 0.9, dampening: 0, weightDecay: 0 });
    expect(new Nesterov(model, { lr: 0.1 }).options).toEqual({ lr: 0.1, momentum: 0.9, weightDecay: 0 });
    const sgd = new SGD(model.parameters().slice(0, 2), { lr: 0.1, backend: model.backend });
    expect(sgd.parameters.map((p) => p.name)).toEqual(['0.weight', '0.bias']);
    expect(new SGD(model.parameters(), { lr: 0.1, backend: backend().name }).backend).toBe(backend());
    const adagrad = new AdaGrad(model, { initialAccumulatorValue: 0.5 });
    expect(Array.from(adagrad.state.subarray(0, 3))).toEqual([0.5, 0.5, 0.5]);
  });

  it('sets lr between steps, checked', () => {
    const adam = new Adam(makeModel(backend()));
    adam.lr = 0.1;
    expect(adam.options.lr).toBe(0.1);
    expect(() => { adam.lr = -1; }).toThrow(/^Adam: lr must be a finite number >= 0, got -1$/);
    expect(adam.lr).toBe(0.1);
  });

  it('zeroGrad zeroes the gradients it holds', () => {
    const model = makeModel(backend());
    model.grads.fill(1);
    new SGD(model, { lr: 0.1 }).zeroGrad();
    expect(model.grads.every((v) => v === 0)).toBe(true);
  });
});

describe('optimizer classes: bad options', () => {
  const model = makeModel(getBackend('ts'));
  it.each([
    ['SGD without lr', () => new SGD(model, {} as never), TypeError, /^SGD: lr is required/],
    ['negative lr', () => new SGD(model, { lr: -0.1 }), RangeError, /^SGD: lr must be a finite number >= 0, got -0.1$/],
    ['NaN lr', () => new Adam(model, { lr: NaN }), RangeError, /^Adam: lr must be a finite number >= 0, got NaN$/],
    ['lr a string', () => new Adam(model, { lr: '0.1' as never }), TypeError, /^Adam: lr must be a number, got string$/],
    ['beta1 = 1', () => new Adam(model, { beta1: 1 }), RangeError, /^Adam: beta1 must be in \[0, 1\), got 1$/],
    ['beta2 > 1', () => new Adam(model, { beta2: 1.5 }), RangeError, /^Adam: beta2 must be in \[0, 1\), got 1.5$/],
    ['negative eps', () => new RMSprop(model, { eps: -1 }), RangeError, /^RMSprop: eps must be a finite number >= 0, got -1$/],
    ['alpha > 1', () => new RMSprop(model, { alpha: 2 }), RangeError, /^RMSprop: alpha must be in \[0, 1\], got 2$/],
    ['momentum > 1', () => new Momentum(model, { lr: 0.1, momentum: 1.1 }), RangeError, /^Momentum: momentum must be in \[0, 1\], got 1.1$/],
    ['Nesterov momentum 0', () => new Nesterov(model, { lr: 0.1, momentum: 0 }), RangeError, /^Nesterov: momentum must be in \(0, 1\], got 0$/],
    ['negative lrDecay', () => new AdaGrad(model, { lrDecay: -1 }), RangeError, /^AdaGrad: lrDecay must be a finite number >= 0, got -1$/],
    ['negative weightDecay', () => new AdaGrad(model, { weightDecay: -1 }), RangeError, /^AdaGrad: weightDecay must be a finite number >= 0, got -1$/],
    ['an unknown option', () => new Adam(model, { learningRate: 0.1 } as never), TypeError, /^Adam: unknown option 'learningRate'; the options are lr, beta1, beta2, eps, weightDecay, backend$/],
    ['Nesterov dampening', () => new Nesterov(model, { lr: 0.1, dampening: 0.1 } as never), TypeError, /^Nesterov: unknown option 'dampening'/],
    ['no parameters', () => new Adam([]), RangeError, /^Adam: got an empty parameter list$/],
    ['not a model', () => new Adam({} as never), TypeError, /^Adam: the first argument must be a model/],
    ['parameters twice', () => new Adam([...model.parameters(), model.parameters()[0]], { backend: 'ts' }), RangeError, /^Adam: parameters\[6\] \('0.weight'\) appears twice$/],
    ['float64 parameters on a float32 backend', () => new Adam([{ name: 'w', shape: [2], value: new Float64Array(2), grad: new Float64Array(2), decay: true }], { backend: 'ts' }), TypeError, /^Adam: parameters\[0\] \('w'\): value and grad must be Float32Arrays/],
    ['a conflicting backend', () => new Adam(makeModel(getBackend('ts')), { backend: { ...getBackend('ts'), name: 'native' } as never }), TypeError, /^Adam: the backend option conflicts/],
  ] as const)('%s', (_name, make, type, message) => {
    expect(make).toThrow(type);
    expect(make).toThrow(message);
  });
});

describe('optimizer classes: loadStateDict checks everything and changes nothing on error', () => {
  const model = makeModel(getBackend('ts'));
  const trained = new Adam(model, { lr: 0.01 });
  trained.step();
  const good = trained.stateDict();
  const fresh = () => new Adam(makeModel(getBackend('ts')), { lr: 0.01 });

  it.each([
    ['not an object', null, TypeError, /^Adam.loadStateDict: state must be an object/],
    ['another format', { ...good, format: 'x' }, TypeError, /not an optimizer state/],
    ['another optimizer', { ...good, type: 'SGD' }, TypeError, /^Adam.loadStateDict: the state is of a SGD optimizer, not Adam$/],
    ['a bad option', { ...good, options: { ...good.options, beta1: 2 } }, RangeError, /beta1 must be in \[0, 1\), got 2/],
    ['a missing option', { ...good, options: { lr: 0.01 } }, RangeError, /options lack beta1, beta2, eps, weightDecay/],
    ['a bad step', { ...good, step: -1 }, RangeError, /step must be an integer in \[0, 2\^31 - 1\], got -1/],
    ['another dtype', { ...good, dtype: 'float64' }, RangeError, /dtype is "float64", the backend's is 'float32'/],
    ['other parameters', { ...good, parameters: good.parameters.map((p, k) => (k === 2 ? { ...p, shape: [9] } : p)) }, RangeError, /parameter 2 is "1.weight" \[9\], expected '1.weight' \[8\]/],
    ['fewer parameters', { ...good, parameters: good.parameters.slice(1) }, RangeError, /5 parameters, expected 6/],
    ['a missing buffer', { ...good, buffers: { expAvg: good.buffers.expAvg } }, RangeError, /buffer expAvgSq is missing/],
    ['an extra buffer', { ...good, buffers: { ...good.buffers, velocity: '' } }, RangeError, /unexpected buffers: velocity/],
    ['a short buffer', { ...good, buffers: { ...good.buffers, expAvg: Buffer.alloc(8).toString('base64') } }, RangeError, /buffer expAvg holds 8 bytes, expected 396 \(99 float32 values\)/],
    ['not base64', { ...good, buffers: { ...good.buffers, expAvg: '#not base64#' } }, RangeError, /buffer expAvg is not canonical base64/],
    ['a short view', { ...good, buffers: { ...good.buffers, expAvg: new Float32Array(98) } }, RangeError, /buffer expAvg holds 98 values, expected 99/],
    ['a view of another dtype', { ...good, buffers: { ...good.buffers, expAvg: new Float64Array(99) } }, RangeError, /buffer expAvg is a Float64Array, expected Float32Array/],
  ] as const)('%s', (_name, state, type, message) => {
    const optimizer = fresh();
    const before = JSON.stringify(optimizer.stateDict());
    expect(() => optimizer.loadStateDict(state as never)).toThrow(type);
    expect(() => optimizer.loadStateDict(state as never)).toThrow(message);
    expect(JSON.stringify(optimizer.stateDict())).toBe(before);
  });

  it('takes stateViews() (the buffers as views of the state, what checkpoints write) as it takes stateDict()', () => {
    const views = trained.stateViews();
    expect(views.buffers.expAvg.buffer).toBe(trained.state.buffer); // views, not copies
    const optimizer = fresh();
    optimizer.loadStateDict(views);
    expect(bits(optimizer.state).equals(bits(trained.state))).toBe(true);
    expect(JSON.stringify(optimizer.stateDict())).toBe(JSON.stringify(good));
  });

  it('restores the options saved, as torch does', () => {
    const optimizer = new Adam(makeModel(getBackend('ts')), { lr: 0.5, beta1: 0.8 });
    optimizer.loadStateDict(good);
    expect(optimizer.options).toEqual(good.options);
    expect(optimizer.stepCount).toBe(1);
  });
});
