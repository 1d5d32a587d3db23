/**
 * Dataset: N labelled samples in one typed array, and the batches a model takes from them.
 *
 *   x       (rows, ...sampleShape) row-major: uint8 for images (MNIST train is 60000×784 bytes = 47 MB,
 *           never expanded to float as a whole) or float32 for user data; subsets share it
 *   labels  (N) class indices in [0, classes), uint8 or int32, this dataset's own, in order
 *   rows    which stored sample each of the N is (a subset, e.g. from split); null for all of x in order
 *
 * A batch is float32, scaled to [0, 1] for uint8 data (value / 255): x as [n, D] ('flat') or [n, C, H, W]
 * ('nchw'), labels as an Int32Array of class indices or one-hot Float32Array rows (n × classes). Batches are
 * written into a BatchBuffers sized for the largest batch seen; a batch of a size seen before returns the
 * same objects, overwritten, so an epoch allocates nothing after its first batch. The copying itself is the
 * gather kernels in gather.ts; the pixels move through a backend's gatherScale kernel (`backend` option: the
 * trainer passes the model's, so a native model takes its batches natively).
 */
import type { Backend } from '../kernels/backend.js';
import type { FloatArray } from '../kernels/check.js';
import type { Tensor } from '../nn/tensor.js';
import type { Random } from '../util/random.js';
import { gatherScale } from '../kernels/ts/gather.js';
import { gatherLabelsUnchecked as gatherLabels, oneHotRowsUnchecked as oneHotRows } from './gather.js';
import { permutation } from './shuffle.js';
import { types } from 'node:util';
import { show } from '../util/show.js';

export type Layout = 'flat' | 'nchw';

export interface Batch {
  /** [n, D] or [n, C, H, W], float32. */
  readonly x: Tensor<Float32Array>;
  /** Class indices (n), or one-hot rows (n × classes) with `oneHot`. */
  readonly labels: Int32Array | Float32Array;
}

export interface BatchOptions {
  /** 'flat' gives [n, D] (default), 'nchw' gives [n, C, H, W] (samples of shape [C, H, W] or [H, W]). */
  layout?: Layout;
  /** Labels as one-hot Float32Array rows instead of an Int32Array of indices; default false. */
  oneHot?: boolean;
  /** Buffers to write the batch into; default the dataset's own. */
  out?: BatchBuffers;
  /** The backend whose gatherScale kernel fills x (the same values from either); default the TypeScript kernel. */
  backend?: Backend<FloatArray>;
}

export interface BatchesOptions extends BatchOptions {
  /** The order to visit samples in, e.g. `dataset.epochOrder(random)`; default 0..N-1. */
  order?: Int32Array;
  /** Skip a last batch smaller than batchSize; default false. */
  dropLast?: boolean;
}

export interface DatasetInit {
  /** The stored samples, (rows, ...sampleShape) row-major. */
  x: Uint8Array | Float32Array;
  /** This dataset's labels, one per sample, in order. */
  labels: Uint8Array | Int32Array;
  /** [N, ...sampleShape], e.g. [60000, 1, 28, 28]. */
  shape: readonly number[];
  classes: number;
  /** For a subset: the stored row of each of the N samples. */
  rows?: Int32Array;
  /** For messages and printing, e.g. 'mnist train'. */
  name?: string;
  classNames?: readonly string[];
}

/** Reused output buffers for batches: one allocation each, sized for the largest batch seen. */
export class BatchBuffers {
  private x = new Float32Array(0);
  private labels = new Int32Array(0);
  private hot = new Float32Array(0);
  private local = new Int32Array(0);
  private stored = new Int32Array(0);
  private readonly views = new Map<string, BatchViews>();

