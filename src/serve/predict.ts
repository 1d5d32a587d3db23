/**
 * Predictions from a job's model: the model of its checkpoint (loadModel: the architecture and the feature
 * scaling are in the checkpoint itself), in eval mode, kept for the next request until the checkpoint changes (a
 * running job writes one every epoch) or `cacheSize` other jobs' models are loaded after it.
 *
 * Inputs are what the model's batches hold before the run's feature scaling: images as value / 255 (an MNIST
 * row is 784 values in [0, 1]), the user's own float features as they are in the files; a run trained with
 * `scale` has its statistics applied here, from the checkpoint. A batch is an array of rows, or base64
 * little-endian float32 values with `shape`; its shape is [N, ...the model's input shape] or [N, values a
 * sample] (both work for any model), or for a model trained on a built-in dataset, images [N, 1, 28, 28]. Outputs are the final layer's values (logits) and `classes` their argmax.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { Job } from '../jobs/job.js';
import { applyScaling, type ScalingStats } from '../data/scaling.js';
import { loadModel } from '../deploy/load-model.js';
import type { Sequential } from '../nn/sequential.js';
import { HttpError } from './errors.js';

interface Loaded {
  model: Sequential;
  /** A sample's shape: [784] for an MLP, [C, H, W] for a CNN. */
  sample: readonly number[];
  /** The shapes of a sample a request may give (after N): the model's, and [1, 28, 28] images for the built-in datasets. */
  samples: readonly (readonly number[])[];
  scaling: ScalingStats | null;
  /** The checkpoint's modification time: a newer one replaces the model. */
  stamp: number;
}

export interface PredictRequest {
  inputs: number[][] | string;
  shape?: number[];
}

export interface Prediction {
  outputs: number[][];
  classes: number[];
}

const product = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export class Predictor {
  /** Insertion order is use order: the first entry is the least recently used. */
  private readonly models = new Map<string, Loaded>();

  constructor(private readonly maxBatch: number, private readonly cacheSize = 4) {}

  predict(job: Job, request: PredictRequest): Prediction {
    const loaded = this.load(job);
    const { data, shape } = this.batch(request);
    const D = product(loaded.sample);
    const rest = shape.slice(1);
    const same = (a: readonly number[]) => a.length === rest.length && a.every((d, i) => d === rest[i]);
    const fits = (rest.length === 1 && rest[0] === D) || loaded.samples.some(same);
    if (!fits) throw new HttpError(400, `body/shape [${shape.join(', ')}] does not fit the model's input: ${loaded.samples.map((a) => `[N, ${a.join(', ')}]`).join(', ')} or [N, ${D}]`, 'shape');
    const N = shape[0];
    if (loaded.scaling) applyScaling(loaded.scaling, data, D);
    const out = loaded.model.predict({ data, shape: [N, ...loaded.sample] });
    const C = out.shape[1];
    const outputs: number[][] = [];
    const classes: number[] = [];
    for (let n = 0; n < N; n++) {
      const row = Array.from(out.data.subarray(n * C, (n + 1) * C));
      outputs.push(row);
      classes.push(row.indexOf(Math.max(...row)));
    }
    return { outputs, classes };
  }

  /** The request's batch as float32 values and a shape whose size matches them. */
  private batch({ inputs, shape }: PredictRequest): { data: Float32Array; shape: number[] } {
    let data: Float32Array;
    if (typeof inputs === 'string') {
      if (!BASE64.test(inputs)) throw new HttpError(400, 'body/inputs must be an array of rows or a base64 string', 'inputs');
      const bytes = Buffer.from(inputs, 'base64');
      if (bytes.length % 4 !== 0) throw new HttpError(400, `body/inputs holds ${bytes.length} bytes, not a whole number of float32 values`, 'inputs');
      if (!shape) throw new HttpError(400, 'body: "shape" is required with base64 inputs', 'shape');
      data = new Float32Array(bytes.length / 4);
      new Uint8Array(data.buffer).set(bytes);
      if (shape[0] > this.maxBatch) throw new HttpError(400, `body/shape: batches hold at most ${this.maxBatch} rows, got ${shape[0]}`, 'shape');
    } else {
      const width = inputs[0].length;
      const bad = inputs.findIndex((row) => row.length !== width);
      if (bad !== -1) throw new HttpError(400, `body/inputs/${bad} has ${inputs[bad].length} values, row 0 has ${width}`, 'inputs');
      data = new Float32Array(inputs.length * width);
      inputs.forEach((row, n) => data.set(row, n * width));
      shape ??= [inputs.length, width];
      if (shape[0] !== inputs.length) throw new HttpError(400, `body/shape says ${shape[0]} rows, inputs has ${inputs.length}`, 'shape');
    }
    if (product(shape) !== data.length) throw new HttpError(400, `body/shape [${shape.join(', ')}] needs ${product(shape)} values, inputs has ${data.length}`, 'shape');
    const nonFinite = data.findIndex((v) => !Number.isFinite(v));
    if (nonFinite !== -1) throw new HttpError(400, `body/inputs: value ${nonFinite} is not a finite float32`, 'inputs');
    return { data, shape };
  }

  private load(job: Job): Loaded {
    let stamp: number;
    try {
      stamp = statSync(join(job.dir, 'checkpoint', 'model.safetensors')).mtimeMs;
    } catch {
      throw new HttpError(409, `job ${job.id} has no trained model yet (it is ${job.status})`);
    }
    const cached = this.models.get(job.id);
    this.models.delete(job.id);
    if (cached && cached.stamp === stamp) {
      this.models.set(job.id, cached);
      return cached;
    }
    const { model, inputShape, scaling } = loadModel(job.dir, { backend: job.config.backend });
    const images = [1, 28, 28];
    const samples = job.config.data === undefined && product(inputShape) === product(images) ? [inputShape, images] : [inputShape];
    const loaded = { model, sample: inputShape, samples, scaling, stamp };
    this.models.set(job.id, loaded);
    for (const id of this.models.keys()) {
      if (this.models.size <= this.cacheSize) break;
      this.models.delete(id);
    }
    return loaded;
  }
}
