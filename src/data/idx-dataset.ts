/**
 * A Dataset from a pair of idx files in the MNIST layout: images 0x00000803 (N, H, W) uint8 and labels
 * 0x00000801 (N) uint8, each raw or gzipped. The images stay uint8 (N, 1, H, W); the files' bytes are viewed,
 * not copied. Shared by the MNIST and Fashion-MNIST loaders, whose files have the same names and format.
 */
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Dataset } from './dataset.js';
import { IdxError, readIdx } from './idx.js';
import { checkPath, type PathLike } from '../util/path.js';
import { show } from '../util/show.js';

export interface IdxPair {
  images: string;
  labels: string;
}

/** The four files of an MNIST-layout directory, by their standard names. */
export const MNIST_FILES = {
  train: { images: 'train-images-idx3-ubyte', labels: 'train-labels-idx1-ubyte' },
  test: { images: 't10k-images-idx3-ubyte', labels: 't10k-labels-idx1-ubyte' },
} as const;

/** `dir/name`, or `dir/name.gz` when only that exists; undefined when neither does. */
export function findIdxFile(dir: string, name: string): string | undefined {
  dir = checkPath(dir, 'findIdxFile: dir');
  if (typeof name !== 'string' || name === '' || name.includes('\0')) throw new TypeError(`findIdxFile: name must be a non-empty string without NUL, got ${show(name)}`);
  for (const candidate of [join(dir, name), join(dir, `${name}.gz`)]) if (existsSync(candidate)) return candidate;
  return undefined;
}

/**
 * The SHA-256 of a known file's idx bytes (after gunzip), by its standard name: what readIdxDataset's `known`
 * takes. `what` names the data set in messages ("MNIST", "Fashion-MNIST").
 */
export interface KnownFiles {
  what: string;
  sha256: Record<string, string>;
}

/**
 * Reads images and labels, checks they fit together, and returns them as one uint8 Dataset. With `known`, a
 * file whose standard name is listed (a trailing .gz aside) must have that SHA-256.
 */
export function readIdxDataset(files: IdxPair, options: { classes: number; name: string; classNames?: readonly string[]; known?: KnownFiles }): Dataset {
  if (typeof files !== 'object' || files === null) throw new TypeError(`readIdxDataset: files must be { images, labels } (two paths), got ${show(files)}`);
  checkPath(files.images, 'readIdxDataset: files.images');
  checkPath(files.labels, 'readIdxDataset: files.labels');
  if (typeof options !== 'object' || options === null) throw new TypeError(`readIdxDataset: options must be { classes, name }, got ${show(options)}`);
  if (!Number.isInteger(options.classes) || options.classes < 1 || options.classes > 256) {
    throw new RangeError(`readIdxDataset: options.classes must be an integer in [1, 256], got ${show(options.classes)}`);
  }
  const known = options.known;
  if (known !== undefined && (typeof known !== 'object' || known === null || typeof known.what !== 'string' || typeof known.sha256 !== 'object' || known.sha256 === null)) {
    throw new TypeError(`readIdxDataset: options.known must be { what, sha256 } (a name and an object of hashes), got ${show(known)}`);
  }
  const knownOf = (path: string) => {
    const name = basename(path).replace(/\.gz$/, '');
    const sha256 = known === undefined || !Object.hasOwn(known.sha256, name) ? undefined : known.sha256[name];
    return sha256 === undefined ? {} : { known: { sha256, what: `${known!.what}'s ${name}` } };
  };
  const images = readIdx(files.images, knownOf(files.images));
  const labels = readIdx(files.labels, knownOf(files.labels));
  if (images.dims.length !== 3) {
    throw new IdxError(`${files.images}: expected images of 3 dimensions (N, H, W), got ${images.dims.length}: ${images.dims.join('×')}`);
  }
  if (labels.dims.length !== 1) {
    throw new IdxError(`${files.labels}: expected labels of 1 dimension (N), got ${labels.dims.length}: ${labels.dims.join('×')}`);
  }
  const [N, H, W] = images.dims;
  if (labels.dims[0] !== N) throw new IdxError(`${files.labels}: ${labels.dims[0]} labels for the ${N} images of ${files.images}`);
  const bad = labels.data.findIndex((label) => label >= options.classes);
  if (bad >= 0) throw new IdxError(`${files.labels}: label ${bad} is ${labels.data[bad]}, not a class in [0, ${options.classes})`);
  return new Dataset({
    x: images.data, labels: labels.data, shape: [N, 1, H, W], classes: options.classes, classNames: options.classNames, name: options.name,
  });
}

/** What loadMnist and loadFashionMnist differ in; loadTrainTest does the rest. */
export interface IdxSetSpec {
  /** The loader's name, for argument errors: 'loadMnist'. */
  where: string;
  /** The datasets' name prefix: 'mnist' gives 'mnist train' and 'mnist test'. */
  name: string;
  classNames: readonly string[];
  /** Where the files are when no { dir } is given (called only then). */
  defaultDir(): string;
  /** The known files' hashes, checked only in the default place: a user's { dir } may hold any idx files. */
  known: KnownFiles;
  /** The error message when `file` (a standard name) is in neither form in `dir`. */
  missing(file: string, dir: string): string;
}

/** The training and test sets of an MNIST-format data set (four idx files of standard names) from { dir } or its default place. */
export function loadTrainTest(spec: IdxSetSpec, options: { dir?: PathLike }): { train: Dataset; test: Dataset } {
  if (typeof options !== 'object' || options === null) throw new TypeError(`${spec.where}: options must be an object, got ${show(options)}`);
  const unknown = Object.keys(options).find((key) => key !== 'dir');
  if (unknown !== undefined) throw new TypeError(`${spec.where}: unknown option '${unknown}'; the option is dir`);
  const dir = options.dir === undefined ? spec.defaultDir() : checkPath(options.dir, `${spec.where}: dir`);
  const path = (name: string) => {
    const found = findIdxFile(dir, name);
    if (!found) throw new Error(spec.missing(name, dir));
    return found;
  };
  const load = (which: 'train' | 'test') => readIdxDataset(
    { images: path(MNIST_FILES[which].images), labels: path(MNIST_FILES[which].labels) },
    { classes: spec.classNames.length, classNames: spec.classNames, name: `${spec.name} ${which}`, known: options.dir === undefined ? spec.known : undefined },
  );
  return { train: load('train'), test: load('test') };
}
