/**
 * loadModel: a model back, architecture and weights, from each kind of path normnet writes (a .safetensors file
 * of Sequential.save, a run directory, its checkpoint directory, the checkpoint's model file), in eval mode and
 * giving the same outputs; a run's scaling statistics with it; and clear errors for files without an
 * architecture (torch's), malformed metadata, and tensors that do not fit.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../src/deploy/load-model.js';
import { readSafetensors, writeSafetensors } from '../src/io/safetensors.js';
import { getBackend } from '../src/kernels/backend.js';
import { ReLU, Sigmoid } from '../src/nn/activation.js';
import { BatchNorm1d, BatchNorm2d } from '../src/nn/batchnorm.js';
import { Conv2d } from '../src/nn/conv2d.js';
import { Dropout } from '../src/nn/dropout.js';
import { Flatten } from '../src/nn/flatten.js';
import { Linear } from '../src/nn/linear.js';
import { MaxPool2d } from '../src/nn/maxpool2d.js';
import { Sequential } from '../src/nn/sequential.js';
import { DEFAULT_CONFIG, type RunConfig } from '../src/train/config.js';
import { executeRun, type RunResult } from '../src/train/run.js';
import { Random } from '../src/util/random.js';
import { randomInput, randomizeBatchNorm } from './support/architectures.js';

const work = mkdtempSync(join(tmpdir(), 'normnet-load-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const backend = getBackend();

/** A CNN with every option off its default: non-square kernels, padding, stride, affine false, momentum null, Dropout, Sigmoid. */
function unusualCnn(): Sequential {
  const model = new Sequential([
    new Conv2d(2, 4, [3, 2], { stride: 2, padding: 1, bias: false, init: 'he' }), new BatchNorm2d(4, { affine: false, momentum: null, eps: 1e-3 }),
    new ReLU(), new MaxPool2d([2, 1], { stride: 1 }), new Flatten(), new Dropout(0.3),
    new Linear(4 * 4 * 6, 5, { init: 0.05 }), new BatchNorm1d(5, { momentum: 0.3 }), new Sigmoid(), new Linear(5, 3, { bias: false }),
  ], { backend, seed: 9 });
  randomizeBatchNorm(model, new Random(9));
  return model;
}