  /**
   * Growth and the cached views for one batch geometry: the batch, and index buffers of exactly n entries
   * (kernels take arrays of their exact length, so a partial last batch must not see the full batch's rows).
   */
  prepare(n: number, D: number, C: number, shape: readonly number[], oneHot: boolean): BatchViews {
    if (![n, D, C].every((v) => Number.isSafeInteger(v) && v >= 0) || n * D >= 2 ** 32 || !Array.isArray(shape) || typeof oneHot !== 'boolean') {
      throw new TypeError('BatchBuffers.prepare: expected (n, D, C, shape, oneHot): sizes n*D < 2^32, a shape array and a boolean');
    }
    if (this.x.length < n * D || this.labels.length < n || (oneHot && this.hot.length < n * C)) {
      if (this.x.length < n * D) this.x = new Float32Array(n * D);
      if (this.labels.length < n) {
        this.labels = new Int32Array(n);
        this.local = new Int32Array(n);
        this.stored = new Int32Array(n);
      }
      if (oneHot && this.hot.length < n * C) this.hot = new Float32Array(n * C);
      this.views.clear(); // views of the old buffers
    }
    const key = `${shape.join(',')}|${oneHot ? C : 0}`;
    let views = this.views.get(key);
    if (!views) {
      const indices = this.labels.subarray(0, n);
      views = {
        batch: { x: { data: this.x.subarray(0, n * D), shape: Object.freeze([...shape]) }, labels: oneHot ? this.hot.subarray(0, n * C) : indices },
        indices, local: this.local.subarray(0, n), stored: this.stored.subarray(0, n),
      };
      this.views.set(key, views);
    }
    return views;
  }
}

interface BatchViews { batch: Batch; indices: Int32Array; local: Int32Array; stored: Int32Array }

export class Dataset {
  /** Stored samples, shared with subsets; sample i is stored row `rows ? rows[i] : i`. */
  readonly x: Uint8Array | Float32Array;
  /** Class index of each sample, in order. */
  readonly labels: Uint8Array | Int32Array;
  readonly rows: Int32Array | null;
  /** [N, ...sampleShape]. */
  readonly shape: readonly number[];
  readonly sampleShape: readonly number[];
  /** Values per sample, D. */
  readonly sampleSize: number;
  readonly length: number;
  readonly classes: number;
  readonly classNames?: readonly string[];
  readonly name: string;
  /** Factor from stored values to batch values: 1/255 for uint8, 1 for float32. */
  readonly scale: number;
  private buffers?: BatchBuffers;
  /** prefetch()'s stored rows, reused. */
  private prefetched?: Int32Array;

  constructor(init: DatasetInit) {
    if (typeof init !== 'object' || init === null) throw new TypeError(`Dataset: init must be { x, labels, shape, classes }, got ${show(init)}`);
    const { x, labels, shape, classes } = init;
    const name = init.name ?? 'dataset';
    if (!types.isUint8Array(x) && !types.isFloat32Array(x)) throw new TypeError(`Dataset (${name}): x must be a Uint8Array or Float32Array`);
    if (!types.isUint8Array(labels) && !types.isInt32Array(labels)) throw new TypeError(`Dataset (${name}): labels must be a Uint8Array or Int32Array`);
    if (!Array.isArray(shape) || shape.length < 2 || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new RangeError(`Dataset (${name}): shape must be [N, ...sampleShape] of integers >= 0, got ${show(shape)}`);
    }
    if (!Number.isInteger(classes) || classes < 1) throw new RangeError(`Dataset (${name}): classes must be an integer >= 1, got ${show(classes)}`);
    const N = shape[0];
    const D = shape.slice(1).reduce((a, b) => a * b, 1);
    const rows = init.rows ?? null;
    if (labels.length !== N) throw new RangeError(`Dataset (${name}): ${N} samples but ${labels.length} labels`);
    if (rows) {
      if (!(rows instanceof Int32Array) || rows.length !== N) throw new RangeError(`Dataset (${name}): rows must be an Int32Array of N = ${N} stored rows`);
      const stored = D === 0 ? 0 : x.length / D;
      if (!Number.isInteger(stored)) throw new RangeError(`Dataset (${name}): x holds ${x.length} values, not whole samples of ${D}`);
      for (let i = 0; i < N; i++) {
        if (rows[i] < 0 || rows[i] >= stored) throw new RangeError(`Dataset (${name}): rows[${i}] = ${rows[i]} is not a stored row in [0, ${stored})`);
      }
    } else if (x.length !== N * D) {
      throw new RangeError(`Dataset (${name}): shape [${shape.join(', ')}] holds ${N * D} values, x has ${x.length}`);
    }
    for (let i = 0; i < N; i++) {
      if (labels[i] >= classes || labels[i] < 0) throw new RangeError(`Dataset (${name}): labels[${i}] = ${labels[i]} is not a class index in [0, ${classes})`);
    }
    if (init.classNames !== undefined && init.classNames.length !== classes) {
      throw new RangeError(`Dataset (${name}): ${classes} classes but ${init.classNames.length} class names`);
    }
    this.x = x;
    this.labels = labels;
    this.rows = rows;
    this.shape = Object.freeze([...shape]);
    this.sampleShape = Object.freeze(shape.slice(1));
    this.sampleSize = D;
    this.length = N;
    this.classes = classes;
    this.classNames = init.classNames;
    this.name = name;
    this.scale = x instanceof Uint8Array ? 1 / 255 : 1;
  }

