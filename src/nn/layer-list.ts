/**
 * Layer lists: a model's layers as JSON objects whose input sizes are inferred from the input shape, e.g.
 *   [{ "type": "conv2d", "out": 20, "kernel": 5 }, { "type": "batchnorm2d" }, { "type": "relu" },
 *    { "type": "maxpool2d", "kernel": 2 }, { "type": "flatten" }, { "type": "linear", "out": 10 }]
 * Types and options (all but the sizes "out" and "kernel" optional, with the layers' defaults):
 *   linear {out, bias, init}                     conv2d {out, kernel, stride, padding, bias, init}
 *   batchnorm1d, batchnorm2d {eps, momentum, affine}   relu, sigmoid, flatten, dropout {p}
 *   maxpool2d {kernel, stride}                    channel_affine (what foldBatchNorm leaves of a lone BatchNorm)
 * "kernel" is a size or [kh, kw]. A layer's "init" overrides the list's. `layerSpec` writes a layer back as such
 * an object with every option, so `layersFromList(model.layers.map(layerSpec), inputShape)` rebuilds the model's
 * layers: this is the architecture that Sequential.save keeps in a file's metadata.
 */
import { ReLU, Sigmoid } from './activation.js';
import { BatchNorm, BatchNorm1d, BatchNorm2d } from './batchnorm.js';
import { ChannelAffine } from './channel-affine.js';
import { Conv2d } from './conv2d.js';
import { Dropout } from './dropout.js';
import { Flatten } from './flatten.js';
import type { Init } from './init.js';
import type { Layer } from './layer.js';
import { Linear } from './linear.js';
import { MaxPool2d } from './maxpool2d.js';
import { checkShape } from './validate.js';

export type LayerSpec = Record<string, unknown> & { type: string };

const TYPES = 'linear, conv2d, batchnorm1d, batchnorm2d, relu, sigmoid, dropout, maxpool2d, flatten, channel_affine';

/** The layer as a layer-list object with every option; undefined for a layer that has no type here (a user's own class). */
export function layerSpec(layer: Layer): LayerSpec | undefined {
  const kernel = ([kh, kw]: [number, number]) => (kh === kw ? kh : [kh, kw]);
  if (layer instanceof Linear) return { type: 'linear', out: layer.outFeatures, bias: layer.bias, init: layer.init };
  if (layer instanceof Conv2d) {
    return { type: 'conv2d', out: layer.outChannels, kernel: kernel(layer.kernelSize), stride: layer.stride, padding: layer.padding, bias: layer.bias, init: layer.init };
  }
  if (layer instanceof BatchNorm) {
    return { type: layer instanceof BatchNorm2d ? 'batchnorm2d' : 'batchnorm1d', eps: layer.eps, momentum: layer.momentum, affine: layer.affine };
  }
  if (layer instanceof ReLU) return { type: 'relu' };
  if (layer instanceof Sigmoid) return { type: 'sigmoid' };
  if (layer instanceof Dropout) return { type: 'dropout', p: layer.p };
  if (layer instanceof MaxPool2d) return { type: 'maxpool2d', kernel: kernel(layer.kernelSize), stride: layer.stride };
  if (layer instanceof Flatten) return { type: 'flatten' };
  if (layer instanceof ChannelAffine) return { type: 'channel_affine' };
  return undefined;
}

/** Layers from a layer list, sizes inferred from `inputShape` (without the batch dimension). */
export function layersFromList(list: unknown[], inputShape: readonly number[], init: Init = 'default'): Layer[] {
  if (!Array.isArray(list)) throw new RangeError('a layer list must be an array of layer objects, such as [{ "type": "linear", "out": 10 }]');
  checkShape('layersFromList', 'inputShape', inputShape);
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
    const size = (key: string, fallback?: number): number | [number, number] => {
      const value = spec[key];
      if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === 'number')) return value as [number, number];
      if (Array.isArray(value)) throw new RangeError(`${where} (${spec.type}) needs "${key}" as a number or [height, width]`);
      return num(key, fallback);
    };
    const known = (keys: string[]) => {
      for (const key of Object.keys(spec)) if (key !== 'type' && !keys.includes(key)) throw new RangeError(`${where} (${spec.type}): unknown key "${key}"`);
    };
    const layerInit = (spec.init ?? init) as Init;
    let layer: Layer;
    switch (spec.type) {
      case 'linear':
        known(['out', 'bias', 'init']);
        if (shape.length !== 1) throw new RangeError(`${where} (linear) needs flat input, got [${shape.join(', ')}]: add { "type": "flatten" } before it`);
        layer = new Linear(shape[0], num('out'), { init: layerInit, bias: spec.bias !== false });
        break;
      case 'conv2d':
        known(['out', 'kernel', 'stride', 'padding', 'bias', 'init']);
        if (shape.length !== 3) throw new RangeError(`${where} (conv2d) needs [C, H, W] input, got [${shape.join(', ')}]`);
        layer = new Conv2d(shape[0], num('out'), size('kernel'), { stride: num('stride', 1), padding: num('padding', 0), bias: spec.bias !== false, init: layerInit });
        break;
      case 'batchnorm1d':
      case 'batchnorm2d': {
        known(['momentum', 'eps', 'affine']);
        const options = { momentum: spec.momentum as number | null | undefined, eps: spec.eps as number | undefined, affine: spec.affine !== false };
        layer = spec.type === 'batchnorm1d' ? new BatchNorm1d(shape[0], options) : new BatchNorm2d(shape[0], options);
        break;
      }
      case 'channel_affine':
        known([]);
        layer = new ChannelAffine(shape[0]);
        break;
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
      case 'maxpool2d': {
        known(['kernel', 'stride']);
        const kernel = size('kernel');
        layer = new MaxPool2d(kernel, { stride: num('stride', typeof kernel === 'number' ? kernel : kernel[0]) });
        break;
      }
      case 'flatten':
        known([]);
        layer = new Flatten();
        break;
      default:
        throw new RangeError(`${where}: unknown layer type "${spec.type}" (${TYPES})`);
    }
    try {
      shape = layer.outputShape([2, ...shape], false).slice(1);
    } catch (error) {
      throw new RangeError(`${where}: ${(error as Error).message}`);
    }
    return layer;
  });
}
