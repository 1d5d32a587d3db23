/**
 * `normnet export RUN --onnx FILE [--fold-batchnorm] [--opset N]`: the model of RUN (a run or checkpoint
 * directory, or a .safetensors file normnet wrote) as an ONNX file, for onnxruntime and the other ONNX runtimes;
 * with --fold-batchnorm, every BatchNorm folded into the layer before it first (Sequential.foldBatchNorm).
 */
import { loadModel, type LoadedModel } from '../deploy/load-model.js';
import { ONNX_IR_VERSIONS } from '../io/onnx.js';
import { DEFAULT_OPSET } from '../nn/onnx-export.js';
import { parseFlags, UsageError } from './options.js';

export const EXPORT_USAGE = `Usage: normnet export RUN --onnx FILE [--fold-batchnorm] [--opset N]

Writes the model of RUN (a run directory, its checkpoint directory, or a .safetensors file normnet wrote) as
an ONNX file: input "input" [N, ...], output "logits" [N, classes], eval mode.

Options:
  --onnx FILE         the ONNX file to write
  --fold-batchnorm    fold every BatchNorm into the Linear or Conv2d before it (fewer nodes, the same outputs)
  --opset N           the ONNX opset, 13 to 21 (default ${DEFAULT_OPSET})`;

export function exportCommand(args: string[]): number {
  const [path, ...rest] = args;
  if (path === undefined || path.startsWith('--')) throw new UsageError('export needs a run directory or model file (normnet export runs/my-run --onnx model.onnx)');
  const parsed = parseFlags(rest, ['--fold-batchnorm'], ['--onnx', '--opset'], []);
  const file = parsed.values['--onnx'];
  if (file === undefined) throw new UsageError('export needs --onnx FILE, the file to write');
  const opsetText = parsed.values['--opset'] ?? String(DEFAULT_OPSET);
  const opset = Number(opsetText);
  if (!/^\d+$/.test(opsetText) || ONNX_IR_VERSIONS[opset] === undefined) throw new UsageError(`--opset must be an integer from 13 to 21, got ${opsetText}`);
  let loaded: LoadedModel;
  try {
    loaded = loadModel(path, { backend: 'ts' }); // no kernel runs: folding and export only read the weights
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const fold = parsed.switches.has('--fold-batchnorm');
  const model = fold ? loaded.model.foldBatchNorm() : loaded.model;
  model.saveOnnx(file, { opset });
  const output = model.outputShape([1, ...loaded.inputShape]).slice(1);
  const layers = fold ? `${loaded.model.layers.length} layers folded to ${model.layers.length}` : `${model.layers.length} layers`;
  console.log(`${file}: ONNX opset ${opset}, input "input" [N, ${loaded.inputShape.join(', ')}], output "logits" [N, ${output.join(', ')}], ${layers}`);
  return 0;
}
