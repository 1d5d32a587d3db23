/**
 * Fashion-MNIST (Xiao, Rasul & Vollgraf 2017, github.com/zalandoresearch/fashion-mnist): Zalando article
 * images in MNIST's exact format and sizes, 60000 training and 10000 test 28×28 uint8 images in 10 classes.
 * Read from gzipped idx files, by default where Debian's package dataset-fashion-mnist puts them:
 * /usr/share/datasets/fashion-mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz.
 *
 * From that default place each file must also have its known SHA-256 (FASHION_MNIST_SHA256), taken of the idx
 * bytes after gunzip: Debian's .gz files are not byte for byte upstream's (their MD5s differ from the ones
 * torchvision lists) but hold the same idx bytes, and the gzip CRC-32 already guards the compressed ones. A
 * changed bit in the pixels or labels is then an IdxError naming the file. Files from a { dir } of the user's
 * are not checked.
 */
import type { PathLike } from '../util/path.js';
import type { TrainTest } from './mnist.js';
import { loadTrainTest, MNIST_FILES, type KnownFiles } from './idx-dataset.js';

export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/** The SHA-256 of Fashion-MNIST's four idx files, uncompressed. */
export const FASHION_MNIST_SHA256: KnownFiles = Object.freeze({
  what: 'Fashion-MNIST',
  sha256: Object.freeze({
    'train-images-idx3-ubyte': 'c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888',
    'train-labels-idx1-ubyte': 'bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9',
    't10k-images-idx3-ubyte': '5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b',
    't10k-labels-idx1-ubyte': '0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34',
  }),
});

export const FASHION_MNIST_CLASS_NAMES: readonly string[] = Object.freeze([
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
]);

export interface FashionMnistOptions {
  /** A directory holding the four idx files (.gz or raw); default /usr/share/datasets/fashion-mnist. */
  dir?: PathLike;
}

/** Fashion-MNIST's training (60000) and test (10000) sets, images uint8 [N, 1, 28, 28], labels 0-9. */
export function loadFashionMnist(options: FashionMnistOptions = {}): TrainTest {
  return loadTrainTest({
    where: 'loadFashionMnist', name: 'fashion-mnist', classNames: FASHION_MNIST_CLASS_NAMES, defaultDir: () => FASHION_MNIST_DIR,
    known: FASHION_MNIST_SHA256,
    missing: (name, dir) => {
      const all = Object.values(MNIST_FILES).flatMap((f) => [f.images, f.labels]).map((f) => `${f}.gz`).join(', ');
      return `Fashion-MNIST: ${name}.gz not found in ${dir}. Get the files with \`apt-get install dataset-fashion-mnist\` (Debian/Ubuntu, into ${FASHION_MNIST_DIR}) or from https://github.com/zalandoresearch/fashion-mnist, and pass { dir } holding ${all}`;
    },
  }, options);
}
