/**
 * normnet's optimizers against torch.optim (Debian's python3-torch): three steps of each optimizer, with weight
 * decay, on fixed tensors with fixed gradients per step; parameters and optimizer state within 1e-5 relative.
 * test/peer/torch_optim.py makes the file. Skipped without torch, unless REQUIRE_TORCH=1 (CI).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSafetensors, type StateDict } from '../src/io/safetensors.js';
import type { Parameter } from '../src/nn/sequential.js';
import { AdaGrad, Adam, Momentum, Nesterov, RMSprop, SGD, type Optimizer, type OptimizerOptions } from '../src/optim/index.js';
import { describeBackends } from './support/backends.js';
import { mismatches } from './support/compare.js';

const PYTHON = '/usr/bin/python3';
const SCRIPT = new URL('./peer/torch_optim.py', import.meta.url).pathname;
const haveTorch = spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
const RTOL = 1e-5;
const STEPS = 3;

type Constructor = new (params: Parameter[], options: OptimizerOptions & Record<string, number | object>) => Optimizer;
const CLASSES: Record<string, Constructor> = { SGD, Momentum, Nesterov, AdaGrad, RMSprop, Adam } as unknown as Record<string, Constructor>;

/** Each optimizer with weight decay: near torch's defaults, then with other hyper-parameters. */
const CASES: { id: string; type: string; options: Record<string, number> }[] = [
  { id: 'sgd', type: 'SGD', options: { lr: 0.1, weightDecay: 0.01 } },
  { id: 'momentum', type: 'Momentum', options: { lr: 0.1, weightDecay: 0.01 } },
  { id: 'momentum-damped', type: 'Momentum', options: { lr: 0.05, momentum: 0.7, dampening: 0.25, weightDecay: 0.1 } },
  { id: 'nesterov', type: 'Nesterov', options: { lr: 0.1, weightDecay: 0.01 } },
  { id: 'nesterov-0.5', type: 'Nesterov', options: { lr: 0.02, momentum: 0.5, weightDecay: 0.1 } },
  { id: 'adagrad', type: 'AdaGrad', options: { weightDecay: 0.01 } },
  { id: 'adagrad-decay', type: 'AdaGrad', options: { lr: 0.1, lrDecay: 0.3, eps: 1e-6, initialAccumulatorValue: 0.2, weightDecay: 0.1 } },
  { id: 'rmsprop', type: 'RMSprop', options: { weightDecay: 0.01 } },
  { id: 'rmsprop-0.9', type: 'RMSprop', options: { lr: 0.001, alpha: 0.9, eps: 1e-4, weightDecay: 0.1 } },
  { id: 'adam', type: 'Adam', options: { weightDecay: 0.01 } },
  { id: 'adam-fast', type: 'Adam', options: { lr: 0.05, beta1: 0.5, beta2: 0.9, eps: 1e-3, weightDecay: 0.1 } },
];

let work = '';
let file: StateDict = {};

describe.skipIf(!haveTorch && process.env.REQUIRE_TORCH !== '1')('optimizers against torch.optim', () => {
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'normnet-optim-'));
    const cases = CASES.map((c) => ({ ...c, steps: STEPS }));
    const run = spawnSync(PYTHON, [SCRIPT, work, JSON.stringify(cases)], { encoding: 'utf8', timeout: 120_000 });
    if (run.status !== 0) throw new Error(`torch_optim.py failed:\n${run.stdout}${run.stderr}`);
    file = readSafetensors(join(work, 'optim.safetensors')).tensors;
  });
  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  describeBackends('torch.optim', (backend) => {
    it.each(CASES)('$id: $type $options, 3 steps', ({ id, type, options }) => {
      const count = Object.keys(file).filter((key) => key.startsWith('init.')).length;
      const params: Parameter[] = Array.from({ length: count }, (_, k) => {
        const init = file[`init.${k}`];
        const value = Float32Array.from(init.data as Float32Array);
        return { name: `p${k}`, shape: [...init.shape], value, grad: new Float32Array(value.length), decay: true };
      });
      const optimizer = new CLASSES[type](params, { ...options, backend: backend() });
      for (let step = 1; step <= STEPS; step++) {
        params.forEach((p, k) => p.grad.set(file[`grad.${step}.${k}`].data as Float32Array));
        optimizer.step();
      }
      params.forEach((p, k) => {
        const want = file[`${id}.param.${k}`];
        expect(want, `${id}.param.${k}`).toBeDefined();
        expect(mismatches(p.value, want.data as Float32Array, RTOL, 1e-7, `${id} param ${k}`)).toBe('');
      });
      const total = params.reduce((n, p) => n + p.value.length, 0);
      optimizer.bufferNames.forEach((name, b) => {
        let offset = 0;
        params.forEach((p, k) => {
          const want = file[`${id}.${name}.${k}`];
          expect(want, `${id}.${name}.${k}`).toBeDefined();
          const got = optimizer.state.subarray(b * total + offset, b * total + offset + p.value.length);
          expect(mismatches(got, want.data as Float32Array, RTOL, 1e-7, `${id} ${name} ${k}`)).toBe('');
          offset += p.value.length;
        });
      });
    });
  });
});
