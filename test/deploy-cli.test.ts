/**
 * `normnet export` and `normnet predict` as a user runs them (dist/cli/main.js in child processes) on two small
 * runs trained here: an MLP on a CSV file with standard scaling, and a CNN on idx images. The exported files
 * run in onnxruntime-node and agree with predict; predict reads CSV (with or without the label column), .npy and
 * idx inputs, writes CSV or JSON lines, and bad files fail naming the file and the row.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyScaling } from '../src/data/scaling.js';
import { encodeIdx } from '../src/data/idx.js';
import { encodeNpy } from '../src/data/npy.js';
import { loadModel } from '../src/deploy/load-model.js';
import { writeSafetensors } from '../src/io/safetensors.js';
import { Random } from '../src/util/random.js';

const cli = new URL('../dist/cli/main.js', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'normnet-deploy-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const file = (name: string) => join(work, name);
const backend = process.env.REQUIRE_NATIVE === '1' || existsSync(new URL('../build/Release/normnet.node', import.meta.url)) ||
  existsSync(new URL('../prebuilds/linux-x64/normnet.node', import.meta.url)) ? 'native' : 'ts';

function normnet(args: string[]) {
  const run = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** Rows of CSV output: the predicted class and the probabilities. */
function parseCsv(text: string): { predicted: number; probabilities: number[] }[] {
  const [header, ...rows] = text.trim().split('\n');
  expect(header).toMatch(/^predicted(,prob_\d+)+$/);
  return rows.map((row) => {
    const [predicted, ...probabilities] = row.split(',').map(Number);
    return { predicted, probabilities };
  });
}

