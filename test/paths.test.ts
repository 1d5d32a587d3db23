/**
 * Paths are strings: every public API that takes a file or directory refuses a number (which Node's fs would
 * take for a file descriptor: readIdx(2) read stderr and, on a pipe, never returned), a Buffer, '', a string
 * holding NUL and an object, with a TypeError naming the argument; and takes a file: URL wherever it takes a
 * path. Through the built package (dist/), the API as users get it; the last test runs readIdx(0) in a child
 * whose stdin is a pipe that never closes.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_CONFIG, encodeIdx, encodeNpy, executeRun, JobQueue, lineChart, loadDataFiles, loadFashionMnist, loadMnist, loadModel,
  Linear, machineInfo, MNIST_FILES, readCheckpoint, readCsvDataset, readFeatureFile, readIdx, readNpy, readSafetensors,
  runBench, runExperiment, Sequential, serve, writeChart, writeCheckpoint, writeReport, writeRunReport, writeSafetensors,
  type RunConfig,
} from '../dist/index.js';

const work = mkdtempSync(join(tmpdir(), 'normnet-paths-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const url = (...parts: string[]) => pathToFileURL(join(work, ...parts));
const BAD: [string, unknown][] = [['a number', 2], ['a Buffer', Buffer.from('x')], ["''", ''], ['a NUL byte', 'a\0b'], ['an object', {}]];

// Fixtures, each written once with plain string paths.
const csv = join(work, 'train.csv');
writeFileSync(csv, `a,b,label\n${Array.from({ length: 12 }, (_, i) => `${i % 3},${(i * 7) % 5},${i % 2}`).join('\n')}\n`);
writeFileSync(join(work, 'labels-idx1-ubyte'), encodeIdx([3], Uint8Array.from([1, 0, 2])));
writeFileSync(join(work, 'x.npy'), encodeNpy(Float32Array.from([1, 2, 3, 4]), [2, 2]));
// A directory in the MNIST layout, three 2×2 images a file, read by loadMnist and loadFashionMnist alike.
mkdirSync(join(work, 'mnist'));
for (const { images, labels } of Object.values(MNIST_FILES)) {
  writeFileSync(join(work, 'mnist', images), encodeIdx([3, 2, 2], new Uint8Array(12).fill(7)));
  writeFileSync(join(work, 'mnist', labels), encodeIdx([3], Uint8Array.from([0, 9, 4])));
}
const model = () => new Sequential([new Linear(2, 2)], { backend: 'ts', seed: 1, inputShape: [2] });
const config: RunConfig = { ...DEFAULT_CONFIG, data: csv, hidden: [4], epochs: 1, batchSize: 4, backend: 'ts' };
const chart = lineChart({ title: 'a chart', x: 'x', y: 'y', series: [{ name: 's', x: [0, 1], y: [1, 0] }] });
const report = { title: 'a report', config: {}, tables: [], charts: [], machine: machineInfo('ts') };

/** The API under test with `path` where a path goes; `url` gives a file: URL that must work as a path does. */
interface Entry {
  name: string;
  /** The argument as errors name it. */
  argument: string;
  call(path: unknown): unknown;
  withUrl(): Promise<void> | void;
}

