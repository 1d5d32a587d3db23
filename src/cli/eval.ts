/**
 * `normnet eval CHECKPOINT [--json]`: the test loss, accuracy and confusion matrix of a checkpoint (a run's
 * output directory or its checkpoint/ directory), on the test set of the dataset it was trained on.
 */
import { readCheckpoint } from '../train/checkpoint.js';
import { validateConfig, type RunConfig } from '../train/config.js';
import { buildModel, loadRunData, trainingData } from '../train/run.js';
import { evaluate } from '../train/trainer.js';
import { parseFlags, UsageError } from './options.js';

export const EVAL_USAGE = 'Usage: normnet eval CHECKPOINT [--json]';

export async function evalCommand(args: string[]): Promise<number> {
  const [path, ...rest] = args;
  if (path === undefined || path.startsWith('--')) throw new UsageError('eval needs a checkpoint directory (normnet eval runs/my-run)');
  const json = parseFlags(rest, ['--json'], []).switches.has('--json');
  let checkpoint;
  try {
    checkpoint = readCheckpoint(path);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const config = validateConfig(checkpoint.config, `${checkpoint.dir}/trainer.json`) as unknown as RunConfig;
  const { test } = loadRunData({ ...config, trainLimit: undefined }, checkpoint.scaling);
  if (!test) throw new UsageError(`${checkpoint.dir}: the run trained on ${config.data} without test data (--test-data), so there is nothing to evaluate`);
  const { model, layout } = buildModel(config, test.sampleShape, test.classes);
  model.loadStateDict(checkpoint.model);
  const result = await evaluate(model, trainingData(test, layout, model.backend));
  const C = test.classes;
  const matrix = Array.from({ length: C }, (_, r) => Array.from(result.confusion.subarray(r * C, (r + 1) * C)));
  if (json) {
    console.log(JSON.stringify({ checkpoint: checkpoint.dir, dataset: config.testData ?? config.dataset, testLoss: result.loss, testAccuracy: result.accuracy, confusion: matrix }));
    return 0;
  }
  console.log(`${checkpoint.dir}: ${config.testData ?? `${config.dataset} test set`}, ${test.length} samples`);
  console.log(`test loss ${result.loss.toFixed(4)}, test accuracy ${(100 * result.accuracy).toFixed(2)}%`);
  console.log('confusion matrix (rows: true class, columns: predicted):');
  const names = test.classNames ?? matrix.map((_, i) => String(i));
  const width = Math.max(5, ...names.map((n) => n.length), ...result.confusion.map((v) => String(v).length)) + 1;
  console.log(`${''.padStart(width)}${matrix.map((_, i) => String(i).padStart(width)).join('')}`);
  const label = (r: number) => (names[r] === String(r) ? '' : `  ${names[r]}`);
  matrix.forEach((row, r) => console.log(`${String(r).padStart(width)}${row.map((v) => String(v).padStart(width)).join('')}${label(r)}`));
  return 0;
}