describe('loadModel', () => {
  it('rebuilds a model that Sequential.save wrote, from the file alone, in eval mode', () => {
    const model = unusualCnn();
    const x = randomInput(3 * 2 * 9 * 10, new Random(1));
    const expected = model.predict(x, [3, 2, 9, 10]).data; // the first input tells the model its input shape
    const file = join(work, 'cnn.safetensors');
    model.save(file);
    const loaded = loadModel(file);
    expect(loaded.model.describe()).toBe(model.describe());
    expect(loaded.model.training).toBe(false);
    expect(loaded.inputShape).toEqual([2, 9, 10]);
    expect(loaded).toMatchObject({ scaling: null, config: null, file });
    expect(loaded.model.stateDict()).toEqual(model.stateDict());
    expect(Array.from(loaded.model.predict(x, [3, 2, 9, 10]).data)).toEqual(Array.from(expected));
    expect(JSON.parse(readSafetensors(file).metadata['normnet.architecture']).layers[0]).toEqual({
      type: 'conv2d', out: 4, kernel: [3, 2], stride: 2, padding: 1, bias: false, init: 'he',
    });
  });

  it('rebuilds a folded model (its ChannelAffine included)', () => {
    const model = new Sequential([new BatchNorm1d(6), new ReLU(), new Linear(6, 4), new BatchNorm1d(4), new Linear(4, 2)], { backend, seed: 2, inputShape: [6] });
    randomizeBatchNorm(model, new Random(2));
    const folded = model.foldBatchNorm();
    const file = join(work, 'folded.safetensors');
    folded.save(file);
    const x = randomInput(5 * 6, new Random(3));
    const loaded = loadModel(file).model;
    expect(loaded.describe()).toBe(folded.describe());
    expect(Array.from(loaded.predict(x, [5, 6]).data)).toEqual(Array.from(folded.predict(x, [5, 6]).data));
  });

  describe('from a run', () => {
    let run: RunResult;
    const dir = join(work, 'run');
    beforeAll(async () => {
      // 60 samples of 4 features on very different scales, two classes: a run with standard scaling.
      const random = new Random(5);
      const rows = Array.from({ length: 60 }, (_, i) => [random.normal() * 100 + 500, random.normal(), random.uniform() * 1e-3, random.normal() * 10, i % 2].join(','));
      const csv = join(work, 'train.csv');
      writeFileSync(csv, `a,b,c,d,label\n${rows.join('\n')}\n`);
      const config: RunConfig = { ...DEFAULT_CONFIG, data: csv, scale: 'standard', hidden: [8, 8], epochs: 1, batchSize: 20, backend: backend.name };
      run = await executeRun(config, dir);
    });

    it('loads the run directory, its checkpoint directory and its model file alike, with the scaling', () => {
      const x = randomInput(7 * 4, new Random(6));
      const expected = run.run.model.predict(x, [7, 4]).data;
      for (const path of [dir, join(dir, 'checkpoint'), join(dir, 'checkpoint', 'model.safetensors')]) {
        const loaded = loadModel(path);
        expect(loaded.model.describe(), path).toBe(run.run.model.describe());
        expect(Array.from(loaded.model.predict(x, [7, 4]).data), path).toEqual(Array.from(expected));
        expect(loaded.inputShape).toEqual([4]);
        expect(loaded.file).toBe(join(dir, 'checkpoint', 'model.safetensors'));
      }
      const fromDir = loadModel(dir);
      expect(fromDir.scaling).toEqual(run.run.scaling);
      expect(fromDir.scaling?.scale).toBe('standard');
      expect(fromDir.config).toMatchObject({ scale: 'standard', hidden: [8, 8] });
      expect(loadModel(join(dir, 'checkpoint', 'model.safetensors')).scaling).toBeNull(); // a file holds no scaling
    });
  });

  it('says to build the Sequential and call load for a file without an architecture (torch)', () => {
    const file = join(work, 'torch.safetensors');
    const model = new Sequential([new Linear(3, 2)], { backend, seed: 1 });
    writeSafetensors(file, model.stateDict(), { format: 'pt' }); // what safetensors' save_file writes from torch
    expect(() => loadModel(file)).toThrow(`${file}: no normnet architecture in its metadata (normnet.architecture): it was not written by normnet's Sequential.save or a checkpoint (a file from torch, or from an older normnet). Build the Sequential with the same layers and call model.load('${file}')`);
    // A model that never learned its input shape (a Conv2d first, never run) writes none either.
    const conv = join(work, 'conv.safetensors');
    new Sequential([new Conv2d(1, 2, 3)], { backend, seed: 1 }).save(conv);
    expect(() => loadModel(conv)).toThrow(/no normnet architecture/);
  });

  it('names the file for malformed metadata, tensors that do not fit, and a missing path', () => {
    const model = new Sequential([new Linear(3, 2)], { backend, seed: 1 });
    const bad = join(work, 'bad.safetensors');
    writeSafetensors(bad, model.stateDict(), { 'normnet.architecture': '{"format":"normnet-architecture-1","inputShape":[3],"layers":[{"type":"linear"}]}' });
    expect(() => loadModel(bad)).toThrow(`${bad}: the normnet.architecture metadata: layers[0] (linear) needs a number "out"`);
    writeSafetensors(bad, model.stateDict(), { 'normnet.architecture': 'not json' });
    expect(() => loadModel(bad)).toThrow(/bad\.safetensors: the normnet.architecture metadata is not JSON/);
    writeSafetensors(bad, model.stateDict(), { 'normnet.architecture': '{"format":"normnet-architecture-1","inputShape":[4],"layers":[{"type":"linear","out":2}]}' });
    expect(() => loadModel(bad)).toThrow(/bad\.safetensors: the tensors do not fit the architecture in its metadata: loadStateDict: 0.weight has shape \[2, 3\], expected \[2, 4\]/);
    expect(() => loadModel(join(work, 'nothing'))).toThrow(/nothing: no such file or directory/);
    expect(() => loadModel(work)).toThrow(/no checkpoint here/);
  });
});
