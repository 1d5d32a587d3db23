/**
 * Fashion-MNIST (Xiao, Rasul & Vollgraf 2017, github.com/zalandoresearch/fashion-mnist): Zalando article
 * images in MNIST's exact format and sizes, 60000 training and 10000 test 28×28 uint8 images in 10 classes.
 * Read from gzipped idx files, by default where Debian's package dataset-fashion-mnist puts them:
 * /usr/share/datasets/fashion-mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz.
 */
import { checkPath, type PathLike } from '../util/path.js';
import type { TrainTest } from './mnist.js';
import { findIdxFile, MNIST_FILES, readIdxDataset } from './idx-dataset.js';

export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

export const FASHION_MNIST_CLASS_NAMES: readonly string[] = Object.freeze([
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
]);

export interface FashionMnistOptions {
  /** A directory holding the four idx files (.gz or raw); default /usr/share/datasets/fashion-mnist. */
  dir?: PathLike;
}

/** Fashion-MNIST's training (60000) and test (10000) sets, images uint8 [N, 1, 28, 28], labels 0-9. */
export function loadFashionMnist(options: FashionMnistOptions = {}): TrainTest {
  const dir = options.dir === undefined ? FASHION_MNIST_DIR : checkPath(options.dir, 'loadFashionMnist: dir');
  const path = (name: string) => {
    const found = findIdxFile(dir, name);
    if (!found) {
      const all = Object.values(MNIST_FILES).flatMap((f) => [f.images, f.labels]).map((f) => `${f}.gz`).join(', ');
      throw new Error(`Fashion-MNIST: ${name}.gz not found in ${dir}. Get the files with \`apt-get install dataset-fashion-mnist\` (Debian/Ubuntu, into ${FASHION_MNIST_DIR}) or from https://github.com/zalandoresearch/fashion-mnist, and pass { dir } holding ${all}`);
    }
    return found;
  };
  const load = (which: 'train' | 'test') => readIdxDataset(
    { images: path(MNIST_FILES[which].images), labels: path(MNIST_FILES[which].labels) },
    { classes: 10, classNames: FASHION_MNIST_CLASS_NAMES, name: `fashion-mnist ${which}` },
  );
  return { train: load('train'), test: load('test') };
}