function softmax(z: ArrayLike<number>): number[] {
  const max = Math.max(...Array.from(z));
  const e = Array.from(z, (v) => Math.exp(v - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

// The MLP's data: 4 features on very different scales (standard scaling matters), 3 classes.
const random = new Random(11);
const sample = () => [random.normal() * 100 + 500, random.normal(), random.uniform() * 1e-3, random.normal() * 10];
const trainRows = Array.from({ length: 90 }, (_, i) => [...sample(), i % 3]);
const testRows = Array.from({ length: 13 }, (_, i) => [...sample(), i % 3]);
const mlpRun = file('mlp-run');
const cnnRun = file('cnn-run');
const images = new Uint8Array(40 * 8 * 8).map(() => random.below(256));

beforeAll(() => {
  writeFileSync(file('train.csv'), `w,x,y,z,label\n${trainRows.map((r) => r.join(',')).join('\n')}\n`);
  writeFileSync(file('test.csv'), `w,x,y,z,label\n${testRows.map((r) => r.join(',')).join('\n')}\n`);
  writeFileSync(file('features.csv'), `w,x,y,z\r\n${testRows.map((r) => r.slice(0, 4).join(',')).join('\r\n')}\r\n`);
  writeFileSync(file('features.npy'), encodeNpy(Float64Array.from(testRows.flatMap((r) => r.slice(0, 4))), [13, 4]));
  let run = normnet(['train', '--data', file('train.csv'), '--scale', 'standard', '--hidden', '16,16', '--epochs', '2', '--batch-size', '30', '--backend', backend, '--out', mlpRun]);
  expect(run.stderr).toBe('');
  writeFileSync(file('images-idx3-ubyte'), encodeIdx([40, 8, 8], images));
  writeFileSync(file('labels-idx1-ubyte'), encodeIdx([40], Uint8Array.from({ length: 40 }, (_, i) => i % 4)));
  const layers = JSON.stringify([{ type: 'conv2d', out: 4, kernel: 3, padding: 1, stride: 2 }, { type: 'batchnorm2d' }, { type: 'relu' },
    { type: 'maxpool2d', kernel: 2 }, { type: 'flatten' }, { type: 'linear', out: 4 }]);
  run = normnet(['train', '--data', `${file('images-idx3-ubyte')},${file('labels-idx1-ubyte')}`, '--layers', layers, '--epochs', '1', '--batch-size', '10', '--backend', backend, '--out', cnnRun]);
  expect(run.stderr).toBe('');
}, 60_000);

describe('normnet export', () => {
  it('writes ONNX files, folded or not, that onnxruntime runs to predict\'s probabilities', async () => {
    const predicted = normnet(['predict', mlpRun, '--input', file('test.csv')]);
    expect(predicted.status).toBe(0);
    const rows = parseCsv(predicted.stdout);
    const { scaling } = loadModel(mlpRun);
    const x = applyScaling(scaling!, Float32Array.from(testRows.flatMap((r) => r.slice(0, 4))), 4);
    for (const fold of [false, true]) {
      const onnx = file(fold ? 'mlp-folded.onnx' : 'mlp.onnx');
      const run = normnet(['export', mlpRun, '--onnx', onnx, ...(fold ? ['--fold-batchnorm'] : [])]);
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      expect(run.stdout.trim()).toBe(`${onnx}: ONNX opset 17, input "input" [N, 4], output "logits" [N, 3], ${fold ? '7 layers folded to 5' : '7 layers'}`);
      const session = await ort.InferenceSession.create(onnx);
      const logits = (await session.run({ input: new ort.Tensor('float32', x, [13, 4]) })).logits.data as Float32Array;
      await session.release();
      rows.forEach((row, i) => {
        const p = softmax(logits.subarray(i * 3, i * 3 + 3));
        row.probabilities.forEach((v, c) => expect(Math.abs(v - p[c])).toBeLessThan(1e-5));
      });
    }
  });

  it('exports the CNN run at another opset, and refuses what it cannot do', () => {
    expect(normnet(['export', cnnRun, '--onnx', file('cnn.onnx'), '--opset', '13', '--fold-batchnorm']).stdout).toMatch(/ONNX opset 13, input "input" \[N, 1, 8, 8\], output "logits" \[N, 4\], 6 layers folded to 5/);
    let run = normnet(['export', cnnRun, '--onnx', file('x.onnx'), '--opset', '12']);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/--opset must be an integer from 13 to 21, got 12/);
    run = normnet(['export', cnnRun]);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/export needs --onnx FILE/);
  });
});

describe('normnet predict', () => {
  it('prints CSV for a CSV file, with or without its label column, and for .npy; the run\'s scaling applied', () => {
    const withLabels = normnet(['predict', mlpRun, '--input', file('test.csv')]);
    expect(withLabels.stderr).toBe('');
    const rows = parseCsv(withLabels.stdout);
    expect(rows).toHaveLength(13);
    for (const row of rows) {
      expect(row.predicted).toBe(row.probabilities.indexOf(Math.max(...row.probabilities)));
      expect(Math.abs(row.probabilities.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-5);
    }
    // In-process, the same model and scaling: the same probabilities.
    const { model, scaling } = loadModel(mlpRun);
    const x = applyScaling(scaling!, Float32Array.from(testRows.flatMap((r) => r.slice(0, 4))), 4);
    const logits = model.predict(x, [13, 4]).data;
    rows.forEach((row, i) => softmax(logits.subarray(i * 3, i * 3 + 3)).forEach((p, c) => expect(Math.abs(row.probabilities[c] - p)).toBeLessThan(1e-5)));
    expect(normnet(['predict', mlpRun, '--input', file('features.csv')]).stdout).toBe(withLabels.stdout);
    expect(normnet(['predict', mlpRun, '--input', file('features.npy'), '--batch-size', '4']).stdout).toBe(withLabels.stdout);
  });

  it('writes JSON lines to --output FILE.jsonl or with --json, and CSV to another --output', () => {
    const csv = normnet(['predict', mlpRun, '--input', file('test.csv')]).stdout;
    expect(normnet(['predict', mlpRun, '--input', file('test.csv'), '--output', file('out.jsonl')]).status).toBe(0);
    const lines = readFileSync(file('out.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toEqual(parseCsv(csv));
    expect(normnet(['predict', mlpRun, '--input', file('test.csv'), '--json']).stdout).toBe(readFileSync(file('out.jsonl'), 'utf8'));
    expect(normnet(['predict', mlpRun, '--input', file('test.csv'), '--output', file('out.csv')]).stdout).toBe('');
    expect(readFileSync(file('out.csv'), 'utf8')).toBe(csv);
  });

  it('reads idx images and uint8 .npy images as training did (pixels / 255)', () => {
    writeFileSync(file('test-images-idx3-ubyte'), encodeIdx([6, 8, 8], images.subarray(0, 6 * 64)));
    writeFileSync(file('test-images.npy'), encodeNpy(images.subarray(0, 6 * 64), [6, 1, 8, 8]));
    const idx = normnet(['predict', cnnRun, '--input', file('test-images-idx3-ubyte'), '--json']);
    expect(idx.stderr).toBe('');
    const { model } = loadModel(cnnRun);
    const logits = model.predict(Float32Array.from(images.subarray(0, 6 * 64), (v) => v / 255), [6, 1, 8, 8]).data;
    idx.stdout.trim().split('\n').map((l) => JSON.parse(l)).forEach((row, i) => {
      softmax(logits.subarray(i * 4, i * 4 + 4)).forEach((p, c) => expect(Math.abs(row.probabilities[c] - p)).toBeLessThan(1e-5));
    });
    expect(normnet(['predict', cnnRun, '--input', file('test-images.npy'), '--json']).stdout).toBe(idx.stdout);
  });

  it('fails on bad input files with the file and the row (exit 1), and on misuse (exit 2)', () => {
    const bad = (name: string, text: string) => {
      writeFileSync(file(name), text);
      return normnet(['predict', mlpRun, '--input', file(name)]);
    };
    let run = bad('nan.csv', 'w,x,y,z\n1,2,3,4\n1,abc,3,4\n');
    expect(run.status).toBe(1);
    expect(run.stderr).toBe(`normnet: ${file('nan.csv')}: line 3, column "x": "abc" is not a number\n`);
    run = bad('ragged.csv', 'w,x,y,z\n1,2,3,4\n1,2,3\n');
    expect(run.status).toBe(1);
    expect(run.stderr).toBe(`normnet: ${file('ragged.csv')}: line 3: expected 4 fields as in the header, got 3: no value for column "z"\n`);
    run = bad('wide.csv', 'a,b,c,d,e\n1,2,3,4,5\n');
    expect(run.status).toBe(1);
    expect(run.stderr).toBe(`normnet: ${file('wide.csv')}: samples of shape [5] (5 values), but the model takes samples of shape [4] (4 values)\n`);
    run = bad('inf.csv', 'w,x,y,z\n1,2,3,inf\n');
    expect(run.stderr).toMatch(/inf\.csv: line 2, column "z": "inf" is not a finite number/);
    run = normnet(['predict', mlpRun, '--input', file('missing.csv')]);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/missing\.csv: cannot read/);
    run = normnet(['predict', mlpRun]);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/predict needs --input FILE/);
    writeSafetensors(file('torch.safetensors'), { weight: { dtype: 'F32', shape: [2, 2], data: new Float32Array(4) } }, { format: 'pt' });
    run = normnet(['predict', file('torch.safetensors'), '--input', file('test.csv')]);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/no normnet architecture in its metadata .* Build the Sequential with the same layers and call model\.load/);
  });
});