const ENTRIES: Entry[] = [
  { name: 'readIdx', argument: 'readIdx: path', call: (p) => readIdx(p as string), withUrl: () => expect(readIdx(url('labels-idx1-ubyte')).dims).toEqual([3]) },
  { name: 'readNpy', argument: 'readNpy: path', call: (p) => readNpy(p as string), withUrl: () => expect(readNpy(url('x.npy')).shape).toEqual([2, 2]) },
  { name: 'readCsvDataset', argument: 'readCsvDataset: path', call: (p) => readCsvDataset(p as string), withUrl: () => expect(readCsvDataset(url('train.csv')).shape).toEqual([12, 2]) },
  { name: 'readFeatureFile', argument: 'readFeatureFile: path', call: (p) => readFeatureFile(p as string), withUrl: () => expect(readFeatureFile(url('train.csv')).shape).toEqual([12, 2]) },
  {
    name: 'loadDataFiles data', argument: 'loadDataFiles: data', call: (p) => loadDataFiles({ data: p as string }),
    withUrl: () => expect(loadDataFiles({ data: url('train.csv') }).train.length).toBe(12),
  },
  {
    name: 'loadDataFiles testData', argument: 'loadDataFiles: testData', call: (p) => loadDataFiles({ data: csv, testData: p as string }),
    withUrl: () => expect(loadDataFiles({ data: csv, testData: url('train.csv') }).test?.length).toBe(12),
  },
  { name: 'loadMnist', argument: 'loadMnist: dir', call: (p) => loadMnist({ dir: p as string }), withUrl: () => expect(loadMnist({ dir: url('mnist') }).test.length).toBe(3) },
  {
    name: 'loadFashionMnist', argument: 'loadFashionMnist: dir', call: (p) => loadFashionMnist({ dir: p as string }),
    withUrl: () => expect(loadFashionMnist({ dir: url('mnist') }).train.length).toBe(3),
  },
  {
    name: 'writeSafetensors', argument: 'writeSafetensors: path', call: (p) => writeSafetensors(p as string, model().stateDict()),
    withUrl: () => {
      writeSafetensors(url('w.safetensors'), model().stateDict());
      expect(Object.keys(readSafetensors(join(work, 'w.safetensors')).tensors)).toEqual(['0.weight', '0.bias']);
    },
  },
  {
    name: 'readSafetensors', argument: 'readSafetensors: path', call: (p) => readSafetensors(p as string),
    withUrl: () => {
      writeSafetensors(join(work, 'r.safetensors'), model().stateDict());
      expect(Object.keys(readSafetensors(url('r.safetensors')).tensors)).toEqual(['0.weight', '0.bias']);
    },
  },
  {
    name: 'Sequential.save and load', argument: 'Sequential.save: path', call: (p) => model().save(p as string),
    withUrl: () => {
      const saved = model();
      saved.save(url('m.safetensors'));
      const loaded = new Sequential([new Linear(2, 2)], { backend: 'ts', seed: 2 });
      loaded.load(url('m.safetensors'));
      expect(loaded.stateDict()).toEqual(saved.stateDict());
    },
  },
  { name: 'Sequential.load', argument: 'Sequential.load: path', call: (p) => model().load(p as string), withUrl: () => {} /* above */ },
  {
    name: 'Sequential.saveOnnx', argument: 'Sequential.saveOnnx: path', call: (p) => model().saveOnnx(p as string),
    withUrl: () => {
      model().saveOnnx(url('m.onnx'));
      expect(existsSync(join(work, 'm.onnx'))).toBe(true);
    },
  },
  {
    name: 'loadModel', argument: 'loadModel: path', call: (p) => loadModel(p as string),
    withUrl: () => {
      model().save(join(work, 'l.safetensors'));
      expect(loadModel(url('l.safetensors'), { backend: 'ts' }).inputShape).toEqual([2]);
    },
  },
  {
    name: 'executeRun, readCheckpoint, writeCheckpoint, writeRunReport', argument: 'executeRun: outDir', call: (p) => executeRun(config, p as string),
    withUrl: async () => {
      const { history, run } = await executeRun(config, url('run'));
      const checkpoint = readCheckpoint(url('run'));
      expect(checkpoint.trainer.history).toEqual(history.epochs);
      writeCheckpoint(url('copy'), run.model, checkpoint.trainer, checkpoint.config);
      expect(readCheckpoint(join(work, 'copy')).config).toEqual(checkpoint.config);
      await writeRunReport(url('run'), { config, describe: run.describe, epochs: history.epochs });
      expect(existsSync(join(work, 'run', 'report.html'))).toBe(true);
    },
  },
  { name: 'readCheckpoint', argument: 'readCheckpoint: path', call: (p) => readCheckpoint(p as string), withUrl: () => {} /* above */ },
  {
    name: 'writeCheckpoint', argument: 'writeCheckpoint: outDir',
    call: (p) => writeCheckpoint(p as string, model(), { epoch: 0 } as never, {}), withUrl: () => {} /* above */,
  },
  {
    name: 'writeRunReport', argument: 'writeRunReport: dir',
    call: (p) => writeRunReport(p as string, { config, describe: '', epochs: [] }), withUrl: () => {} /* above */,
  },
  {
    name: 'writeReport', argument: 'writeReport: dir', call: (p) => writeReport(p as string, report),
    withUrl: () => expect(writeReport(url(), report)).toBe(join(work, 'report.html')),
  },
  {
    name: 'writeChart', argument: 'writeChart: dir', call: (p) => writeChart(p as string, 'c', chart),
    withUrl: async () => expect((await writeChart(url(), 'c', chart)).svgPath).toBe(join(work, 'c.svg')),
  },
  {
    name: 'runExperiment', argument: 'runExperiment: out', call: (p) => runExperiment('optimizers', {}, { out: p as string }),
    withUrl: async () => {
      await runExperiment('optimizers', { steps: 4, hidden: [8], smooth: 2, batchSize: 3, backend: 'ts', dataDir: join(work, 'mnist') }, { out: url('experiment') });
      expect(existsSync(join(work, 'experiment', 'report.html'))).toBe(true);
    },
  },
  // Timing every CPU path is too long for a URL check here; out goes through the same checkPath as the rest.
  { name: 'runBench', argument: 'runBench: out', call: (p) => runBench({ out: p as string }), withUrl: () => {} },
  {
    name: 'JobQueue', argument: 'JobQueue: dir', call: (p) => new JobQueue({ dir: p as string, work: false }),
    withUrl: async () => {
      const queue = new JobQueue({ dir: url('queue'), work: false });
      expect(queue.dir).toBe(join(work, 'queue'));
      await queue.close();
    },
  },
  {
    name: 'serve dir and dataRoots', argument: 'serve: dir', call: (p) => serve({ dir: p as string, listen: false, work: false }),
    withUrl: async () => {
      const app = await serve({ dir: url('served'), dataRoots: [url()], listen: false, work: false });
      await app.close();
      expect(existsSync(join(work, 'served'))).toBe(true);
    },
  },
  { name: 'serve dataRoots', argument: 'serve: dataRoots[1]', call: (p) => serve({ dataRoots: [work, p as string], listen: false, work: false }), withUrl: () => {} /* above */ },
];

