/**
 * normnet against PyTorch (Debian's python3-torch) on the same weights and batch: eval logits, train-mode
 * loss, every gradient, and the whole state dict (weights, running statistics, num_batches_tracked) after two
 * SGD steps, within 1e-4 relative; then torch loads normnet's saved state dict and finds it equal to its own.
 * test/peer/torch_peer.py makes the files. Skipped without torch, unless REQUIRE_TORCH=1 (CI).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readSafetensors, type StateDict } from '../src/io/safetensors.js';
import { BatchNorm1d, BatchNorm2d, Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential, SoftmaxCrossEntropy } from '../src/nn/index.js';
import type { Layer } from '../src/nn/layer.js';
import { describeBackends } from './support/backends.js';
import { mismatches } from './support/compare.js';

const PYTHON = '/usr/bin/python3';
const SCRIPT = new URL('./peer/torch_peer.py', import.meta.url).pathname;
const haveTorch = spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
const LR = 0.1;
const RTOL = 1e-4;

const MODELS: Record<'mlp' | 'cnn', () => Layer[]> = {
  mlp: () => [new Linear(784, 50), new BatchNorm1d(50), new ReLU(), new Linear(50, 30), new BatchNorm1d(30), new ReLU(), new Linear(30, 10)],
  cnn: () => [
    new Conv2d(1, 4, 5), new BatchNorm2d(4), new ReLU(), new MaxPool2d(2),
    new Conv2d(4, 6, 3, { padding: 1 }), new BatchNorm2d(6), new ReLU(), new MaxPool2d(2),
    new Flatten(), new Linear(6 * 6 * 6, 10),
  ],
};

const work = mkdtempSync(join(tmpdir(), 'normnet-torch-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function python(args: string[]): string {
  const run = spawnSync(PYTHON, [SCRIPT, ...args], { encoding: 'utf8', timeout: 120_000 });
  if (run.status !== 0) throw new Error(`torch_peer.py ${args.join(' ')} failed:\n${run.stdout}${run.stderr}`);
  return run.stdout;
}

function f32(t: StateDict[string]): Float32Array {
  return Float32Array.from(t.data as Float32Array);
}

describe.skipIf(!haveTorch && process.env.REQUIRE_TORCH !== '1')('PyTorch peer', () => {
  for (const kind of ['mlp', 'cnn'] as const) {
    describeBackends(kind, (backend) => {
      it('matches torch: eval logits, train loss, gradients, state after two SGD steps; torch loads our file', () => {
        const dir = join(work, `${kind}-${backend().info().isa}`);
        spawnSync('mkdir', ['-p', dir]);
        python(['make', dir, kind]);
        const batch = readSafetensors(join(dir, 'batch.safetensors')).tensors;
        const expected = readSafetensors(join(dir, 'expected.safetensors')).tensors;
        const x = { data: f32(batch.x), shape: batch.x.shape };
        const labels = Array.from(batch.labels.data as BigInt64Array, Number);

        const model = new Sequential(MODELS[kind](), { backend: backend(), seed: 1 });
        model.load(join(dir, 'init.safetensors'));
        model.eval();
        expect(mismatches(model.forward(x).data, expected.eval_logits.data as Float32Array, RTOL, 1e-5, 'eval logits')).toBe('');

        model.train();
        const loss = new SoftmaxCrossEntropy(model.backend);
        for (let step = 0; step < 2; step++) {
          model.zeroGrad();
          const value = loss.forward(model.forward(x), labels);
          model.backward(loss.backward());
          if (step === 0) {
            expect(Math.abs(value - Number(expected.train_loss.data[0]))).toBeLessThanOrEqual(RTOL * Math.abs(value));
            // Absolute floor from the largest gradient of the model: a bias feeding BatchNorm has gradient 0
            // in exact arithmetic, so both sides hold round-off there, equal only to that scale.
            const grads = model.parameters().map((p) => ({ p, want: expected[`grad.${p.name}`].data as Float32Array }));
            const scale = Math.max(...grads.flatMap(({ want }) => Array.from(want, Math.abs)));
            for (const { p, want } of grads) expect(mismatches(p.grad, want, RTOL, 1e-5 * scale, `grad ${p.name}`)).toBe('');
          }
          for (const p of model.parameters()) for (let i = 0; i < p.value.length; i++) p.value[i] -= LR * p.grad[i];
        }
        const state = model.stateDict();
        for (const [key, t] of Object.entries(state)) {
          const want = expected[`after.${key}`];
          expect(want, key).toBeDefined();
          expect(t.shape).toEqual(want.shape);
          if (t.dtype === 'I64') expect(t.data[0]).toBe(want.data[0]);
          else expect(mismatches(t.data as Float32Array, want.data as Float32Array, RTOL, 1e-5, key)).toBe('');
        }
        model.save(join(dir, 'normnet.safetensors'));
        expect(JSON.parse(python(['check', dir, kind])).max_relative_difference).toBeLessThanOrEqual(1e-4);
      });
    });
  }
});
