/**
 * The user's own training and test data, read from files into Datasets (`normnet train --data FILE
 * --test-data FILE --label COLUMN --scale MODE`). A data file is given in one of three forms, told apart by name:
 *
 *   iris.csv                              a CSV file: a header row, numeric feature columns and a label
 *                                         column (csv.ts); samples [N, D] float32
 *   features.npy,labels.npy               two NumPy .npy files (npy.ts): features [N, ...] of any numeric
 *                                         dtype, labels [N] of integers (or integral floats)
 *   images-idx3-ubyte.gz,labels-idx1-ubyte.gz   two idx files as MNIST's (idx.ts), raw or gzipped
 *
 * uint8 features (idx images, or a uint8 .npy) are pixels: kept as bytes and taken into batches as value / 255,
 * as MNIST is; 3-d (N, H, W) ones get a channel axis, [N, 1, H, W]. Everything else becomes float32.
 *
 * The training labels define the classes, 0 .. max label; a test label above them is refused, as is a test
 * file whose samples differ in shape (or, both CSV, in feature columns) from the training file's. Scaling
 * statistics (scaling.ts) are fitted on the training data only and applied to both; passing them back in
 * (`scaling`, e.g. from a checkpoint) applies them instead of fitting, so a resumed run and an evaluation
 * see exactly the values training saw. All files are read and checked here, before any training starts;
 * a bad one is a DataFileError naming the file and where in it. readFeatureFile reads the samples of one file
 * alone (a CSV file without a label column too), for `normnet predict`.
 */
import { basename } from 'node:path';
import { checkPath, type PathLike } from '../util/path.js';
import { readCsvDataset } from './csv.js';
import { DataFileError, featureProblem, labelProblem } from './data-file-error.js';
import { Dataset } from './dataset.js';
import { IdxError, readIdx } from './idx.js';
import { readNpy, type NpyArray } from './npy.js';
import { applyScaling, fitScaling, SCALE_MODES, type ScaleMode, type ScalingStats } from './scaling.js';
import { show } from '../util/show.js';

export interface DataFilesOptions {
  /**
   * The training data: 'FILE.csv', 'FEATURES.npy,LABELS.npy' or 'IMAGES-idx3-ubyte[.gz],LABELS-idx1-ubyte[.gz]'
   * (a file: URL names one file: a CSV file).
   */
  data: PathLike;
  /** The test data, in any of the same forms; its samples must have the training data's shape. */
  testData?: PathLike;
  /** The label column of a CSV file; default "label". Pairs carry their labels in their second file. */
  label?: string;
  /** How to scale features by the training data's statistics; default 'none'. */
  scale?: ScaleMode;
  /** Statistics to apply instead of fitting them (null: no scaling), as a previous call returned them. */
  scaling?: ScalingStats | null;
}

export interface DataFiles {
  train: Dataset;
  test?: Dataset;
  /** The statistics applied, plain JSON to keep with the model; null without scaling. */
  scaling: ScalingStats | null;
}

/** One file form's samples and labels, before they become a Dataset. */
interface Source {
  /** The file holding the features, as the user named it. */
  file: string;
  /** (N, ...sampleShape) row-major. */
  x: Float32Array | Uint8Array;
  /** [N, ...sampleShape]. */
  shape: number[];
  /** (N) class indices, each already an integer >= 0. */
  labels: Int32Array;
  /** A CSV file's feature column names. */
  featureNames?: string[];
  /** Where sample i's label is, as a message names it: `train.csv: line 9, column "label"`. */
  labelAt(i: number): string;
}

const FORMS = '"FILE.csv", "FEATURES.npy,LABELS.npy" or "IMAGES-idx3-ubyte[.gz],LABELS-idx1-ubyte[.gz]"';