describe.each(ENTRIES)('$name', ({ argument, call, withUrl }) => {
  it.each(BAD)(`refuses %s with a TypeError naming ${argument}`, async (_, value) => {
    let error: unknown;
    try {
      await call(value);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message.startsWith(`${argument} must be a non-empty string or a file: URL, got `)).toBe(true);
  });

  it('takes a file: URL as it takes a path, and refuses any other URL', async () => {
    await withUrl();
    let error: unknown;
    try {
      await call(new URL('https://example.com/x'));
    } catch (e) {
      error = e;
    }
    expect((error as Error).message).toBe(`${argument} must be a non-empty string or a file: URL, got a https: URL`);
  });
});

it('readIdx(0) with stdin a pipe that never closes returns at once with the TypeError', async () => {
  const script = `import('${new URL('../dist/index.js', import.meta.url).href}').then(({ readIdx }) => {
    try { readIdx(0); } catch (error) { console.log(error.name + ': ' + error.message); process.exit(0); }
    console.log('readIdx(0) returned'); process.exit(1);
  });`;
  // stdin stays open for the child's whole life: a read of fd 0 would wait for ever, and the timer fails the test.
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (chunk) => (out += chunk));
  const code = await new Promise<number | string>((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve('timed out after 20 s');
    }, 20_000);
    child.on('exit', (status) => {
      clearTimeout(timer);
      resolve(status ?? 'killed');
    });
  });
  expect({ code, out: out.trim() }).toEqual({ code: 0, out: 'TypeError: readIdx: path must be a non-empty string or a file: URL, got number' });
});