  /** Bytes held by the stored samples and labels (shared storage counted in full). */
  get byteLength(): number {
    return this.x.byteLength + this.labels.byteLength + (this.rows?.byteLength ?? 0);
  }

  /** The batch of the samples at `indices`, or of `count` samples from `start`. */
  batch(indices: Int32Array | readonly number[], options?: BatchOptions): Batch;
  batch(start: number, count: number, options?: BatchOptions): Batch;
  batch(first: Int32Array | readonly number[] | number, second?: number | BatchOptions, third?: BatchOptions): Batch {
    if (typeof first === 'number') {
      const start = first;
      const count = second;
      if (typeof count !== 'number') throw new TypeError('Dataset.batch: count must be a number after start');
      if (!Number.isInteger(start) || start < 0 || start > this.length) {
        throw new RangeError(`Dataset.batch: start must be an integer in [0, ${this.length}], got ${start}`);
      }
      if (!Number.isInteger(count) || count < 0 || start + count > this.length) {
        throw new RangeError(`Dataset.batch: count must be an integer with start + count <= ${this.length}, got start ${start}, count ${count}`);
      }
      return this.fill(null, start, count, third ?? {});
    }
    if (!types.isInt32Array(first) && !Array.isArray(first)) {
      throw new TypeError('Dataset.batch: expected indices (an Int32Array or array of integers) or start and count');
    }
    if (second !== undefined && (typeof second !== 'object' || second === null)) throw new TypeError('Dataset.batch: options must be an object');
    return this.fill(first, 0, first.length, second ?? {});
  }

