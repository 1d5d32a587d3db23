/** The experiments by name, as `normnet experiment NAME` and the worker threads find them. */
import { activations } from './activations.js';
import { depth } from './depth.js';
import type { AnyExperiment } from './experiment.js';
import { optimizers } from './optimizers.js';
import { weightScale } from './weight-scale.js';

export const EXPERIMENTS: Readonly<Record<string, AnyExperiment>> = Object.freeze({
  [weightScale.name]: weightScale,
  [activations.name]: activations,
  [depth.name]: depth,
  [optimizers.name]: optimizers,
});

export const EXPERIMENT_NAMES: readonly string[] = Object.freeze(Object.keys(EXPERIMENTS));
