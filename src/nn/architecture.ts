/**
 * A model's architecture, kept in the metadata of the safetensors files normnet writes (Sequential.save and
 * checkpoints) so that a file stands on its own: loadModel rebuilds the Sequential from it, with no code from
 * the user. One metadata entry, "normnet.architecture", holds the JSON
 *
 *   { "format": "normnet-architecture-1", "inputShape": [1, 28, 28], "layers": [ ...a layer list ] }
 *
 * inputShape is a sample's shape (no batch dimension) and the layers a layer list (layer-list.ts) with every
 * option, from which layersFromList infers the sizes again.
 */
import { layersFromList, type LayerSpec } from './layer-list.js';
import type { Layer } from './layer.js';

export interface Architecture {
  /** A sample's shape, without the batch dimension: [784], [1, 28, 28]. */
  inputShape: number[];
  layers: LayerSpec[];
}

export const ARCHITECTURE_KEY = 'normnet.architecture';
const FORMAT = 'normnet-architecture-1';

/** The metadata entry for `architecture` (none when it is undefined). */
export function architectureMetadata(architecture: Architecture | undefined): Record<string, string> {
  return architecture ? { [ARCHITECTURE_KEY]: JSON.stringify({ format: FORMAT, ...architecture }) } : {};
}

/** The architecture in a file's metadata, or undefined when it has none; a malformed one is an Error naming `file`. */
export function readArchitecture(metadata: Record<string, string>, file: string): Architecture | undefined {
  const text = metadata[ARCHITECTURE_KEY];
  if (text === undefined) return undefined;
  let parsed: { format?: unknown; inputShape?: unknown; layers?: unknown };
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`${file}: the ${ARCHITECTURE_KEY} metadata is not JSON (${(error as Error).message})`);
  }
  const shape = parsed?.inputShape;
  if (parsed?.format !== FORMAT || !Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d > 0) || !Array.isArray(parsed.layers)) {
    throw new Error(`${file}: the ${ARCHITECTURE_KEY} metadata is not a ${FORMAT} { inputShape, layers }`);
  }
  return { inputShape: shape as number[], layers: parsed.layers as LayerSpec[] };
}

/** The layers an architecture describes, new and unbound; a bad layer list is an Error naming `file`. */
export function layersOf(architecture: Architecture, file: string): Layer[] {
  try {
    return layersFromList(architecture.layers, architecture.inputShape);
  } catch (error) {
    throw new Error(`${file}: the ${ARCHITECTURE_KEY} metadata: ${(error as Error).message}`);
  }
}
