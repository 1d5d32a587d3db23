/**
 * ONNX export checked by a runtime normnet did not write: onnxruntime-node runs every exported model, and its
 * outputs must match normnet's eval outputs within 1e-5 of their scale (max |a - r| <= 1e-5 * max |r|), with and
 * without BatchNorm folding, for the presets and for seeded random architectures. Where Debian's python3-onnx is
 * installed, onnx.checker (with shape inference) also accepts the files.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeOnnx } from '../src/io/onnx.js';
import { getBackend } from '../src/kernels/backend.js';
import { BatchNorm1d, BatchNorm2d } from '../src/nn/batchnorm.js';
import { ReLU } from '../src/nn/activation.js';
import { Conv2d } from '../src/nn/conv2d.js';
import { Flatten } from '../src/nn/flatten.js';
import { Layer } from '../src/nn/layer.js';
import { Linear } from '../src/nn/linear.js';
import { Sequential } from '../src/nn/sequential.js';
import type { Tensor } from '../src/nn/tensor.js';
import { cnnLayers, mlpLayers } from '../src/train/models.js';
import { Random } from '../src/util/random.js';
import { buildRandomModel, randomArchitecture, randomInput, randomizeBatchNorm, relativeError } from './support/architectures.js';

const TOLERANCE = 1e-5;
const work = mkdtempSync(join(tmpdir(), 'normnet-onnx-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function runOrt(bytes: Uint8Array, x: Float32Array, shape: number[]): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  try {
    const out = await session.run({ input: new ort.Tensor('float32', x, shape) });
    return out.logits.data as Float32Array;
  } finally {
    await session.release();
  }
}

/** normnet's eval output and onnxruntime's on the same batch, for the model and its folded twin. */
async function compare(model: Sequential, sampleShape: number[], N: number, seed: number) {
  const x = randomInput(N * sampleShape.reduce((a, b) => a * b, 1), new Random(seed));
  const shape = [N, ...sampleShape];
  const expected = model.predict(x, shape).data;
  return {
    plain: relativeError(await runOrt(model.toOnnx(), x, shape), expected),
    folded: relativeError(await runOrt(model.foldBatchNorm().toOnnx(), x, shape), expected),
  };
}

/** onnx.checker.check_model(full_check) on the files, through Debian's python3-onnx; null when it is not installed. */
function onnxChecker(files: string[]): { status: number | null; output: string } | null {
  const python = '/usr/bin/python3';
  if (spawnSync(python, ['-c', 'import onnx'], { encoding: 'utf8' }).status !== 0) return null;
  const script = 'import sys, onnx\nfor f in sys.argv[1:]:\n    onnx.checker.check_model(onnx.load(f), full_check=True)\nprint("ok", len(sys.argv) - 1)';
  const run = spawnSync(python, ['-c', script, ...files], { encoding: 'utf8' });
  return { status: run.status, output: run.stdout + run.stderr };
}

