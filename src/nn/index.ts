/** Layers, models and their checks. */
export { Linear, type LinearOptions } from './linear.js';
export { BatchNorm1d, BatchNorm2d, type BatchNormOptions } from './batchnorm.js';
export { ReLU, Sigmoid } from './activation.js';
export { Dropout } from './dropout.js';
export { Conv2d, type Conv2dOptions } from './conv2d.js';
export { MaxPool2d, type MaxPool2dOptions } from './maxpool2d.js';
export { Flatten } from './flatten.js';
export { ChannelAffine } from './channel-affine.js';
export { SoftmaxCrossEntropy, type Labels } from './loss.js';
export { Sequential, type SequentialOptions, type Parameter } from './sequential.js';
export { gradCheck, type GradCheckOptions, type GradCheckResult } from './gradcheck.js';
export { Layer, type TensorSpec, type LayerContext } from './layer.js';
export { layerSpec, type LayerSpec } from './layer-list.js';
export { ARCHITECTURE_KEY, type Architecture } from './architecture.js';
export { DEFAULT_OPSET, type OnnxOptions } from './onnx-export.js';
export type { Tensor } from './tensor.js';
export type { Init } from './init.js';