/** Reads and checks the training (and test) data files and returns them as Datasets, scaled as asked. */
export function loadDataFiles(options: DataFilesOptions): DataFiles {
  if (typeof options !== 'object' || options === null) throw new TypeError('loadDataFiles: expected { data, testData?, label?, scale?, scaling? }');
  const { label = 'label', scaling: given } = options;
  const data = checkPath(options.data, 'loadDataFiles: data');
  const testData = options.testData === undefined ? undefined : checkPath(options.testData, 'loadDataFiles: testData');
  if (options.scale !== undefined && !SCALE_MODES.includes(options.scale)) {
    throw new RangeError(`loadDataFiles: scale must be one of ${SCALE_MODES.join(', ')}, got ${show(options.scale)}`);
  }
  if (given !== undefined && given !== null && (typeof given !== 'object' || (given.scale !== 'minmax' && given.scale !== 'standard'))) {
    throw new TypeError("loadDataFiles: scaling must be null or statistics { scale: 'minmax' | 'standard', offset, factor } as loadDataFiles returns them");
  }
  // Given statistics decide the scaling; a scale named beside them must agree, or one of the two is a mistake.
  const scale = given === undefined ? options.scale ?? 'none' : given?.scale ?? 'none';
  if (options.scale !== undefined && options.scale !== scale) {
    throw new RangeError(`loadDataFiles: scale '${options.scale}' differs from the given scaling statistics' '${scale}'`);
  }

  const train = readSource(data, label);
  const test = testData === undefined ? undefined : readSource(testData, label);

  const sampleShape = train.shape.slice(1);
  const classes = train.labels.reduce((a, b) => Math.max(a, b), 0) + 1;
  if (test) {
    const testShape = test.shape.slice(1);
    if (testShape.join() !== sampleShape.join()) {
      throw new DataFileError(`${test.file}: samples of shape [${testShape.join(', ')}] (${size(testShape)} features), but the training file ${train.file} has samples of shape [${sampleShape.join(', ')}] (${size(sampleShape)} features)`);
    }
    if (train.featureNames && test.featureNames && test.featureNames.join('\0') !== train.featureNames.join('\0')) {
      // Same count, other names or order: the columns would be fed to the wrong inputs without a word.
      throw new DataFileError(`${test.file}: line 1: the feature columns ${quoted(test.featureNames)} are not the training file ${train.file}'s ${quoted(train.featureNames)} (same names in the same order)`);
    }
    const bad = test.labels.findIndex((label) => label >= classes);
    if (bad >= 0) throw new DataFileError(`${test.labelAt(bad)}: label ${test.labels[bad]} out of range: the training data has classes 0..${classes - 1}`);
  }

  // Scaled data is float32; uint8 pixels are converted first, to value / 255 as their batches would hold them.
  const D = size(sampleShape);
  let scaling: ScalingStats | null = null;
  let trainX = train.x;
  let testX = test?.x;
  if (scale !== 'none') {
    const floats = toFloat32(train.x);
    scaling = given ?? fitScaling(scale, floats, D);
    trainX = applyScaling(scaling, floats, D);
    if (test) testX = applyScaling(scaling, toFloat32(test.x), D);
  }
  const dataset = (source: Source, x: Float32Array | Uint8Array) => new Dataset({
    x, labels: source.labels, shape: source.shape, classes, name: basename(source.file),
  });
  return { train: dataset(train, trainX), test: test && dataset(test, testX!), scaling };
}

export interface FeatureFileOptions {
  /** A CSV column of this name (default "label"), when the file has one, holds labels: it is read apart, not as a feature. */
  label?: string;
}

export interface FeatureFile {
  /** (N, ...sampleShape) row-major, as a training batch holds them before scaling: uint8 pixels as value / 255. */
  x: Float32Array;
  /** [N, ...sampleShape]. */
  shape: number[];
}

/**
 * The samples of one file to predict on: 'FILE.csv' (a header and feature columns; a label column may be there
 * or not), 'FEATURES.npy', 'IMAGES-idx3-ubyte[.gz]', or a pair as loadDataFiles takes it (its labels unread).
 * Checked as training files are: a bad one is a DataFileError naming the file and the row or sample.
 */
export function readFeatureFile(path: PathLike, options: FeatureFileOptions = {}): FeatureFile {
  const spec = checkPath(path, 'readFeatureFile: path');
  const { label = 'label' } = options;
  const file = /\.csv$/i.test(spec) ? spec : spec.split(',')[0].trim();
  const { x, shape } = /\.csv$/i.test(file) ? readCsvDataset(file, { label, labelRequired: false }) : /\.npy$/i.test(file) ? npySamples(file) : idxImages(file);
  if (shape[0] === 0) throw new DataFileError(`${file}: no samples (shape [${shape.join(', ')}])`);
  return { x: x instanceof Float32Array ? x : toFloat32(x), shape };
}

/** Reads one data file in the form its name gives, and checks it holds samples. */
function readSource(spec: string, label: string): Source {
  let source: Source;
  // .csv first: a CSV file's path may hold a comma, a pair's second file never ends in .csv.
  const pair = spec.split(',').map((part) => part.trim());
  if (/\.csv$/i.test(spec)) source = csvSource(spec, label);
  else if (pair.length === 2 && pair.every((part) => part !== '')) source = (/\.npy$/i.test(pair[0]) ? npySource : idxSource)(pair[0], pair[1]);
  else throw new DataFileError(`${spec}: not a form of data file normnet reads; give ${FORMS}`);
  if (source.shape[0] === 0) throw new DataFileError(`${source.file}: no samples (shape [${source.shape.join(', ')}])`);
  if (size(source.shape.slice(1)) === 0) throw new DataFileError(`${source.file}: samples of no values (shape [${source.shape.join(', ')}])`);
  return source;
}