describe('ONNX export against onnxruntime-node', () => {
  const backend = getBackend();

  it('matches on the MLP preset, with and without folding, with a dynamic batch dimension', async () => {
    const model = new Sequential(mlpLayers(784, 10), { backend, seed: 1 });
    randomizeBatchNorm(model, new Random(1));
    for (const N of [1, 37]) {
      const { plain, folded } = await compare(model.eval(), [784], N, N);
      expect(plain).toBeLessThanOrEqual(TOLERANCE);
      expect(folded).toBeLessThanOrEqual(TOLERANCE);
    }
  });

  it('matches on the CNN preset, with and without folding', async () => {
    const model = new Sequential(cnnLayers(10), { backend, seed: 2, inputShape: [1, 28, 28] });
    randomizeBatchNorm(model, new Random(2));
    const { plain, folded } = await compare(model.eval(), [1, 28, 28], 6, 3);
    expect(plain).toBeLessThanOrEqual(TOLERANCE);
    expect(folded).toBeLessThanOrEqual(TOLERANCE);
  });

  it('matches on 25 seeded random architectures, with and without folding', async () => {
    const random = new Random(7);
    for (let k = 0; k < 25; k++) {
      const architecture = randomArchitecture(random);
      const model = buildRandomModel(architecture, backend, 100 + k);
      const { plain, folded } = await compare(model, architecture.inputShape, 1 + random.below(5), k);
      expect(plain, architecture.describe).toBeLessThanOrEqual(TOLERANCE);
      expect(folded, architecture.describe).toBeLessThanOrEqual(TOLERANCE);
    }
  });

  it('writes the graph the issue asks for: Gemm transB 1, input "input" [N, ...], output "logits", no Dropout', () => {
    const model = new Sequential([new Linear(4, 3), new BatchNorm1d(3), new ReLU(), new Linear(3, 2)], { backend, seed: 1 });
    const graphOf = (bytes: Uint8Array) => (decodeOnnx(bytes) as { graph: Record<string, never> }).graph as unknown as {
      node: { op_type: string; input: string[]; output: string[]; attribute?: { name: string; i?: number }[] }[];
      input: { name: string; type: { tensor_type: { shape: { dim: Record<string, unknown>[] } } } }[];
      output: { name: string; type: { tensor_type: { shape: { dim: Record<string, unknown>[] } } } }[];
      initializer: { name: string; dims: number[] }[];
    };
    const graph = graphOf(model.toOnnx());
    expect(graph.node.map((n) => n.op_type)).toEqual(['Gemm', 'BatchNormalization', 'Relu', 'Gemm']);
    expect(graph.node[0].attribute).toEqual([expect.objectContaining({ name: 'transB', i: 1 })]);
    expect(graph.initializer.map((t) => `${t.name} [${t.dims}]`)).toEqual(['0.weight [3,4]', '0.bias [3]', '1.weight [3]', '1.bias [3]', '1.running_mean [3]', '1.running_var [3]', '3.weight [2,3]', '3.bias [2]']);
    expect(graph.input[0].name).toBe('input');
    expect(graph.input[0].type.tensor_type.shape.dim).toEqual([{ dim_param: 'N' }, { dim_value: 4 }]);
    expect(graph.output[0].name).toBe('logits');
    expect(graph.output[0].type.tensor_type.shape.dim).toEqual([{ dim_param: 'N' }, { dim_value: 2 }]);
    expect(graph.node.at(-1)!.output).toEqual(['logits']);
    expect(graphOf(model.foldBatchNorm().toOnnx()).node.map((n) => n.op_type)).toEqual(['Gemm', 'Relu', 'Gemm']);
  });

  it('runs on opsets 13, 17 and 21, folded or not (a ChannelAffine as Mul and Add)', async () => {
    const layers = [new BatchNorm2d(2), new Conv2d(2, 3, 3, { padding: 1, stride: 2 }), new BatchNorm2d(3), new ReLU(), new Flatten(), new Linear(27, 2)];
    const model = new Sequential(layers, { backend, seed: 4, inputShape: [2, 5, 5] });
    randomizeBatchNorm(model, new Random(4));
    const x = randomInput(3 * 2 * 5 * 5, new Random(1));
    const expected = model.eval().predict(x, [3, 2, 5, 5]).data;
    for (const opset of [13, 17, 21]) {
      for (const m of [model, model.foldBatchNorm()]) expect(relativeError(await runOrt(m.toOnnx({ opset }), x, [3, 2, 5, 5]), expected)).toBeLessThanOrEqual(TOLERANCE);
    }
    expect(() => model.toOnnx({ opset: 12 })).toThrow(/opset must be one of 13, 14, .*21, got 12/);
  });

  it('names the layer ONNX cannot express, and asks for the input shape when the model does not know it', () => {
    class Square extends Layer {
      describe() { return 'Square()'; }
      clone() { return new Square(); }
      outputShape(input: readonly number[]) { return [...input]; }
      forward(x: Tensor) { return x; }
      backward(dy: Tensor) { return dy; }
    }
    const model = new Sequential([new Linear(3, 3), new Square(), new Linear(3, 2)], { backend, seed: 1 });
    expect(() => model.toOnnx()).toThrow('toOnnx: layer 1: Square() has no ONNX form (normnet exports Linear, Conv2d, BatchNorm1d, BatchNorm2d, ChannelAffine, ReLU, Sigmoid, MaxPool2d, Flatten, Dropout)');
    const conv = new Sequential([new Conv2d(1, 2, 3)], { backend, seed: 1 });
    expect(() => conv.toOnnx()).toThrow(/does not know its input shape: pass \{ inputShape \}/);
    expect(() => conv.toOnnx({ inputShape: [2, 8, 8] })).toThrow(/toOnnx: layer 0: Conv2d\(1, 2, 3\): expected input of shape \[N, 1, H, W\]/);
    expect(conv.toOnnx({ inputShape: [1, 8, 8] }).length).toBeGreaterThan(0);
  });

  it('writes files that onnx.checker accepts (full check), where python3-onnx is installed', (context) => {
    const model = new Sequential(cnnLayers(10), { backend, seed: 5, inputShape: [1, 28, 28] });
    const files = [join(work, 'cnn.onnx'), join(work, 'cnn-folded.onnx'), join(work, 'mlp.onnx')];
    model.saveOnnx(files[0]);
    model.foldBatchNorm().saveOnnx(files[1]);
    new Sequential([new BatchNorm1d(6, { affine: false }), ...mlpLayers(6, 3, { hidden: [5], activation: 'sigmoid' })], { backend, seed: 6, inputShape: [6] }).foldBatchNorm().saveOnnx(files[2], { opset: 13 });
    const result = onnxChecker(files);
    if (result === null) return context.skip();
    expect(result.output.trim()).toBe('ok 3');
    expect(result.status).toBe(0);
  });
});
