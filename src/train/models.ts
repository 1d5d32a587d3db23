/**
 * Models by name, for the CLI and the experiments: the MLP and the seeds' CNN. Models from a JSON layer list
 * (`--layers`) are built by `layersFromList` (src/nn/layer-list.ts, which documents the list's types and options).
 */
import { BatchNorm1d, BatchNorm2d } from '../nn/batchnorm.js';
import { ReLU, Sigmoid } from '../nn/activation.js';
import { Conv2d } from '../nn/conv2d.js';
import { Dropout } from '../nn/dropout.js';
import { Flatten } from '../nn/flatten.js';
import type { Init } from '../nn/init.js';
import type { Layer } from '../nn/layer.js';
import { Linear } from '../nn/linear.js';
import { MaxPool2d } from '../nn/maxpool2d.js';
import { checkPositiveInt } from '../nn/validate.js';
import { show } from '../util/show.js';

/** The options mlpLayers and cnnLayers share: an object (or undefined), batchnorm a boolean, dropout in [0, 1). */
function checkOptions(where: string, options: unknown): MlpOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError(`${where}: options must be an object, got ${show(options)}`);
  const { batchnorm, dropout } = options as MlpOptions;
  if (batchnorm !== undefined && typeof batchnorm !== 'boolean') throw new TypeError(`${where}: batchnorm must be true or false, got ${show(batchnorm)}`);
  if (dropout !== undefined && (typeof dropout !== 'number' || !(dropout >= 0 && dropout < 1))) {
    throw new RangeError(`${where}: dropout must be a probability in [0, 1), got ${show(dropout)}`);
  }
  return options as MlpOptions;
}

export interface MlpOptions {
  hidden?: number[];
  activation?: 'relu' | 'sigmoid';
  init?: Init;
  batchnorm?: boolean;
  dropout?: number;
}

/** An MLP for flat inputs: (Linear [BatchNorm1d] activation [Dropout]) per hidden size, then Linear to the classes. */
export function mlpLayers(inputs: number, classes: number, options: MlpOptions = {}): Layer[] {
  checkPositiveInt('mlpLayers', 'inputs', inputs);
  checkPositiveInt('mlpLayers', 'classes', classes);
  checkOptions('mlpLayers', options);
  const { hidden: sizes, activation: act } = options;
  if (sizes !== undefined && (!Array.isArray(sizes) || sizes.length > 1024 || !sizes.every((n) => Number.isInteger(n) && n >= 1))) {
    throw new TypeError(`mlpLayers: hidden must be an array of positive integers (layer sizes), got ${show(sizes)}`);
  }
  if (act !== undefined && act !== 'relu' && act !== 'sigmoid') throw new RangeError(`mlpLayers: activation must be 'relu' or 'sigmoid', got ${show(act)}`);
  const { hidden = [100, 100, 100, 100, 100], activation = 'relu', batchnorm = true, dropout = 0 } = options;
  const init = options.init ?? (activation === 'relu' ? 'he' : 'xavier');
  const layers: Layer[] = [];
  let width = inputs;
  for (const size of hidden) {
    layers.push(new Linear(width, size, { init }));
    if (batchnorm) layers.push(new BatchNorm1d(size));
    layers.push(activation === 'relu' ? new ReLU() : new Sigmoid());
    if (dropout > 0) layers.push(new Dropout(dropout));
    width = size;
  }
  layers.push(new Linear(width, classes, { init }));
  return layers;
}

/**
 * The seeds' CNN for 1x28x28 images: conv(1->20, 5x5)-[BN2d]-ReLU-maxpool2 -> conv(20->50, 3x3)-[BN2d]-ReLU-
 * maxpool2 -> Linear(1250->128)-ReLU -> Linear(128->classes).
 */
export function cnnLayers(classes: number, options: Pick<MlpOptions, 'init' | 'batchnorm' | 'dropout'> = {}): Layer[] {
  checkPositiveInt('cnnLayers', 'classes', classes);
  checkOptions('cnnLayers', options);
  const { batchnorm = true, dropout = 0 } = options;
  const init = options.init ?? 'he';
  return [
    new Conv2d(1, 20, 5, { init }), ...(batchnorm ? [new BatchNorm2d(20)] : []), new ReLU(), new MaxPool2d(2),
    new Conv2d(20, 50, 3, { init }), ...(batchnorm ? [new BatchNorm2d(50)] : []), new ReLU(), new MaxPool2d(2),
    new Flatten(), new Linear(1250, 128, { init }), new ReLU(), ...(dropout > 0 ? [new Dropout(dropout)] : []),
    new Linear(128, classes, { init }),
  ];
}

/** Layer lists live below Sequential (it writes them into saved files); re-exported here for the runs that build from them. */
export { layersFromList } from '../nn/layer-list.js';