function csvSource(file: string, label: string): Source {
  const { x, labels, shape, featureNames, lines } = readCsvDataset(file, { label });
  return { file, x, labels, shape, featureNames, labelAt: (i) => `${file}: line ${lines[i]}, column "${label}"` };
}

function npySource(featuresFile: string, labelsFile: string): Source {
  const features = npySamples(featuresFile);
  const labels = readNpy(labelsFile);
  if (labels.shape.length !== 1) throw new DataFileError(`${labelsFile}: labels must have shape (N,), got (${labels.shape.join(', ')}); save y.reshape(-1)`);
  const N = features.shape[0];
  if (labels.shape[0] !== N) throw new DataFileError(`${labelsFile}: ${labels.shape[0]} labels for the ${N} samples of ${featuresFile}`);
  return { file: featuresFile, ...features, labels: npyLabels(labels, labelsFile), labelAt: (i) => `${labelsFile}: sample ${i}` };
}

/** A .npy file of samples, (N, ...). */
function npySamples(file: string): { x: Float32Array | Uint8Array; shape: number[] } {
  const features = readNpy(file);
  if (features.shape.length < 2) {
    throw new DataFileError(`${file}: features must have shape (N, ...): N samples of one or more dimensions, got (${features.shape.join(', ')}); save x.reshape(len(x), -1) for one value a sample`);
  }
  return { x: npyFeatures(features, file), shape: features.shape };
}

/** uint8 features stay bytes (pixels); any other dtype becomes float32, each value checked finite. */
function npyFeatures({ dtype, shape, data }: NpyArray, file: string): Float32Array | Uint8Array {
  if (dtype === 'uint8') return data as Uint8Array;
  const D = size(shape.slice(1));
  // float32 data is checked where it lies (the array views the file's bytes); other dtypes are converted.
  const x = data instanceof Float32Array ? data : new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const value = Number(data[i]);
    const problem = featureProblem(value);
    if (problem !== null) throw new DataFileError(`${file}: sample ${Math.floor(i / D)}, feature ${i % D}: ${value} ${problem}`);
    x[i] = value;
  }
  return x;
}

function npyLabels({ data }: NpyArray, file: string): Int32Array {
  const labels = new Int32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const value = Number(data[i]);
    const problem = labelProblem(value);
    if (problem !== null) throw new DataFileError(`${file}: sample ${i}: label ${value} ${problem}`);
    labels[i] = value;
  }
  return labels;
}

function idxSource(imagesFile: string, labelsFile: string): Source {
  const images = idxImages(imagesFile);
  const labels = idxRead(labelsFile);
  if (labels.dims.length !== 1) throw new DataFileError(`${labelsFile}: expected labels of 1 dimension (N), got ${labels.dims.join('×')}`);
  const N = images.shape[0];
  if (labels.dims[0] !== N) throw new DataFileError(`${labelsFile}: ${labels.dims[0]} labels for the ${N} samples of ${imagesFile}`);
  return { file: imagesFile, ...images, labels: Int32Array.from(labels.data), labelAt: (i) => `${labelsFile}: sample ${i}` };
}

/** An idx file of samples; images (N, H, W) get one channel, [N, 1, H, W], as the MNIST loaders give them. */
function idxImages(file: string): { x: Uint8Array; shape: number[] } {
  const images = idxRead(file);
  if (images.dims.length < 2) throw new DataFileError(`${file}: expected samples of 2 or more dimensions, (N, H, W) or (N, D), got ${images.dims.join('×')}`);
  const [N, ...rest] = images.dims;
  return { x: images.data, shape: rest.length === 2 ? [N, 1, ...rest] : images.dims };
}

function idxRead(file: string): ReturnType<typeof readIdx> {
  try {
    return readIdx(file);
  } catch (error) {
    // One error class for every bad data file, whatever its form; IdxError's message already names the file.
    throw error instanceof IdxError ? new DataFileError(error.message, { cause: error }) : error;
  }
}

/** x as float32 for scaling: float32 itself (scaled in place: it is this loader's own copy), or bytes / 255. */
function toFloat32(x: Float32Array | Uint8Array): Float32Array {
  if (x instanceof Float32Array) return x;
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = x[i] / 255;
  return out;
}

function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function quoted(names: readonly string[]): string {
  return names.map((name) => `"${name}"`).join(', ');
}
