/**
 * Training: `fit(model, data, options)` runs epochs of shuffled mini-batches (forward, softmax cross-entropy,
 * backward, one optimizer step) and returns a history per epoch; `evaluate(model, data)` measures loss and
 * accuracy in eval mode over large batches.
 *
 * It is a server job's loop: it yields to the event loop between batches (never blocking it for more than
 * about `yieldMs`), stops cleanly at a batch boundary when its AbortSignal fires, and stops with a
 * `TrainingError` naming the epoch and batch when the loss turns NaN or infinite, before the optimizer
 * applies that step. Its whole state — position, shuffle generator, the model's generator, running sums —
 * is `trainer.state()`, so a run resumed from a checkpoint ends with the same weights, bit for bit, as one
 * that was never interrupted.
 */
import type { Tensor } from '../nn/tensor.js';
import { SoftmaxCrossEntropy } from '../nn/loss.js';
import { Sequential } from '../nn/sequential.js';
import { permutation } from '../data/shuffle.js';
import { Random } from '../util/random.js';
import { json, show } from '../util/show.js';
import { addConfusion, countCorrect } from './metrics.js';
import { SCHEDULES, scheduleFactor, type Schedule } from './schedule.js';

/** What training reads: a sized set of labelled samples that fills a batch for given indices. */
export interface TrainingData {
  readonly length: number;
  readonly classes: number;
  /** The samples at `indices`: inputs (shaped as the model takes them) and class indices, in reused buffers. */
  batch(indices: Int32Array): { x: Tensor; labels: Int32Array };
  /**
   * Optional, a hint: the samples at `indices` are the next batch's, so start fetching them now (training calls
   * it after each batch() with the next one's indices, and the rows arrive while this batch trains). Must not
   * change what batch() returns.
   */
  prefetch?(indices: Int32Array): void;
}

/** What training needs of an optimizer. */
export interface StepOptimizer {
  step(): void;
  /** The learning rate, read once and then set before each step when a schedule other than 'constant' runs. */
  lr?: number;
  stateDict(): unknown;
  /** stateDict() with the state's values as views rather than encoded (Optimizer.stateViews); what checkpoints write. */
  stateViews?(): unknown;
  loadStateDict(state: unknown): void;
}

export interface EpochRecord {
  epoch: number;
  trainLoss: number;
  trainAccuracy: number;
  testLoss?: number;
  testAccuracy?: number;
  seconds: number;
  samplesPerSecond: number;
}

export interface BatchInfo {
  epoch: number;
  batch: number;
  batches: number;
  loss: number;
  samplesPerSecond: number;
  /** Seconds of training so far in this epoch. */
  seconds: number;
}

export interface FitOptions {
  epochs: number;
  batchSize: number;
  optimizer: StepOptimizer;
  testData?: TrainingData;
  /** Seed of the shuffling (default 0); the model's own seed drives initialisation and dropout. */
  seed?: number;
  onBatch?: (info: BatchInfo) => void;
  /** Called after each epoch; awaited (write a checkpoint here). */
  onEpoch?: (record: EpochRecord, trainer: Trainer) => void | Promise<void>;
  /** The learning rate over the run, as a factor of the optimizer's lr at construction (default 'constant'). */
  schedule?: Schedule;
  /** Stops at the next batch boundary; `fit` then resolves with `stopped: true`. */
  signal?: AbortSignal;
  /** Continue from `trainer.state()` of an earlier run. */
  resume?: TrainerState;
  /** Longest stretch of batches between yields to the event loop, in ms (default 20). */
  yieldMs?: number;
}

export interface History {
  epochs: EpochRecord[];
  /** The AbortSignal stopped the run before its last epoch ended. */
  stopped: boolean;
}

/** Everything needed to continue a run exactly. JSON-serialisable (unless taken with `{ views: true }`). */
export interface TrainerState {
  /** Epochs finished, and batches finished of the next one. */
  epoch: number;
  batch: number;
  /** The shuffle generator at the start of the current epoch, and the model's generator now. */
  epochRandom: number[];
  modelRandom: number[];
  /** Running sums of the current epoch. */
  lossSum: number;
  correct: number;
  seen: number;
  seconds: number;
  optimizer: unknown;
  history: EpochRecord[];
  /** The optimizer's lr before any schedule changed it (absent in checkpoints older than schedules). */
  baseLr?: number;
}

export class TrainingError extends Error {
  override name = 'TrainingError';
}

export class Trainer {
  private readonly random: Random;
  private readonly loss: SoftmaxCrossEntropy;
  private current: TrainerState;

