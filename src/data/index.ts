/** Data: the idx reader, MNIST and Fashion-MNIST, user arrays and data files (CSV, .npy, idx), scaling, batching and shuffling. */
export { readIdx, decodeIdx, encodeIdx, IdxError, type IdxArray } from './idx.js';
export {
  Dataset, BatchBuffers, type Batch, type BatchOptions, type BatchesOptions, type DatasetInit, type Layout,
} from './dataset.js';
export { gatherScale, gatherLabels, oneHotRows } from './gather.js';
export { permutation } from './shuffle.js';
export { readIdxDataset, findIdxFile, MNIST_FILES, type IdxPair } from './idx-dataset.js';
export { loadMnist, mnistDataDir, MNIST_CLASS_NAMES, type MnistOptions, type TrainTest } from './mnist.js';
export { loadFashionMnist, FASHION_MNIST_DIR, FASHION_MNIST_CLASS_NAMES, type FashionMnistOptions } from './fashion.js';
export { fromArrays, split, type ArraysInit, type SplitOptions } from './user.js';
export { DataFileError } from './data-file-error.js';
export { readCsvDataset, type CsvDataset, type CsvOptions } from './csv.js';
export { readNpy, decodeNpy, encodeNpy, type NpyArray, type NpyData, type NpyDtype } from './npy.js';
export { fitScaling, applyScaling, SCALE_MODES, type ScaleMode, type ScalingStats } from './scaling.js';
export { loadDataFiles, readFeatureFile, type DataFilesOptions, type DataFiles, type FeatureFileOptions, type FeatureFile } from './data-files.js';
