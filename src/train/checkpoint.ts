/**
 * Checkpoints: a directory `checkpoint/` inside a run's output directory holding `model.safetensors` (the
 * state dict, loadable by PyTorch), `optimizer.safetensors` (the optimizer's state buffers, with its type,
 * options, step and parameters in the metadata under `normnet.optimizer`) and `trainer.json` (the trainer's
 * state: position, generators, history; plus the run's configuration and the feature scaling of the user's
 * data). model.safetensors' metadata also holds the model's architecture, so the file alone rebuilds the model
 * (loadModel). Both safetensors files are written straight from the model's and the optimizer's own buffers:
 * a checkpoint each epoch that copied them (and encoded the optimizer state as base64 inside trainer.json, as
 * format 1 did, which is still read) left ~10 MB of garbage an epoch, and V8's heap grew with it. An optimizer
 * without stateViews() (a custom one) keeps its stateDict() inside trainer.json. Written atomically as a set:
 * the new checkpoint is written complete into `checkpoint.tmp/`, the previous one is moved to `checkpoint.old/`,
 * the new one into place, and only then is the old one removed. A crash at any moment
 * leaves a complete checkpoint or the previous one.
 *
 * A last file, `SHA256SUMS`, holds the SHA-256 of the others in sha256sum's format (`sha256sum -c SHA256SUMS`
 * in the directory checks them), written into `checkpoint.tmp/` after them, so it moves with the set. A bit
 * changed in trainer.json can leave it valid JSON (a digit of a number, a character of the base64 optimizer
 * state) and would resume a different run without it; readCheckpoint verifies every file against it, and any
 * mismatch is an Error naming the file. (model.safetensors also carries its own checksum, io/safetensors.ts.)
 * Checkpoints written before SHA256SUMS existed still load, with the structure checks only.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { decodeSafetensors, safetensorsParts, writeFileAtomic, type StateDict } from '../io/safetensors.js';
import type { ScalingStats } from '../data/scaling.js';
import { architectureMetadata } from '../nn/architecture.js';
import { checkPath, type PathLike } from '../util/path.js';
import { Sequential } from '../nn/sequential.js';
import { show } from '../util/show.js';
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

/** Format 2 keeps the optimizer state in optimizer.safetensors; format 1 (still read) kept it as base64 in trainer.json. */
const FORMAT = 'normnet-checkpoint-2';
const FORMATS = ['normnet-checkpoint-1', FORMAT];

const MODEL = 'model.safetensors';
const OPTIMIZER = 'optimizer.safetensors';
const TRAINER = 'trainer.json';
const SUMS = 'SHA256SUMS';
/** optimizer.safetensors' metadata key holding the optimizer state without its buffers (JSON). */
const OPTIMIZER_KEY = 'normnet.optimizer';

const sha256 = (parts: readonly (Uint8Array | string)[]) => {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest('hex');
};

/** An optimizer state whose buffers are views (Optimizer.stateViews()): written to optimizer.safetensors. */
interface StateViews {
  buffers: Record<string, Float32Array | Float64Array>;
  [key: string]: unknown;
}

function isStateViews(value: unknown): value is StateViews {
  const buffers = (value as StateViews | null)?.buffers;
  return typeof buffers === 'object' && buffers !== null && Object.values(buffers).every((b) => b instanceof Float32Array || b instanceof Float64Array);
}

/**
 * Writes the checkpoint into `dir` (a run's output directory, created when it does not exist). Any failure is an
 * Error naming `dir` and saying what is left: the previous checkpoint, intact, or nothing when the directory
 * itself was removed while the checkpoint was written.
 */
