/** Sequential and the layers as a user meets them: modes, init, state dicts, files, and every bad input. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nativeAvailable } from '../src/kernels/backend.js';
import { encodeSafetensors, SafetensorsError } from '../src/io/safetensors.js';
import {
  BatchNorm1d, BatchNorm2d, Conv2d, Dropout, Flatten, Linear, MaxPool2d, ReLU, Sequential, SoftmaxCrossEntropy,
} from '../src/nn/index.js';
import { mismatches } from './support/compare.js';
import { randomFloat32, seededRandom } from './support/random.js';

const work = mkdtempSync(join(tmpdir(), 'normnet-seq-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const mlp = (seed = 1, backend: 'ts' | 'native' = 'ts') =>
  new Sequential([new Linear(6, 5, { init: 'he' }), new BatchNorm1d(5), new ReLU(), new Linear(5, 3)], { backend, seed });
const input = (N: number, seed = 2) => ({ data: randomFloat32(N * 6, seededRandom(seed)), shape: [N, 6] });

function std(values: Float32Array): number {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
}

describe('Sequential', () => {
  it('gives the same weights for the same seed, bit for bit, and others for another seed', () => {
    expect(mlp(5).values).toEqual(mlp(5).values);
    expect(mlp(5).values).not.toEqual(mlp(6).values);
  });

  it('initialises as asked: He, Xavier, a plain std, PyTorch default; biases and BatchNorm as PyTorch', () => {
    const model = new Sequential([
      new Linear(400, 300, { init: 'he' }), new Linear(300, 200, { init: 'xavier' }), new Linear(200, 100, { init: 0.01 }), new Linear(100, 50), new BatchNorm1d(50),
    ], { backend: 'ts', seed: 3 });
    const p = Object.fromEntries(model.parameters().map((q) => [q.name, q.value as Float32Array]));
    expect(std(p['0.weight'])).toBeCloseTo(Math.sqrt(2 / 400), 3);
    expect(std(p['1.weight'])).toBeCloseTo(Math.sqrt(1 / 300), 3);
    expect(std(p['2.weight'])).toBeCloseTo(0.01, 3);
    expect(Math.max(...p['3.weight'].map(Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(100));
    expect(std(p['3.weight'])).toBeCloseTo(1 / Math.sqrt(100) / Math.sqrt(3), 3); // uniform(-b, b) has std b/sqrt(3)
    expect(p['0.bias'].every((v) => v === 0)).toBe(true);
    expect(p['3.bias'].some((v) => v !== 0)).toBe(true);
    expect(p['4.weight'].every((v) => v === 1) && p['4.bias'].every((v) => v === 0)).toBe(true);
  });

  it('has PyTorch state-dict keys, in order, and prints like PyTorch', () => {
    const model = mlp();
    expect(Object.keys(model.stateDict())).toEqual([
      '0.weight', '0.bias', '1.weight', '1.bias', '1.running_mean', '1.running_var', '1.num_batches_tracked', '3.weight', '3.bias',
    ]);
    expect(model.describe()).toBe('Sequential(\n  (0): Linear(6, 5)\n  (1): BatchNorm1d(5)\n  (2): ReLU()\n  (3): Linear(5, 3)\n)');
  });

  it('gives its state dict as copies, or with { copy: false } as views of its own buffers', () => {
    const model = mlp();
    const copies = model.stateDict();
    const views = model.stateDict({ copy: false });
    expect(Object.keys(views)).toEqual(Object.keys(copies));
    model.train().forward(input(4));
    expect(views['1.running_mean'].data).not.toEqual(copies['1.running_mean'].data); // the view follows the model
    expect(views['1.running_mean'].data).toEqual(model.stateDict()['1.running_mean'].data);
  });

  it('predicts in eval mode for any batch, 1 included, returns a copy and restores the mode', () => {
    const model = mlp();
    const one = model.predict(input(1));
    expect(one.shape).toEqual([1, 3]);
    expect(model.training).toBe(true);
    const many = model.predict(input(4, 2));
    const again = model.predict(input(4, 2));
    expect(many.data).toEqual(again.data);
    expect(many.data).not.toBe(again.data);
  });

  it('keeps the running statistics out of eval, and counts batches in training', () => {
    const model = mlp();
    const before = model.stateDict()['1.running_mean'].data.slice();
    model.eval().forward(input(4));
    expect(model.stateDict()['1.running_mean'].data).toEqual(before);
    model.train().forward(input(4));
    model.forward(input(4, 3));
    expect(model.stateDict()['1.num_batches_tracked'].data[0]).toBe(2n);
    expect(model.stateDict()['1.running_mean'].data).not.toEqual(before);
  });

  it('averages the running statistics cumulatively with momentum null', () => {
    const bn = new BatchNorm1d(2, { momentum: null });
    const model = new Sequential([bn], { backend: 'ts', seed: 1 });
    model.forward(new Float32Array([1, 10, 3, 30]), [2, 2]); // batch means 2, 20
    model.forward(new Float32Array([5, 50, 7, 70]), [2, 2]); // batch means 6, 60
    expect(Array.from(model.stateDict()['0.running_mean'].data as Float32Array)).toEqual([4, 40]);
  });

  it('leaves Dropout out of eval and drops in training', () => {
    const model = new Sequential([new Dropout(0.5)], { backend: 'ts', seed: 1 });
    const x = new Float32Array(1000).fill(1);
    expect(model.predict(x, [10, 100]).data).toEqual(x);
    const dropped = model.forward(x, [10, 100]).data.filter((v) => v === 0).length;
    expect(dropped).toBeGreaterThan(400);
    expect(dropped).toBeLessThan(600);
  });

  it('saves and loads safetensors, and a loaded model computes the same', () => {
    const a = mlp(1);
    a.forward(input(4));
    const path = join(work, 'a.safetensors');
    a.save(path);
    const b = mlp(99);
    b.load(path);
    expect(b.stateDict()).toEqual(a.stateDict());
    expect(b.predict(input(3)).data).toEqual(a.predict(input(3)).data);
  });
});

describe('BatchNorm then ReLU, fused and not, on each backend, train step by step alike', () => {
  const variants: { backend: 'native' | 'ts'; fuse: boolean }[] = [
    { backend: 'ts', fuse: false }, { backend: 'ts', fuse: true },
    ...(nativeAvailable() ? [{ backend: 'native', fuse: false }, { backend: 'native', fuse: true }] as const : []),
  ];
  it('an MLP and a CNN with BatchNorm, five SGD steps on fixed data, then eval, against TS unfused', () => {
    const build = (backend: 'native' | 'ts', fuse: boolean) => [
      new Sequential([new Linear(12, 10), new BatchNorm1d(10), new ReLU(), new Linear(10, 4)], { backend, seed: 9, fuse }),
      new Sequential([new Conv2d(1, 3, 3), new BatchNorm2d(3), new ReLU(), new MaxPool2d(2), new Flatten(), new Linear(3 * 3 * 3, 4)], { backend, seed: 9, fuse }),
    ];
    const shapes = [[16, 12], [16, 1, 8, 8]];
    const labels = Array.from({ length: 16 }, (_, i) => i % 4);
    const models = variants.map((v) => build(v.backend, v.fuse));
    for (let m = 0; m < 2; m++) {
      const x = randomFloat32(shapes[m].reduce((a, b) => a * b, 1), seededRandom(m));
      for (let step = 0; step < 5; step++) {
        const losses = models.map((built) => {
          const model = built[m];
          const loss = new SoftmaxCrossEntropy(model.backend);
          model.zeroGrad();
          const value = loss.forward(model.forward(x, shapes[m]), labels);
          model.backward(loss.backward());
          for (const p of model.parameters()) for (let i = 0; i < p.value.length; i++) p.value[i] -= 0.1 * p.grad[i];
          return value;
        });
        for (let v = 1; v < variants.length; v++) {
          expect(Math.abs(losses[v] - losses[0]), `model ${m} step ${step} ${JSON.stringify(variants[v])}`).toBeLessThanOrEqual(1e-4 * losses[0]);
        }
      }
      const outputs = models.map((built) => built[m].predict(x, shapes[m]).data);
      for (let v = 1; v < variants.length; v++) {
        expect(mismatches(models[v][m].values, models[0][m].values, 1e-3, 1e-5), JSON.stringify(variants[v])).toBe('');
        expect(mismatches(outputs[v], outputs[0], 1e-3, 1e-5), `eval ${JSON.stringify(variants[v])}`).toBe('');
      }
    }
  });

  it('fuses BatchNorm2d, its ReLU and a MaxPool2d to the same bits as the layers apart, training and eval, on each backend', () => {
    for (const backend of nativeAvailable() ? ['ts', 'native'] as const : ['ts'] as const) {
      for (const relu of [true, false]) {
        // 7x7 maps under a 2x2 pool: the last row and column are normalized and not pooled.
        const layers = () => [new Conv2d(2, 4, 3), new BatchNorm2d(4), ...(relu ? [new ReLU()] : []), new MaxPool2d(2), new Flatten(), new Linear(36, 3)];
        const fused = new Sequential(layers(), { backend, seed: 4 });
        const plain = new Sequential(layers(), { backend, seed: 4, fuse: false });
        const pool = relu ? 3 : 2;
        expect([fused.isFused(1), fused.isFused(pool), fused.isFused(pool + 1), plain.isFused(pool)]).toEqual([false, true, false, false]);
        const x = { data: randomFloat32(6 * 2 * 9 * 9, seededRandom(7)), shape: [6, 2, 9, 9] };
        for (let step = 0; step < 3; step++) {
          const [a, b] = [fused, plain].map((model) => {
            model.zeroGrad();
            const y = Float32Array.from(model.forward(x).data);
            const dx = model.backward({ data: y.map((v, i) => v - (i % 3)), shape: [6, 3] }, { inputGrad: true })!.data;
            for (const p of model.parameters()) for (let i = 0; i < p.value.length; i++) p.value[i] -= 0.1 * p.grad[i];
            return { y, dx: Float32Array.from(dx), grads: Float32Array.from(model.grads) };
          });
          expect(a, `${backend} relu ${relu} step ${step}`).toEqual(b);
        }
        expect(fused.values).toEqual(plain.values);
        expect(fused.eval().forward(x).data).toEqual(plain.eval().forward(x).data);
      }
    }
  });

  it('fuses on TS to the same bits as the separate ReLU, and a fused model still runs its layers one by one', () => {
    const fused = mlp(3);
    const plain = new Sequential([new Linear(6, 5, { init: 'he' }), new BatchNorm1d(5), new ReLU(), new Linear(5, 3)], { backend: 'ts', seed: 3, fuse: false });
    const x = input(8);
    expect(fused.forward(x).data).toEqual(plain.forward(x).data);
    const dy = { data: randomFloat32(8 * 3, seededRandom(4)), shape: [8, 3] };
    expect(fused.backward(dy, { inputGrad: true })!.data).toEqual(plain.backward(dy, { inputGrad: true })!.data);
    expect(fused.grads).toEqual(plain.grads);
    // ReLU is idempotent: running the skipped layer anyway changes nothing.
    let t = x as { data: Float32Array; shape: readonly number[] };
    for (const layer of fused.layers) t = layer.forward(t, true) as typeof t;
    expect(t.data).toEqual(plain.forward(x).data);
  });
});

describe('bad input', () => {
  it('names the layer, the expected and the received shape, and runs nothing', () => {
    const model = mlp();
    const before = model.stateDict();
    expect(() => model.forward(randomFloat32(4 * 7, seededRandom(1)), [4, 7]))
      .toThrow(new RangeError('layer 0: Linear(6, 5): expected input of shape [N, 6], got [4, 7]'));
    const cnn = new Sequential([new Conv2d(1, 2, 3), new BatchNorm2d(2), new Flatten(), new Linear(10, 2)], { backend: 'ts', seed: 1 });
    const cnnBefore = cnn.stateDict();
    expect(() => cnn.forward(new Float32Array(2 * 25), [2, 1, 5, 5]))
      .toThrow(new RangeError('layer 3: Linear(10, 2): expected input of shape [N, 10], got [2, 18]'));
    expect(cnn.stateDict()).toEqual(cnnBefore); // BatchNorm2d did not run
    expect(() => cnn.forward(new Float32Array(2 * 4), [2, 1, 2, 2])).toThrow(/layer 0: Conv2d\(1, 2, 3\): expected input of shape \[N, 1, H, W\] with H and W at least 3, got \[2, 1, 2, 2\]/);
    expect(model.stateDict()).toEqual(before);
  });

  it('rejects data that does not fill its shape, a wrong array type, and a bad shape', () => {
    const model = mlp();
    expect(() => model.forward(new Float32Array(11), [2, 6])).toThrow(new RangeError('Sequential.forward: input of shape [2, 6] needs 12 values, got 11'));
    expect(() => model.forward(new Float64Array(12) as never, [2, 6])).toThrow(TypeError);
    expect(() => model.forward(new Float32Array(12), [2.5, 6] as never)).toThrow(TypeError);
  });

  it('rejects one value per channel in training, with the layer named', () => {
    expect(() => mlp().forward(input(1))).toThrow('layer 1: BatchNorm1d(5): training needs more than one value per channel, got input of shape [1, 5]');
    expect(() => new Sequential([new BatchNorm2d(2)], { backend: 'ts' }).forward(new Float32Array(2), [1, 2, 1, 1])).toThrow(RangeError);
  });

  it('rejects labels outside the classes, non-integer labels and bad one-hot rows', () => {
    const model = mlp();
    const loss = new SoftmaxCrossEntropy(model.backend);
    const logits = model.forward(input(2));
    expect(() => loss.forward(logits, [0, 3])).toThrow(new RangeError('SoftmaxCrossEntropy: labels[1] = 3 is not a class index in [0, 3)'));
    expect(() => loss.forward(logits, [0, 1.5])).toThrow(/labels\[1\] = 1.5 is not a class index/);
    expect(() => loss.forward(logits, [-1, 0])).toThrow(RangeError);
    expect(() => loss.forward(logits, [0])).toThrow('SoftmaxCrossEntropy: expected 2 labels for 2 rows of logits, got 1');
    expect(() => loss.forward(logits, new Float32Array([1, 0, 0, 0.5, 0.5, 0]))).toThrow('one-hot label row 1 must hold a single 1 and zeros');
    expect(loss.forward(logits, new Float32Array([0, 1, 0, 0, 0, 1]))).toBe(loss.forward(logits, [1, 2]));
  });

  it('rejects NaN and Infinity in the input when checkFinite is on', () => {
    const model = new Sequential([new Linear(2, 2)], { backend: 'ts', seed: 1, checkFinite: true });
    expect(() => model.forward(new Float32Array([1, NaN]), [1, 2])).toThrow(new RangeError('Sequential.forward: input[1] is NaN (checkFinite is on)'));
    expect(() => model.forward(new Float32Array([Infinity, 1]), [1, 2])).toThrow(/input\[0\] is Infinity/);
  });

  it('rejects bad layer arguments', () => {
    expect(() => new Linear(0, 3)).toThrow('Linear: inFeatures must be a positive integer, got 0');
    expect(() => new Dropout(1)).toThrow('Dropout: p must be in [0, 1), got 1');
    expect(() => new BatchNorm1d(3, { momentum: 2 })).toThrow(RangeError);
    expect(() => new Linear(3, 3, { init: 'lecun' as never })).toThrow(/init must be/);
    expect(() => new Conv2d(1, 2, 3, { stride: 0 })).toThrow('Conv2d: stride must be a positive integer, got 0');
  });

  describe('safetensors files', () => {
    const model = mlp(1);
    const good = join(work, 'good.safetensors');
    model.save(good);
    const bytes = readFileSync(good);
    const write = (name: string, data: Uint8Array) => {
      const path = join(work, name);
      writeFileSync(path, data);
      return path;
    };
    /** Loading `path` throws `type` with `message`, and the model it was loaded into is unchanged. */
    const expectRejected = (path: string, message: RegExp, type: new (message?: string) => Error) => {
      const target = mlp(2);
      const before = target.stateDict();
      expect(() => target.load(path)).toThrow(type);
      expect(() => target.load(path)).toThrow(message);
      expect(target.stateDict()).toEqual(before);
    };

    it('a truncated file', () => {
      const path = write('truncated.safetensors', bytes.subarray(0, bytes.length - 10));
      expectRejected(path, /truncated.safetensors: not a valid safetensors file: truncated: tensor '3.bias' ends at byte/, SafetensorsError);
      const tiny = write('tiny.safetensors', bytes.subarray(0, 5));
      expect(() => mlp(2).load(tiny)).toThrow(/truncated: 5 bytes/);
    });

    it('a bad header', () => {
      const broken = Buffer.from(bytes);
      broken.write('!', 9);
      const path = write('header.safetensors', broken);
      expectRejected(path, /header.safetensors: not a valid safetensors file: the header is not JSON/, SafetensorsError);
      const huge = Buffer.from(bytes);
      huge.writeBigUInt64LE(10n ** 12n, 0);
      expect(() => mlp(2).load(write('huge.safetensors', huge))).toThrow(/the header says 1000000000000 bytes/);
    });

    it('missing, unexpected and wrong-shaped tensors, listed together, the model unchanged', () => {
      const dict = model.stateDict();
      delete dict['0.bias'];
      dict['9.weight'] = { dtype: 'F32', shape: [1], data: new Float32Array(1) };
      dict['3.weight'] = { dtype: 'F32', shape: [5, 3], data: new Float32Array(15) };
      const path = write('keys.safetensors', encodeSafetensors(dict));
      const target = mlp(2);
      const before = target.stateDict();
      expect(() => target.load(path)).toThrow(new RangeError(
        'loadStateDict: missing keys: 0.bias; unexpected keys: 9.weight; 3.weight has shape [5, 3], expected [3, 5]'));
      expect(target.stateDict()).toEqual(before);
    });
  });
});
