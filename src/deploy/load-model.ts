/**
 * loadModel(path): a trained model back from what normnet wrote, with no code from the user. `path` is
 *   - a run's output directory (runs/fashion) or its checkpoint directory (runs/fashion/checkpoint): the
 *     checkpoint's model, with the run's configuration and the feature scaling of its training data;
 *   - a .safetensors file that Sequential.save or a checkpoint wrote.
 * The architecture comes from the file's metadata (nn/architecture.ts), the weights from its tensors; the model
 * is returned in eval mode. A file without the architecture (one torch wrote, or one saved before normnet kept
 * it) is an Error saying to build the Sequential and call `load`.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ScalingStats } from '../data/scaling.js';
import { readSafetensors, type StateDict } from '../io/safetensors.js';
import type { Backend, BackendChoice } from '../kernels/backend.js';
import type { FloatArray } from '../kernels/check.js';
import { ARCHITECTURE_KEY, layersOf, readArchitecture } from '../nn/architecture.js';
import { Sequential } from '../nn/sequential.js';
import { readCheckpoint } from '../train/checkpoint.js';
import { checkPath, type PathLike } from '../util/path.js';

export interface LoadModelOptions {
  /** 'auto' (the default), 'native', 'ts', or a backend object, as Sequential takes it. */
  backend?: BackendChoice | Backend<FloatArray>;
}

export interface LoadedModel {
  /** The model, in eval mode. */
  model: Sequential;
  /** A sample's shape, without the batch dimension: what `model.predict` takes after N. */
  inputShape: number[];
  /**
   * The feature scaling the run's training data had (user data with --scale minmax|standard): inputs to predict
   * on must be scaled the same way first (applyScaling). null for a run without it and for a plain file.
   */
  scaling: ScalingStats | null;
  /** The run's configuration (a run or checkpoint directory), or null for a plain file. */
  config: Record<string, unknown> | null;
  /** The safetensors file the model came from. */
  file: string;
}

export function loadModel(source: PathLike, options: LoadModelOptions = {}): LoadedModel {
  const path = checkPath(source, 'loadModel: path');
  if (!existsSync(path)) throw Object.assign(new Error(`${path}: no such file or directory`), { code: 'ENOENT', syscall: 'stat', path }); // as fs says it
  let tensors: StateDict;
  let metadata: Record<string, string>;
  let file: string;
  let scaling: ScalingStats | null = null;
  let config: Record<string, unknown> | null = null;
  if (statSync(path).isDirectory()) {
    const checkpoint = readCheckpoint(path);
    ({ model: tensors, modelMetadata: metadata } = checkpoint);
    file = join(checkpoint.dir, 'model.safetensors');
    scaling = checkpoint.scaling ?? null;
    config = checkpoint.config;
  } else {
    ({ tensors, metadata } = readSafetensors(path));
    file = path;
  }
  const architecture = readArchitecture(metadata, file);
  if (!architecture) {
    throw new Error(`${file}: no normnet architecture in its metadata (${ARCHITECTURE_KEY}): it was not written by normnet's Sequential.save or a checkpoint (a file from torch, or from an older normnet). Build the Sequential with the same layers and call model.load('${file}')`);
  }
  const model = new Sequential(layersOf(architecture, file), { backend: options.backend, inputShape: architecture.inputShape });
  try {
    model.loadStateDict(tensors);
  } catch (error) {
    throw new Error(`${file}: the tensors do not fit the architecture in its metadata: ${(error as Error).message}`);
  }
  return { model: model.eval(), inputShape: architecture.inputShape, scaling, config, file };
}