export function writeCheckpoint(dir: PathLike, model: Sequential, trainer: TrainerState, config: Record<string, unknown>, scaling: ScalingStats | null = null): string {
  const outDir = checkPath(dir, 'writeCheckpoint: outDir');
  const final = join(outDir, 'checkpoint');
  const temp = join(outDir, 'checkpoint.tmp');
  const old = join(outDir, 'checkpoint.old');
  const reason = (error: unknown) => (error as NodeJS.ErrnoException).code ?? (error as Error).message;
  // The output directory removed under the run (rm -rf while it trains): nothing is left to keep intact.
  const gone = (error: unknown) => new Error(`${outDir}: could not write a checkpoint (${reason(error)}): the directory was removed while the checkpoint was written`, { cause: error });
  if (!(model instanceof Sequential)) throw new TypeError(`writeCheckpoint: model must be a Sequential, got ${show(model)}`);
  if (typeof trainer !== 'object' || trainer === null) throw new TypeError(`writeCheckpoint: trainer must be a trainer state (trainer.state()), got ${show(trainer)}`);
  if (typeof config !== 'object' || config === null) throw new TypeError(`writeCheckpoint: config must be a run config object, got ${show(config)}`);
  if (scaling !== null && typeof scaling !== 'object') throw new TypeError(`writeCheckpoint: scaling must be feature scaling statistics or null, got ${show(scaling)}`);
  // The files' contents first: bad state is the caller's TypeError, not a failed write.
  const files: [string, readonly (Uint8Array | string)[]][] = [
    [MODEL, safetensorsParts(model.stateDict({ copy: false }), { format: FORMAT, ...architectureMetadata(model.architecture()) })],
  ];
  let trainerState = trainer;
  const json = (value: unknown, what: string, indent?: number) => {
    try {
      return JSON.stringify(value, null, indent);
    } catch {
      throw new TypeError(`writeCheckpoint: ${what} must be JSON data (no BigInt, no cycle)`);
    }
  };
  if (isStateViews(trainer.optimizer)) {
    const { buffers, ...rest } = trainer.optimizer;
    const tensors: StateDict = Object.fromEntries(Object.entries(buffers).map(([name, data]) => [name, { dtype: data instanceof Float64Array ? 'F64' : 'F32', shape: [data.length], data }]));
    files.push([OPTIMIZER, safetensorsParts(tensors, { [OPTIMIZER_KEY]: json(rest, 'the optimizer state') })]);
    trainerState = { ...trainer, optimizer: OPTIMIZER };
  }
  files.push([TRAINER, [`${json({ format: FORMAT, config, trainer: trainerState, scaling }, 'the trainer state, config and scaling', 1)}\n`]]);
  try {
    rmSync(temp, { recursive: true, force: true });
    mkdirSync(temp, { recursive: true });
    for (const [name, parts] of files) writeFileAtomic(join(temp, name), parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p)));
    writeFileAtomic(join(temp, SUMS), files.map(([name, parts]) => `${sha256(parts)}  ${name}\n`).join(''));
  } catch (error) {
    // A full disk, a lost permission or directory: nothing of the previous checkpoint was touched yet.
    rmSync(temp, { recursive: true, force: true });
    if (!existsSync(outDir)) throw gone(error);
    throw new Error(`${outDir}: could not write a checkpoint (${reason(error)}); the previous one, if any, is intact in ${final}`, { cause: error });
  }
  try {
    if (existsSync(final)) {
      rmSync(old, { recursive: true, force: true });
      renameSync(final, old);
    }
    renameSync(temp, final);
    rmSync(old, { recursive: true, force: true });
  } catch (error) {
    if (!existsSync(outDir)) throw gone(error);
    // Whichever rename failed, a complete checkpoint is in checkpoint/ or (between the renames) checkpoint.old/,
    // where readCheckpoint looks.
    throw new Error(`${outDir}: could not move the new checkpoint into place (${reason(error)}); the previous one, if any, is intact in ${existsSync(final) ? final : old}`, { cause: error });
  }
  return final;
}

/**
 * Reads a checkpoint from a run's output directory (or the checkpoint directory itself). Falls back to
 * `checkpoint.old/` only when there is no `checkpoint/`: a crash came between the two renames. A missing,
 * incomplete or corrupt checkpoint is an Error saying which file and what is wrong; a corrupt `checkpoint/` is
 * never passed over for an older `checkpoint.old/` (the error says when one is there).
 */
