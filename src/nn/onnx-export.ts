/**
 * A Sequential as an ONNX graph (io/onnx.ts) computing its eval-mode output: input "input" of shape
 * [N, ...inputShape] with a dynamic batch dimension N, output "logits". Layer by layer:
 *
 *   Linear          Gemm(x, weight, bias, transB 1): x · weightᵀ + bias, the weight kept [out, in]
 *   Conv2d          Conv(x, weight, bias, kernel_shape, strides, pads [p, p, p, p])
 *   BatchNorm1d/2d  BatchNormalization(x, gamma, beta, running_mean, running_var, epsilon), its inference form
 *                   (gamma 1 and beta 0 without affine)
 *   ChannelAffine   Mul(x, weight) then Add(bias), both [C] values shaped [C, 1, ...] to broadcast over (N, C, ...)
 *   ReLU, Sigmoid   Relu, Sigmoid
 *   MaxPool2d       MaxPool(kernel_shape, strides): no padding, sizes rounded down (ceil_mode 0)
 *   Flatten         Flatten(axis 1)
 *   Dropout         nothing: it is the identity in eval
 *
 * A BatchNorm that runs a ReLU inside its kernel is still two nodes here. Nodes are named by layer index and
 * operator ('3.Relu'), initializers by their state-dict keys ('0.weight'); the model's doc string is its
 * describe(). A layer with no ONNX form (a user's own class) is a RangeError naming it.
 */
import { encodeOnnx, type OnnxAttribute, type OnnxNode, type OnnxTensor } from '../io/onnx.js';
import { version } from '../version.js';
import { ReLU, Sigmoid } from './activation.js';
import { BatchNorm } from './batchnorm.js';
import { ChannelAffine } from './channel-affine.js';
import { Conv2d } from './conv2d.js';
import { Dropout } from './dropout.js';
import { Flatten } from './flatten.js';
import { Linear } from './linear.js';
import { MaxPool2d } from './maxpool2d.js';
import type { Sequential } from './sequential.js';
import { checkShape } from './validate.js';

export interface OnnxOptions {
  /** The ONNX opset, 13 to 21; default 17. */
  opset?: number;
  /** A sample's shape, without the batch dimension, e.g. [1, 28, 28]; default the model's `inputShape`. */
  inputShape?: readonly number[];
}

export const DEFAULT_OPSET = 17;

const EXPORTED = 'Linear, Conv2d, BatchNorm1d, BatchNorm2d, ChannelAffine, ReLU, Sigmoid, MaxPool2d, Flatten, Dropout';

/** The ONNX model file (ModelProto bytes) of `model` in eval mode. */
export function sequentialToOnnx(model: Sequential, options: OnnxOptions = {}): Uint8Array {
  if (typeof options !== 'object' || options === null) throw new TypeError('toOnnx: options must be an object');
  const opset = options.opset ?? DEFAULT_OPSET;
  const sample = options.inputShape === undefined ? model.inputShape : checkShape('toOnnx', 'inputShape', options.inputShape);
  if (!sample) {
    throw new RangeError('toOnnx: the model does not know its input shape: pass { inputShape } (a sample\'s shape, e.g. [1, 28, 28]), or give it to the Sequential, or run the model once');
  }
  const state = model.stateDict();
  const nodes: OnnxNode[] = [];
  const initializers: OnnxTensor[] = [];
  const constant = (name: string, dims: number[], data: ArrayLike<number>): string => {
    initializers.push({ name, dims, data: Float32Array.from(data) });
    return name;
  };
  const stored = (key: string, dims?: number[]): string => {
    const t = state[key];
    return constant(key, dims ?? t.shape, t.data as Float32Array | Float64Array);
  };

  let x = 'input';
  let shape = [1, ...sample];
  model.layers.forEach((layer, i) => {
    let next: number[];
    try {
      next = layer.outputShape(shape, false);
    } catch (error) {
      throw new RangeError(`toOnnx: layer ${i}: ${(error as Error).message}`);
    }
    const node = (op: string, inputs: string[], attributes?: Record<string, OnnxAttribute>, output = `layer${i}`): void => {
      nodes.push({ op, inputs, outputs: [output], name: `${i}.${op}`, attributes });
      x = output;
    };
    if (layer instanceof Linear) {
      node('Gemm', [x, stored(`${i}.weight`), ...(layer.bias ? [stored(`${i}.bias`)] : [])], { transB: { int: 1 } });
    } else if (layer instanceof Conv2d) {
      const p = layer.padding;
      node('Conv', [x, stored(`${i}.weight`), ...(layer.bias ? [stored(`${i}.bias`)] : [])], {
        kernel_shape: { ints: [...layer.kernelSize] }, strides: { ints: [layer.stride, layer.stride] }, pads: { ints: [p, p, p, p] },
      });
    } else if (layer instanceof BatchNorm) {
      const C = layer.numFeatures;
      const gamma = layer.affine ? stored(`${i}.weight`) : constant(`${i}.weight`, [C], new Float32Array(C).fill(1));
      const beta = layer.affine ? stored(`${i}.bias`) : constant(`${i}.bias`, [C], new Float32Array(C));
      node('BatchNormalization', [x, gamma, beta, stored(`${i}.running_mean`), stored(`${i}.running_var`)], { epsilon: { float: layer.eps } });
    } else if (layer instanceof ChannelAffine) {
      // [C] as [C, 1, ..., 1]: numpy broadcasting aligns trailing axes, so it scales axis 1 of (N, C, ...).
      const dims = [layer.numChannels, ...shape.slice(2).map(() => 1)];
      node('Mul', [x, stored(`${i}.weight`, dims)], undefined, `layer${i}.scaled`);
      node('Add', [x, stored(`${i}.bias`, dims)]);
    } else if (layer instanceof ReLU) {
      node('Relu', [x]);
    } else if (layer instanceof Sigmoid) {
      node('Sigmoid', [x]);
    } else if (layer instanceof MaxPool2d) {
      node('MaxPool', [x], { kernel_shape: { ints: [...layer.kernelSize] }, strides: { ints: [layer.stride, layer.stride] } });
    } else if (layer instanceof Flatten) {
      node('Flatten', [x], { axis: { int: 1 } });
    } else if (!(layer instanceof Dropout)) {
      throw new RangeError(`toOnnx: layer ${i}: ${layer.describe()} has no ONNX form (normnet exports ${EXPORTED})`);
    }
    shape = next;
  });
  // The last node writes the output; a model of Dropouts alone passes its input through.
  if (nodes.length === 0) nodes.push({ op: 'Identity', inputs: [x], outputs: ['logits'], name: 'identity' });
  else nodes[nodes.length - 1].outputs = ['logits'];

  return encodeOnnx({
    opset, producerName: 'normnet', producerVersion: version, graphName: 'normnet.Sequential', docString: model.describe(),
    nodes, initializers,
    inputs: [{ name: 'input', shape: ['N', ...sample] }],
    outputs: [{ name: 'logits', shape: ['N', ...shape.slice(1)] }],
  });
}
