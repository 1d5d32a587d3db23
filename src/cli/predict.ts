/**
 * `normnet predict RUN --input FILE [--output FILE] [--json] [--batch-size N] [--backend B] [--threads N]`: the
 * class probabilities (softmax of the logits) and the predicted class of every sample of FILE, in order, from
 * the model loadModel rebuilds from RUN (a run or checkpoint directory, or a .safetensors file normnet wrote).
 * Inputs are scaled as the run's training data was. Output is CSV (`predicted,prob_0,...,prob_{C-1}`), or JSON
 * lines ({"predicted": 3, "probabilities": [...]}) with --json or an --output ending in .jsonl; on stdout
 * without --output. A bad input file exits 1 with its name and the row.
 */
import { DataFileError } from '../data/data-file-error.js';
import { readFeatureFile } from '../data/data-files.js';
import { applyScaling } from '../data/scaling.js';
import { loadModel, type LoadedModel } from '../deploy/load-model.js';
import { writeFileAtomic } from '../io/safetensors.js';
import { configure, type BackendChoice } from '../kernels/backend.js';
import { TRAIN_OPTIONS } from '../train/config.js';
import { parseFlags, UsageError } from './options.js';

export const PREDICT_USAGE = `Usage: normnet predict RUN --input FILE [--output FILE] [--json] [--batch-size N] [--backend B] [--threads N]

Class probabilities and the predicted class of every sample of FILE, from the model of RUN (a run directory,
its checkpoint directory, or a .safetensors file normnet wrote), with the run's input scaling applied.

Options:
  --input FILE       the samples: FILE.csv (a header, the feature columns; a label column is skipped),
                     FEATURES.npy, or IMAGES-idx3-ubyte[.gz]
  --output FILE      write there (default: stdout): CSV predicted,prob_0,...; JSON lines if it ends in .jsonl
  --json             JSON lines {"predicted": 3, "probabilities": [...]}
  --batch-size N     samples a forward pass (default 500)
  --backend B        auto (default), native or ts
  --threads N        native threads (default: all cores)`;

const OPTIONS = TRAIN_OPTIONS.filter((o) => ['batchSize', 'backend', 'threads'].includes(o.key));

export function predictCommand(args: string[]): number {
  const [path, ...rest] = args;
  if (path === undefined || path.startsWith('--')) throw new UsageError('predict needs a run directory or model file (normnet predict runs/my-run --input x.csv)');
  const parsed = parseFlags(rest, ['--json'], ['--input', '--output'], OPTIONS);
  const input = parsed.values['--input'];
  if (input === undefined) throw new UsageError('predict needs --input FILE (a .csv, .npy or idx file of samples)');
  const output = parsed.values['--output'];
  const json = parsed.switches.has('--json') || /\.jsonl$/i.test(output ?? '');
  const { batchSize = 500, backend, threads } = parsed.options as { batchSize?: number; backend?: BackendChoice; threads?: number };
  let loaded: LoadedModel;
  try {
    loaded = loadModel(path, { backend });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (threads !== undefined) configure({ threads });
  const { model, inputShape, scaling, config } = loaded;

  const label = typeof config?.label === 'string' ? config.label : 'label';
  const features = readFeatureFile(input, { label });
  const D = inputShape.reduce((a, b) => a * b, 1);
  const sampleShape = features.shape.slice(1);
  const size = sampleShape.reduce((a, b) => a * b, 1);
  if (size !== D) {
    throw new DataFileError(`${input}: samples of shape [${sampleShape.join(', ')}] (${size} values), but the model takes samples of shape [${inputShape.join(', ')}] (${D} values)`);
  }
  if (scaling) applyScaling(scaling, features.x, D);

  const N = features.shape[0];
  const lines: string[] = [];
  let classes = 0;
  for (let start = 0; start < N; start += batchSize) {
    const n = Math.min(batchSize, N - start);
    const { data } = model.predict(features.x.subarray(start * D, (start + n) * D), [n, ...inputShape]);
    classes = data.length / n;
    for (let i = 0; i < n; i++) lines.push(formatRow(softmax(data.subarray(i * classes, (i + 1) * classes)), json));
  }
  const header = json ? [] : [['predicted', ...Array.from({ length: classes }, (_, c) => `prob_${c}`)].join(',')];
  const text = `${[...header, ...lines].join('\n')}\n`;
  if (output === undefined) process.stdout.write(text);
  else writeFileAtomic(output, text);
  return 0;
}

/** softmax(z)_c = exp(z_c - max z) / sum exp(z - max z), in float64; the max keeps exp from overflowing. */
function softmax(logits: ArrayLike<number>): number[] {
  let max = -Infinity;
  for (let c = 0; c < logits.length; c++) max = Math.max(max, logits[c]);
  const p = Array.from(logits, (z) => Math.exp(z - max));
  const sum = p.reduce((a, b) => a + b, 0);
  return p.map((v) => v / sum);
}

/** The predicted class (the first of equal maxima, as argmax) and the probabilities to 6 significant digits. */
function formatRow(p: number[], json: boolean): string {
  const predicted = p.indexOf(Math.max(...p));
  const probabilities = p.map((v) => Number(v.toPrecision(6)));
  return json ? JSON.stringify({ predicted, probabilities }) : [predicted, ...probabilities].join(',');
}