  /**
   * The dataset in batches of `batchSize`, in `order` (a shuffled epoch with `epochOrder`) or 0..N-1. Each
   * batch is overwritten by the next one (same buffers); copy what must be kept.
   */
  *batches(batchSize: number, options: BatchesOptions = {}): Generator<Batch, void, undefined> {
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`Dataset.batches: batchSize must be an integer >= 1, got ${batchSize}`);
    const order = options.order;
    if (order !== undefined && !(order instanceof Int32Array)) throw new TypeError('Dataset.batches: order must be an Int32Array of sample indices');
    const total = order ? order.length : this.length;
    for (let start = 0; start < total; start += batchSize) {
      const n = Math.min(batchSize, total - start);
      if (n < batchSize && options.dropLast) return;
      yield this.fill(order ?? null, start, n, options);
    }
  }

  /** A shuffled order of 0..N-1 for one epoch (Fisher–Yates from `random`), into `out` if given. */
  epochOrder(random: Random, out?: Int32Array): Int32Array {
    return permutation(this.length, random, out);
  }

  /** The samples at `indices`, as a dataset sharing this one's stored samples (labels are copied). */
  subset(indices: Int32Array | readonly number[], name = `${this.name} subset`): Dataset {
    if (!types.isInt32Array(indices) && !Array.isArray(indices)) throw new TypeError('Dataset.subset: indices must be an Int32Array or array of integers');
    const n = indices.length;
    const rows = new Int32Array(n);
    const labels = this.labels instanceof Uint8Array ? new Uint8Array(n) : new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const index = this.checkIndex(indices[i], i, 'Dataset.subset');
      rows[i] = this.rows ? this.rows[index] : index;
      labels[i] = this.labels[index];
    }
    return new Dataset({
      x: this.x, labels, rows, shape: [n, ...this.sampleShape], classes: this.classes, classNames: this.classNames, name,
    });
  }

  /**
   * A hint that the samples at `indices` come next: `backend`'s prefetchRows asks the caches for their rows and
   * returns at once (the native backend's; the TS kernel, the default, can only check). Training calls it with
   * the next batch's indices, so a batch's rows, picked at random from a dataset larger than the caches, arrive
   * while the batch before it trains. The indices are checked as batch() checks them.
   */
  prefetch(indices: Int32Array | readonly number[], options: { backend?: Backend<FloatArray> } = {}): void {
    if (!types.isInt32Array(indices) && !Array.isArray(indices)) throw new TypeError('Dataset.prefetch: indices must be an Int32Array or an array of integers');
    if (typeof options !== 'object' || options === null) throw new TypeError('Dataset.prefetch: options must be an object');
    if (options.backend !== undefined && typeof options.backend?.prefetchRows !== 'function') {
      throw new TypeError('Dataset.prefetch: backend must be a backend (getBackend())');
    }
    const n = indices.length;
    if (this.prefetched === undefined || this.prefetched.length < n) this.prefetched = new Int32Array(n);
    const rows = this.prefetched.subarray(0, n);
    for (let i = 0; i < n; i++) {
      const index = this.checkIndex(indices[i], i, 'Dataset.prefetch');
      rows[i] = this.rows ? this.rows[index] : index;
    }
    options.backend?.prefetchRows(this.x, rows, n, this.sampleSize);
  }

  toString(): string {
    return `Dataset(${this.name}: ${this.length} × [${this.sampleShape.join(', ')}] ${this.x instanceof Uint8Array ? 'uint8' : 'float32'}, ${this.classes} classes)`;
  }

  /** Writes samples source[offset .. offset+n) (or offset .. offset+n itself without a source) into a batch. */
  private fill(source: ArrayLike<number> | null, offset: number, n: number, options: BatchOptions): Batch {
    if (typeof options !== 'object' || options === null) throw new TypeError('Dataset.batch: options must be an object');
    const layout = options.layout ?? 'flat';
    if (layout !== 'flat' && layout !== 'nchw') throw new RangeError(`Dataset.batch: layout must be 'flat' or 'nchw', got ${show(layout)}`);
    const oneHot = options.oneHot ?? false;
    if (typeof oneHot !== 'boolean') throw new TypeError('Dataset.batch: oneHot must be a boolean');
    const out = options.out ?? (this.buffers ??= new BatchBuffers());
    if (!(out instanceof BatchBuffers)) throw new TypeError('Dataset.batch: out must be a BatchBuffers');
    if (options.backend !== undefined && typeof options.backend?.gatherScale !== 'function') {
      throw new TypeError('Dataset.batch: backend must be a backend (getBackend())');
    }
    const D = this.sampleSize;
    const C = this.classes;
    const { batch, indices, local, stored } = out.prepare(n, D, C, this.batchShape(n, layout), oneHot);

    for (let i = 0; i < n; i++) local[i] = source ? this.checkIndex(source[offset + i], offset + i, 'Dataset.batch') : offset + i;
    const rows = this.rows;
    if (rows) for (let i = 0; i < n; i++) stored[i] = rows[local[i]];
    const gather = options.backend?.gatherScale ?? gatherScale;
    gather(batch.x.data, this.x, rows ? stored : local, n, D, this.scale);
    gatherLabels(indices, this.labels, local, n);
    if (oneHot) oneHotRows(batch.labels as Float32Array, indices, n, C);
    return batch;
  }

  private batchShape(n: number, layout: Layout): number[] {
    if (layout === 'flat') return [n, this.sampleSize];
    const s = this.sampleShape;
    if (s.length === 3) return [n, s[0], s[1], s[2]];
    if (s.length === 2) return [n, 1, s[0], s[1]];
    throw new RangeError(`Dataset.batch: layout 'nchw' needs samples of shape [C, H, W] or [H, W], this dataset's are [${s.join(', ')}]`);
  }

  private checkIndex(index: number, at: number, where: string): number {
    if (!Number.isInteger(index) || index < 0 || index >= this.length) {
      throw new RangeError(`${where}: indices[${at}] = ${show(index)} is not a sample index in [0, ${this.length})`);
    }
    return index;
  }
}