export function readCheckpoint(source: PathLike): Checkpoint {
  const path = checkPath(source, 'readCheckpoint: path');
  const complete = (d: string) => existsSync(join(d, TRAINER)) && existsSync(join(d, MODEL));
  const current = join(path, 'checkpoint');
  const old = join(path, 'checkpoint.old');
  let dir: string;
  if (complete(path)) dir = path;
  else if (existsSync(current)) {
    // checkpoint/ only ever appears whole (renamed into place complete): a missing file is damage, not a crash.
    if (!complete(current)) throw new Error(`${join(current, existsSync(join(current, TRAINER)) ? MODEL : TRAINER)}: corrupt checkpoint: the file is missing${olderHint(current, old)}`);
    dir = current;
  } else if (complete(old)) dir = old;
  else throw new Error(`${path}: no checkpoint here (expected ${MODEL} and ${TRAINER}, in it or in its checkpoint/ directory)`);
  const hint = dir === current ? olderHint(current, old) : '';
  const fail = (file: string, what: string, cause?: unknown): never => {
    throw new Error(`${file}: corrupt checkpoint: ${what}${hint}`, { cause });
  };

  const file = join(dir, TRAINER);
  const modelFile = join(dir, MODEL);
  const optimizerFile = join(dir, OPTIMIZER);
  const trainerBytes = readFileSync(file);
  const modelBytes = readFileSync(modelFile);
  const optimizerBytes = existsSync(optimizerFile) ? readFileSync(optimizerFile) : undefined;
  const sumsFile = join(dir, SUMS);
  if (existsSync(sumsFile)) {
    const expected: [string, Uint8Array][] = [[MODEL, modelBytes], ...(optimizerBytes ? [[OPTIMIZER, optimizerBytes] as [string, Uint8Array]] : []), [TRAINER, trainerBytes]];
    const sums = readFileSync(sumsFile, 'latin1');
    const listed = new Map<string, string>();
    const lines = sums.split('\n');
    for (const line of lines.slice(0, -1)) {
      const match = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
      if (match && !listed.has(match[2])) listed.set(match[2], match[1]);
    }
    const names = expected.map(([name]) => name);
    // Two or three lines: without optimizer.safetensors (format 1, or an optimizer without stateViews) or with it.
    const shapeOk = lines.length === listed.size + 1 && lines[lines.length - 1] === '' && [...listed.keys()].every((name) => name === OPTIMIZER || names.includes(name)) &&
      names.every((name) => listed.has(name));
    if (!shapeOk) fail(sumsFile, `not one sha256sum line for each of ${names.join(', ')}${listed.has(OPTIMIZER) && !optimizerBytes ? ` (${OPTIMIZER} is missing)` : ''}`);
    for (const [name, bytes] of expected) {
      const actual = sha256([bytes]);
      if (actual !== listed.get(name)) fail(join(dir, name), `its SHA-256 is ${actual}, ${sumsFile} says ${listed.get(name)}: a changed bit or byte in one of the files`);
    }
  }
  let parsed: { format?: unknown; config?: unknown; trainer?: unknown; scaling?: unknown };
  try {
    parsed = JSON.parse(new TextDecoder('utf8', { fatal: true }).decode(trainerBytes));
  } catch (error) {
    return fail(file, (error as Error).message, error);
  }
  if (typeof parsed !== 'object' || parsed === null || !FORMATS.includes(parsed.format as string) || typeof parsed.config !== 'object' || parsed.config === null || !isTrainerState(parsed.trainer)) {
    fail(file, `not a ${FORMAT} trainer state`);
  }
  if (parsed.scaling !== undefined && parsed.scaling !== null && !isScaling(parsed.scaling)) fail(file, 'bad scaling statistics');
  const decode = (bytes: Uint8Array, name: string) => {
    try {
      return decodeSafetensors(bytes, name);
    } catch (error) {
      throw hint ? new Error(`${(error as Error).message}${hint}`, { cause: error }) : error;
    }
  };
  const model = decode(modelBytes, modelFile);
  const trainer = parsed.trainer as TrainerState;
  if (trainer.optimizer === OPTIMIZER) {
    if (!optimizerBytes) fail(optimizerFile, 'the file is missing');
    const { tensors, metadata } = decode(optimizerBytes!, optimizerFile);
    let rest: unknown;
    try {
      rest = JSON.parse(metadata[OPTIMIZER_KEY]);
    } catch (error) {
      fail(optimizerFile, `its '${OPTIMIZER_KEY}' metadata is not the optimizer's state as JSON`, error);
    }
    if (typeof rest !== 'object' || rest === null || Array.isArray(rest)) fail(optimizerFile, `its '${OPTIMIZER_KEY}' metadata is not an object`);
    // The buffers as the tensors' own (aligned) arrays: Optimizer.loadStateDict takes them as it takes base64.
    trainer.optimizer = { ...(rest as object), buffers: Object.fromEntries(Object.entries(tensors).map(([name, t]) => [name, t.data])) };
  }
  return {
    dir, config: parsed.config as Record<string, unknown>, trainer, model: model.tensors, modelMetadata: model.metadata,
    scaling: (parsed.scaling as ScalingStats | null | undefined) ?? null,
  };
}

/** When `current` is damaged and an older, complete checkpoint is beside it: where it is, and how to use it. */
function olderHint(current: string, old: string): string {
  return existsSync(join(old, TRAINER)) && existsSync(join(old, MODEL))
    ? `; an older checkpoint is in ${old} (move it to ${current} to resume from it)`
    : '';
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
