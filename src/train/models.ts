/**
 * Models by name or by layer list, for the CLI and the experiments. Layer lists are JSON objects whose input
 * sizes are inferred from the data, e.g.
 *   [{ "type": "conv2d", "out": 20, "kernel": 5 }, { "type": "batchnorm2d" }, { "type": "relu" },
 *    { "type": "maxpool2d", "kernel": 2 }, { "type": "flatten" }, { "type": "linear", "out": 10 }]
 * Types: linear {out, bias?}, conv2d {out, kernel, stride?, padding?, bias?}, batchnorm1d, batchnorm2d
 * {momentum?, eps?}, relu, sigmoid, dropout {p}, maxpool2d {kernel, stride?}, flatten. Linear and conv2d take
 * the model's `init`.
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

export interface MlpOptions {
  hidden?: number[];
  activation?: 'relu' | 'sigmoid';
  init?: Init;
  batchnorm?: boolean;
  dropout?: number;
}

/** An MLP for flat inputs: (Linear [BatchNorm1d] activation [Dropout]) per hidden size, then Linear to the classes. */
export function mlpLayers(inputs: number, classes: number, options: MlpOptions = {}): Layer[] {
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
  const { batchnorm = true, dropout = 0 } = options;
  const init = options.init ?? 'he';
  return [
    new Conv2d(1, 20, 5, { init }), ...(batchnorm ? [new BatchNorm2d(20)] : []), new ReLU(), new MaxPool2d(2),
    new Conv2d(20, 50, 3, { init }), ...(batchnorm ? [new BatchNorm2d(50)] : []), new ReLU(), new MaxPool2d(2),
    new Flatten(), new Linear(1250, 128, { init }), new ReLU(), ...(dropout > 0 ? [new Dropout(dropout)] : []),
    new Linear(128, classes, { init }),
  ];
}

type LayerSpec = Record<string, unknown> & { type: string };

/** Layers from a JSON layer list, sizes inferred from `inputShape` (without the batch dimension). */
export function layersFromList(list: unknown[], inputShape: readonly number[], init: Init = 'default'): Layer[] {
  let shape = [...inputShape];
  return list.map((raw, i) => {
    const where = `layers[${i}]`;
    if (typeof raw !== 'object' || raw === null || typeof (raw as LayerSpec).type !== 'string') {
      throw new RangeError(`${where} must be an object with a "type", such as { "type": "linear", "out": 10 }`);
    }
    const spec = raw as LayerSpec;
    const num = (key: string, fallback?: number): number => {
      const value = spec[key] ?? fallback;
      if (typeof value !== 'number') throw new RangeError(`${where} (${spec.type}) needs a number "${key}"`);
      return value;
    };
    const known = (keys: string[]) => {
      for (const key of Object.keys(spec)) if (key !== 'type' && !keys.includes(key)) throw new RangeError(`${where} (${spec.type}): unknown key "${key}"`);
    };
    let layer: Layer;
    switch (spec.type) {
      case 'linear':
        known(['out', 'bias']);
        if (shape.length !== 1) throw new RangeError(`${where} (linear) needs flat input, got [${shape.join(', ')}]: add { "type": "flatten" } before it`);
        layer = new Linear(shape[0], num('out'), { init, bias: spec.bias !== false });
        break;
      case 'conv2d':
        known(['out', 'kernel', 'stride', 'padding', 'bias']);
        if (shape.length !== 3) throw new RangeError(`${where} (conv2d) needs [C, H, W] input, got [${shape.join(', ')}]`);
        layer = new Conv2d(shape[0], num('out'), num('kernel'), { stride: num('stride', 1), padding: num('padding', 0), bias: spec.bias !== false, init });
        break;
      case 'batchnorm1d':
      case 'batchnorm2d': {
        known(['momentum', 'eps']);
        const options = { momentum: spec.momentum as number | undefined, eps: spec.eps as number | undefined };
        layer = spec.type === 'batchnorm1d' ? new BatchNorm1d(shape[0], options) : new BatchNorm2d(shape[0], options);
        break;
      }
      case 'relu':
        known([]);
        layer = new ReLU();
        break;
      case 'sigmoid':
        known([]);
        layer = new Sigmoid();
        break;
      case 'dropout':
        known(['p']);
        layer = new Dropout(num('p'));
        break;
      case 'maxpool2d':
        known(['kernel', 'stride']);
        layer = new MaxPool2d(num('kernel'), { stride: num('stride', num('kernel')) });
        break;
      case 'flatten':
        known([]);
        layer = new Flatten();
        break;
      default:
        throw new RangeError(`${where}: unknown layer type "${spec.type}" (linear, conv2d, batchnorm1d, batchnorm2d, relu, sigmoid, dropout, maxpool2d, flatten)`);
    }
    try {
      shape = layer.outputShape([2, ...shape], false).slice(1);
    } catch (error) {
      throw new RangeError(`${where}: ${(error as Error).message}`);
    }
    return layer;
  });
}
