/**
 * BatchNorm folding, for inference. In eval mode a BatchNorm is an affine map of each channel c:
 *
 *   y = gamma_c * (x - mean_c) / sqrt(var_c + eps) + beta_c = s_c * (x - mean_c) + beta_c,
 *   s_c = gamma_c / sqrt(var_c + eps)
 *
 * After a Linear or Conv2d, whose output channel c is w_c · x + b_c (w_c a row of the [out, in] weight, or the
 * [in, kh, kw] filter), it folds into that layer's parameters:
 *
 *   w'_c = s_c * w_c,   b'_c = (b_c - mean_c) * s_c + beta_c
 *
 * (b = 0 for a layer without bias, which gains one). Computed in float64 from the stored float32 values and
 * rounded to float32 once, when the new model loads them. A BatchNorm with no Linear or Conv2d before it becomes
 * a ChannelAffine with weight s and bias (0 - mean) * s + beta.
 *
 * Two more changes make the eval-only model cheaper, each with the same outputs bit for bit. Dropout, the
 * identity in eval, is left out (so Linear, Dropout, BatchNorm folds too). A ReLU right before a MaxPool2d moves
 * after it: max and ReLU commute (both keep the larger of two values), and the ReLU then passes over a quarter of
 * the values (for the CNN preset's first block, 11.5 M floats fewer a 1000-image batch). The ReLU a BatchNorm ran
 * inside its kernel stays a layer of its own (or is fused into the ChannelAffine).
 */
import type { StateDict } from '../io/safetensors.js';
import { ReLU } from './activation.js';
import { BatchNorm } from './batchnorm.js';
import { ChannelAffine } from './channel-affine.js';
import { Conv2d } from './conv2d.js';
import { Dropout } from './dropout.js';
import type { Layer } from './layer.js';
import { Linear } from './linear.js';
import { MaxPool2d } from './maxpool2d.js';

export interface FoldedLayers {
  layers: Layer[];
  /** The new layers' state dict: float64 values, rounded to the model's float type as it loads them. */
  state: StateDict;
}

/** The layers of `layers` (with the state dict `state`) with every BatchNorm folded; new layers, `layers` untouched. */
export function foldLayers(layers: readonly Layer[], state: StateDict): FoldedLayers {
  const out: Layer[] = [];
  const outState: StateDict = {};
  const tensor = (i: number, name: string) => state[`${i}.${name}`]?.data;
  const put = (name: string, shape: number[], data: Float64Array) => {
    outState[`${out.length - 1}.${name}`] = { dtype: 'F64', shape, data };
  };

  for (let i = 0; i < layers.length; i++) {
    const layer = layers[i];
    if (layer instanceof Dropout) continue;
    // The next layer that eval mode runs: Dropouts between are the identity.
    let next = i + 1;
    while (layers[next] instanceof Dropout) next++;
    const following = layers[next];
    const target = layer instanceof Linear || layer instanceof Conv2d ? layer : undefined;
    const channels = target instanceof Linear ? target.outFeatures : target?.outChannels;
    if (target && channels !== undefined && following instanceof BatchNorm && following.numFeatures === channels) {
      const { scale, mean, beta } = statistics(following, (name) => tensor(next, name));
      const w = tensor(i, 'weight')!;
      const b = tensor(i, 'bias');
      const perChannel = w.length / channels; // in for Linear, in*kh*kw for Conv2d
      const weight = new Float64Array(w.length);
      const bias = new Float64Array(channels);
      for (let c = 0; c < channels; c++) {
        for (let k = 0; k < perChannel; k++) weight[c * perChannel + k] = Number(w[c * perChannel + k]) * scale[c];
        bias[c] = ((b ? Number(b[c]) : 0) - mean[c]) * scale[c] + beta[c];
      }
      out.push(withBias(target));
      put('weight', [...state[`${i}.weight`].shape], weight);
      put('bias', [channels], bias);
      i = next; // the BatchNorm is done with
    } else if (layer instanceof BatchNorm) {
      const { scale, mean, beta } = statistics(layer, (name) => tensor(i, name));
      out.push(new ChannelAffine(layer.numFeatures));
      put('weight', [layer.numFeatures], scale);
      put('bias', [layer.numFeatures], scale.map((s, c) => (0 - mean[c]) * s + beta[c]));
    } else if (layer instanceof ReLU && following instanceof MaxPool2d) {
      out.push(following.clone(), layer.clone()); // maxpool(relu(x)) = relu(maxpool(x)); neither has tensors
      i = next;
    } else {
      out.push(layer.clone());
      for (const spec of layer.tensors()) outState[`${out.length - 1}.${spec.name}`] = state[`${i}.${spec.name}`];
      for (const name of Object.keys(layer.counters())) outState[`${out.length - 1}.${name}`] = state[`${i}.${name}`];
    }
  }
  return { layers: out, state: outState };
}

/** A fresh copy of the Linear or Conv2d `layer` with a bias, to hold the folded parameters. */
function withBias(layer: Linear | Conv2d): Layer {
  return layer instanceof Linear
    ? new Linear(layer.inFeatures, layer.outFeatures, { bias: true, init: layer.init })
    : new Conv2d(layer.inChannels, layer.outChannels, [...layer.kernelSize], { stride: layer.stride, padding: layer.padding, bias: true, init: layer.init });
}

/** s = gamma / sqrt(var + eps), mean and beta per channel, in float64 (gamma 1 and beta 0 without affine). */
function statistics(bn: BatchNorm, tensor: (name: string) => ArrayLike<number | bigint> | undefined): { scale: Float64Array; mean: Float64Array; beta: Float64Array } {
  const C = bn.numFeatures;
  const values = (name: string, fallback: number) => {
    const t = tensor(name);
    return Float64Array.from({ length: C }, (_, c) => (t ? Number(t[c]) : fallback));
  };
  const [gamma, beta] = bn.affine ? [values('weight', 1), values('bias', 0)] : [new Float64Array(C).fill(1), new Float64Array(C)];
  const variance = values('running_var', 1);
  return { scale: gamma.map((g, c) => g / Math.sqrt(variance[c] + bn.eps)), mean: values('running_mean', 0), beta };
}