  constructor(readonly model: Sequential, readonly data: TrainingData, readonly options: FitOptions) {
    if (!(model instanceof Sequential)) throw new TypeError(`fit: model must be a Sequential, got ${show(model)}`);
    checkFitOptions(options, data);
    this.loss = new SoftmaxCrossEntropy(model.backend);
    this.random = new Random(options.seed ?? 0);
    this.current = {
      epoch: 0, batch: 0, epochRandom: this.random.state(), modelRandom: model.random.state(),
      lossSum: 0, correct: 0, seen: 0, seconds: 0, optimizer: null, history: [], baseLr: options.optimizer.lr,
    };
    if (options.resume) this.restore(options.resume);
  }

  /**
   * The run's state now, for a checkpoint. `{ views: true }` takes the optimizer's stateViews() where it has one:
   * its buffers as views, to be written out before the next step (writeCheckpoint does, in binary).
   */
  state(options: { views?: boolean } = {}): TrainerState {
    const optimizer = this.options.optimizer;
    const optimizerState = options?.views && optimizer.stateViews ? optimizer.stateViews() : optimizer.stateDict();
    return { ...this.current, modelRandom: this.model.random.state(), optimizer: optimizerState, history: [...this.current.history] };
  }

  private restore(state: TrainerState): void {
    this.current = { ...state, history: [...state.history], baseLr: state.baseLr ?? this.current.baseLr };
    this.model.random.setState(state.modelRandom);
    this.options.optimizer.loadStateDict(state.optimizer);
  }

  async run(): Promise<History> {
    const { epochs, batchSize, optimizer, signal, testData } = this.options;
    const yieldMs = this.options.yieldMs ?? 20;
    const schedule = this.options.schedule ?? 'constant';
    const N = this.data.length;
    const batches = Math.ceil(N / batchSize);
    const s = this.current;
    while (s.epoch < epochs) {
      // The epoch's order comes from the generator as it stood at the epoch's start, so a resumed run
      // shuffles the same way.
      this.random.setState(s.epochRandom);
      const order = permutation(N, this.random);
      const nextEpochRandom = this.random.state();
      this.model.train();
      let lastYield = performance.now();
      let started = performance.now();
      while (s.batch < batches) {
        if (signal?.aborted) return { epochs: [...s.history], stopped: true };
        const indices = order.subarray(s.batch * batchSize, Math.min(N, (s.batch + 1) * batchSize));
        const { x, labels } = this.data.batch(indices);
        if (s.batch + 1 < batches) this.data.prefetch?.(order.subarray((s.batch + 1) * batchSize, Math.min(N, (s.batch + 2) * batchSize)));
        this.model.zeroGrad();
        const logits = this.model.forward(x);
        const value = this.loss.forward(logits, labels) + this.model.regularizationLoss();
        if (!Number.isFinite(value)) {
          throw new TrainingError(`the loss is ${value} at epoch ${s.epoch + 1}, batch ${s.batch + 1} of ${batches}: training stopped before applying that step (lower the learning rate, or check the data)`);
        }
        this.model.backward(this.loss.backward());
        if (schedule !== 'constant') optimizer.lr = s.baseLr! * scheduleFactor(schedule, s.epoch * batches + s.batch, epochs * batches);
        optimizer.step();
        s.lossSum += value * indices.length;
        s.correct += countCorrect(logits.data, labels, indices.length, logits.shape[1]);
        s.seen += indices.length;
        s.batch++;
        const now = performance.now();
        s.seconds += (now - started) / 1000;
        started = now;
        this.options.onBatch?.({ epoch: s.epoch + 1, batch: s.batch, batches, loss: value, samplesPerSecond: s.seen / s.seconds, seconds: s.seconds });
        if (now - lastYield >= yieldMs) {
          await new Promise((resolve) => setImmediate(resolve));
          lastYield = performance.now();
          started = lastYield;
        }
      }
      const record: EpochRecord = {
        epoch: s.epoch + 1,
        trainLoss: s.lossSum / s.seen,
        trainAccuracy: s.correct / s.seen,
        seconds: s.seconds,
        samplesPerSecond: s.seen / s.seconds,
      };
      if (testData) {
        // At the training batch size: a larger one would grow every activation buffer of the model for good.
        const test = await evaluate(this.model, testData, { batchSize });
        record.testLoss = test.loss;
        record.testAccuracy = test.accuracy;
      }
      Object.assign(s, { epoch: s.epoch + 1, batch: 0, epochRandom: nextEpochRandom, lossSum: 0, correct: 0, seen: 0, seconds: 0 });
      s.history.push(record);
      await this.options.onEpoch?.(record, this);
    }
    return { epochs: [...s.history], stopped: false };
  }
}

/** Trains `model` on `data`; see the module comment. */
export function fit(model: Sequential, data: TrainingData, options: FitOptions): Promise<History> {
  return new Trainer(model, data, options).run();
}

export interface Evaluation {
  loss: number;
  accuracy: number;
  /** classes x classes counts, row = true class, column = predicted. */
  confusion: Int32Array;
}

