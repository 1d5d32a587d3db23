/**
 * Checkpoints: a directory `checkpoint/` inside a run's output directory holding `model.safetensors` (the
 * state dict, loadable by PyTorch) and `trainer.json` (the trainer's state: position, generators, optimizer
 * state, history; plus the run's configuration and the feature scaling of the user's data). model.safetensors'
 * metadata also holds the model's architecture, so the file alone rebuilds the model (loadModel). Written
 * atomically as a pair: the new checkpoint is written complete into `checkpoint.tmp/`, the previous one is moved
 * to `checkpoint.old/`, the new one into place, and only then is the old one removed. A crash at any moment
 * leaves a complete checkpoint or the previous one.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { readSafetensors, writeFileAtomic, writeSafetensors, type StateDict } from '../io/safetensors.js';
import type { ScalingStats } from '../data/scaling.js';
import { architectureMetadata } from '../nn/architecture.js';
import { checkPath, type PathLike } from '../util/path.js';
import type { Sequential } from '../nn/sequential.js';
import type { TrainerState } from './trainer.js';

export interface Checkpoint {
  dir: string;
  config: Record<string, unknown>;
  trainer: TrainerState;
  model: StateDict;
  /** model.safetensors' metadata: the format and the model's architecture (nn/architecture.ts), which loadModel rebuilds it from. */
  modelMetadata: Record<string, string>;
  /** The feature scaling of the user's data the run trained on (absent or null: none). */
  scaling?: ScalingStats | null;
}

const FORMAT = 'normnet-checkpoint-1';

export function writeCheckpoint(dir: PathLike, model: Sequential, trainer: TrainerState, config: Record<string, unknown>, scaling: ScalingStats | null = null): string {
  const outDir = checkPath(dir, 'writeCheckpoint: outDir');
  const final = join(outDir, 'checkpoint');
  const temp = join(outDir, 'checkpoint.tmp');
  const old = join(outDir, 'checkpoint.old');
  try {
    rmSync(temp, { recursive: true, force: true });
    mkdirSync(temp, { recursive: true });
    writeSafetensors(join(temp, 'model.safetensors'), model.stateDict(), { format: FORMAT, ...architectureMetadata(model.architecture()) });
    writeFileAtomic(join(temp, 'trainer.json'), `${JSON.stringify({ format: FORMAT, config, trainer, scaling }, null, 1)}\n`);
  } catch (error) {
    // A full disk, a lost permission or directory: nothing of the previous checkpoint was touched yet.
    rmSync(temp, { recursive: true, force: true });
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new Error(`${outDir}: could not write a checkpoint (${reason}); the previous one, if any, is intact in ${final}`, { cause: error });
  }
  if (existsSync(final)) {
    rmSync(old, { recursive: true, force: true });
    renameSync(final, old);
  }
  renameSync(temp, final);
  rmSync(old, { recursive: true, force: true });
  return final;
}

/**
 * Reads a checkpoint from a run's output directory (or the checkpoint directory itself). Falls back to
 * `checkpoint.old/` when a crash came between the two renames. A missing or corrupt checkpoint is an Error
 * saying which file and what is wrong.
 */
export function readCheckpoint(source: PathLike): Checkpoint {
  const path = checkPath(source, 'readCheckpoint: path');
  const candidates = [path, join(path, 'checkpoint'), join(path, 'checkpoint.old')];
  const dir = candidates.find((d) => existsSync(join(d, 'trainer.json')) && existsSync(join(d, 'model.safetensors')));
  if (!dir) throw new Error(`${path}: no checkpoint here (expected model.safetensors and trainer.json, in it or in its checkpoint/ directory)`);
  const file = join(dir, 'trainer.json');
  let parsed: { format?: unknown; config?: unknown; trainer?: unknown; scaling?: unknown };
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`${file}: corrupt checkpoint: ${(error as Error).message}`);
  }
  if (parsed.format !== FORMAT || typeof parsed.config !== 'object' || !isTrainerState(parsed.trainer)) {
    throw new Error(`${file}: corrupt checkpoint: not a ${FORMAT} trainer state`);
  }
  if (parsed.scaling !== undefined && parsed.scaling !== null && !isScaling(parsed.scaling)) throw new Error(`${file}: corrupt checkpoint: bad scaling statistics`);
  const { tensors, metadata } = readSafetensors(join(dir, 'model.safetensors'));
  return {
    dir, config: parsed.config as Record<string, unknown>, trainer: parsed.trainer, model: tensors, modelMetadata: metadata,
    scaling: (parsed.scaling as ScalingStats | null | undefined) ?? null,
  };
}

function isScaling(value: unknown): value is ScalingStats {
  const s = value as ScalingStats;
  const numbers = (a: unknown) => Array.isArray(a) && a.every((v) => typeof v === 'number');
  return typeof s === 'object' && (s.scale === 'minmax' || s.scale === 'standard') && numbers(s.offset) && numbers(s.factor) && s.offset.length === s.factor.length;
}

function isTrainerState(value: unknown): value is TrainerState {
  const s = value as TrainerState;
  const words = (a: unknown) => Array.isArray(a) && a.length === 4 && a.every((v) => Number.isInteger(v) && v >= 0 && v <= 0xffffffff);
  return typeof s === 'object' && s !== null && Number.isInteger(s.epoch) && s.epoch >= 0 && Number.isInteger(s.batch) && s.batch >= 0 &&
    words(s.epochRandom) && words(s.modelRandom) && [s.lossSum, s.correct, s.seen, s.seconds].every((v) => typeof v === 'number') &&
    Array.isArray(s.history) && (s.baseLr === undefined || typeof s.baseLr === 'number');
}
