/**
 * How much memory a submitted config's model would take, estimated from its layers before anything is
 * allocated (layer objects hold only their sizes until a Sequential binds them). A request for a model of
 * billions of parameters, or a batch of 60000 images through a CNN, would otherwise be allocated by the job's
 * thread, in the server's process, and could take the whole machine down with it.
 *
 *   bytes = 4 * (4 * P + 2 * batch * A)
 *
 * P: parameters and buffers (values, gradients and up to two optimizer states, Adam's), A: the activations of
 * one sample summed over the layers (forward outputs and the gradients backward writes), batch: the largest
 * batch the run will take (its batch size, cut to the number of samples of the built-in datasets).
 */
import type { RunConfig } from '../train/config.js';
import { cnnLayers, layersFromList, mlpLayers } from '../train/models.js';
import type { Layer } from '../nn/layer.js';

export interface Footprint {
  bytes: number;
  parameters: number;
  batch: number;
}

/** MNIST and Fashion-MNIST: 1x28x28 images in 10 classes, 60000 for training, 10000 for testing. */
const BUILT_IN = { sample: [1, 28, 28], classes: 10, train: 60000, test: 10000 };

const product = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * The model's footprint. For the user's own data the sample shape is not known until the files are read: a
 * flat model is counted with one input feature (a lower bound), and a layer list that starts with a
 * convolution is not counted at all (undefined). A bad layer list throws its RangeError.
 */
export function modelFootprint(config: RunConfig): Footprint | undefined {
  const builtIn = config.data === undefined;
  const conv = config.layers ? (config.layers[0] as { type?: unknown })?.type === 'conv2d' : config.model === 'cnn';
  if (!builtIn && config.layers && conv) return undefined;
  const sample = conv ? BUILT_IN.sample : [builtIn ? product(BUILT_IN.sample) : 1];
  const classes = builtIn ? BUILT_IN.classes : 2;
  let layers: Layer[];
  if (config.layers) layers = layersFromList(config.layers, sample, config.init ?? 'default');
  else if (config.model === 'cnn') layers = cnnLayers(classes, { init: config.init, batchnorm: config.batchnorm, dropout: config.dropout });
  else layers = mlpLayers(sample[0], classes, { hidden: config.hidden, activation: config.activation, init: config.init, batchnorm: config.batchnorm, dropout: config.dropout });
  let parameters = 0;
  let activations = 0;
  // Shapes of a batch of two: BatchNorm refuses one sample in training mode.
  let shape = [2, ...sample];
  for (const layer of layers) {
    for (const spec of layer.tensors()) parameters += product(spec.shape);
    shape = layer.outputShape(shape, true);
    activations += product(shape) / 2;
  }
  const samples = builtIn ? Math.max(Math.min(config.trainLimit ?? BUILT_IN.train, BUILT_IN.train), BUILT_IN.test) : config.batchSize;
  const batch = Math.min(config.batchSize, samples);
  return { bytes: 4 * (4 * parameters + 2 * batch * activations), parameters, batch };
}