/** Loss and accuracy in eval mode (the model's mode is restored), over batches of `batchSize`. */
export async function evaluate(model: Sequential, data: TrainingData, options: { batchSize?: number } = {}): Promise<Evaluation> {
  if (!(model instanceof Sequential)) throw new TypeError(`evaluate: model must be a Sequential, got ${show(model)}`);
  checkData('evaluate: data', data, 0);
  if (typeof options !== 'object' || options === null) throw new TypeError(`evaluate: options must be an object, got ${show(options)}`);
  const batchSize = options.batchSize ?? 1000;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`evaluate: batchSize must be a positive integer, got ${show(batchSize)}`);
  const loss = new SoftmaxCrossEntropy(model.backend);
  const confusion = new Int32Array(data.classes * data.classes);
  const was = model.training;
  model.eval();
  let lossSum = 0;
  let correct = 0;
  try {
    const indices = new Int32Array(data.length).map((_, i) => i);
    for (let start = 0; start < data.length; start += batchSize) {
      const slice = indices.subarray(start, Math.min(data.length, start + batchSize));
      const { x, labels } = data.batch(slice);
      const logits = model.forward(x);
      lossSum += loss.forward(logits, labels) * slice.length;
      correct += countCorrect(logits.data, labels, slice.length, logits.shape[1]);
      addConfusion(confusion, logits.data, labels, slice.length, logits.shape[1]);
      await new Promise((resolve) => setImmediate(resolve));
    }
  } finally {
    model.training = was;
  }
  return { loss: lossSum / Math.max(1, data.length), accuracy: correct / Math.max(1, data.length), confusion };
}

/** Training data as fit and evaluate read it: { length, classes, batch(indices) }, with at least `min` samples. */
function checkData(where: string, data: TrainingData, min: number): void {
  if (typeof data !== 'object' || data === null) throw new TypeError(`${where} must be a dataset { length, classes, batch }, got ${show(data)}`);
  if (!Number.isSafeInteger(data.length) || data.length < min) throw new TypeError(`${where} must be a ${min > 0 ? 'non-empty ' : ''}dataset, its length is ${show(data.length)}`);
  if (!Number.isInteger(data.classes) || data.classes < 1 || data.classes > 65536) throw new TypeError(`${where} must be a dataset, its classes is ${show(data.classes)}`);
  if (typeof data.batch !== 'function') throw new TypeError(`${where} must be a dataset, it has no batch(indices) method`);
  if (data.prefetch !== undefined && typeof data.prefetch !== 'function') throw new TypeError(`${where}: prefetch must be a method prefetch(indices) or absent, got ${show(data.prefetch)}`);
}

function checkFitOptions(options: FitOptions, data: TrainingData): void {
  if (typeof options !== 'object' || options === null) throw new TypeError('fit: options must be an object');
  const positive = (name: 'epochs' | 'batchSize') => {
    const v = options[name];
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`fit: ${name} must be a positive integer, got ${show(v)}`);
  };
  positive('epochs');
  positive('batchSize');
  if (typeof options.optimizer?.step !== 'function') throw new TypeError('fit: optimizer must be an optimizer (such as new SGD(model, { lr: 0.01 }))');
  if (options.schedule !== undefined && !(SCHEDULES as readonly unknown[]).includes(options.schedule)) {
    throw new RangeError(`fit: schedule must be one of ${SCHEDULES.join(', ')}, got ${json(options.schedule)}`);
  }
  if ((options.schedule ?? 'constant') !== 'constant' && typeof options.optimizer.lr !== 'number') {
    throw new TypeError(`fit: schedule '${options.schedule}' needs an optimizer with a numeric lr`);
  }
  checkData('fit: data', data, 1);
  if (options.testData !== undefined) checkData('fit: testData', options.testData, 0);
  if (options.seed !== undefined && (!Number.isInteger(options.seed) || options.seed < 0 || options.seed > 0xffffffff)) {
    throw new RangeError(`fit: seed must be an integer in [0, 2^32), got ${show(options.seed)}`);
  }
  if (options.yieldMs !== undefined && (typeof options.yieldMs !== 'number' || !(options.yieldMs >= 0))) {
    throw new RangeError(`fit: yieldMs must be a number >= 0, got ${show(options.yieldMs)}`);
  }
  for (const name of ['onBatch', 'onEpoch'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'function') throw new TypeError(`fit: ${name} must be a function, got ${show(options[name])}`);
  }
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) throw new TypeError(`fit: signal must be an AbortSignal, got ${show(options.signal)}`);
  if (options.resume !== undefined && (typeof options.resume !== 'object' || options.resume === null)) {
    throw new TypeError(`fit: resume must be a trainer state (trainer.state()), got ${show(options.resume)}`);
  }
}
