/** normnet: neural-network training for Node.js over a C++ core, with a pure-TypeScript fallback. */
export { getBackend, configure, nativeAvailable, BACKEND_NAMES } from './kernels/backend.js';
export type { Backend, BackendInfo, BackendName, RuntimeOptions } from './kernels/backend.js';
export { KERNEL_NAMES } from './kernels/kernels.js';
export type { Kernels, KernelName } from './kernels/kernels.js';
export type { Isa } from './kernels/native.js';
export { version } from './version.js';
export * from './nn/index.js';
export * from './data/index.js';
export { Random } from './util/random.js';
export { readSafetensors, writeSafetensors, encodeSafetensors, decodeSafetensors, SafetensorsError } from './io/safetensors.js';
export type { StateDict, StateTensor, DType } from './io/safetensors.js';
export * from './optim/index.js';
export { fit, evaluate, Trainer, TrainingError } from './train/trainer.js';
export type { FitOptions, History, EpochRecord, BatchInfo, TrainerState, TrainingData, StepOptimizer, Evaluation } from './train/trainer.js';
export { SCHEDULES, scheduleFactor, type Schedule } from './train/schedule.js';
export { trainingData, buildRun, buildModel, buildOptimizer, loadData, DEFAULT_CONFIG, type RunConfig } from './train/run.js';
export { mlpLayers, cnnLayers, layersFromList } from './train/models.js';
export { writeCheckpoint, readCheckpoint, type Checkpoint } from './train/checkpoint.js';
