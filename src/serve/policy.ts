/**
 * What the server allows of a config beyond what `normnet train` accepts (the schema has already refused
 * `out`): data only from the data roots, handed to the job by their real paths; no more native threads than
 * the machine has cores; and a model that fits the server's memory budget (footprint.ts). Returns the config
 * to queue, or throws an HttpError naming the key.
 */
import { availableParallelism } from 'node:os';
import { resolveConfig, ConfigError, type RunConfig } from '../train/config.js';
import type { DataRoots } from './data-roots.js';
import { configErrorField, HttpError } from './errors.js';
import { modelFootprint } from './footprint.js';

export interface Policy {
  roots: DataRoots;
  /** The largest model footprint (bytes) a job may have. */
  maxModelBytes: number;
}

const MiB = 2 ** 20;

export function checkSubmission(config: Record<string, unknown>, policy: Policy): Record<string, unknown> {
  let resolved: RunConfig;
  try {
    resolved = resolveConfig(config, 'body');
  } catch (error) {
    if (error instanceof ConfigError) throw new HttpError(400, error.message, configErrorField(error.message));
    throw error;
  }
  const checked = { ...config };
  if (typeof config.data === 'string') checked.data = policy.roots.resolveData(config.data, 'data');
  if (typeof config.testData === 'string') checked.testData = policy.roots.resolveData(config.testData, 'testData');
  if (typeof config.dataDir === 'string') checked.dataDir = policy.roots.resolve(config.dataDir, 'dataDir', 'directory');
  const cores = availableParallelism();
  if (resolved.threads !== undefined && resolved.threads > cores) throw new HttpError(400, `body/threads must be <= ${cores}, the cores of this server`, 'threads');
  let footprint;
  try {
    footprint = modelFootprint(resolved);
  } catch (error) {
    if (error instanceof RangeError) throw new HttpError(400, `body/layers: ${error.message}`, 'layers');
    throw error;
  }
  if (footprint && footprint.bytes > policy.maxModelBytes) {
    // The parameters alone too many: the layers are to blame; else the batch's activations are.
    const field = 16 * footprint.parameters > policy.maxModelBytes ? (resolved.layers ? 'layers' : 'hidden') : 'batchSize';
    throw new HttpError(400, `body/${field}: the model would need about ${Math.ceil(footprint.bytes / MiB)} MiB (${footprint.parameters} parameters, batches of ${footprint.batch}), more than this server allows (${Math.floor(policy.maxModelBytes / MiB)} MiB): use fewer or smaller layers, or a smaller batchSize`, field);
  }
  return checked;
}
