/**
 * The training service against requests meant to break it: malformed JSON, wrong types, unknown and refused
 * keys, bodies too big, data paths out of the data roots (`..`, absolute, a symlink), ids that are paths,
 * models too big for the machine, predict batches that do not fit, a missing or wrong token, a foreign Host,
 * thousands of event streams opened and dropped. Each must be a 4xx naming what is wrong (or a closed
 * connection), with the server alive and its jobs intact after.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nativeAvailable } from '../dist/index.js';
import { serve } from '../dist/serve/index.js';
import { call, readEvents, startServer, type Server } from './support/serve.js';

const work = mkdtempSync(join(tmpdir(), 'normnet-serve-hostile-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const backend = nativeAvailable() || process.env.REQUIRE_NATIVE === '1' ? 'native' : 'ts';
const SMALL = { trainLimit: 2000, hidden: [32], epochs: 2, batchSize: 50, backend };

/** A data root holding a small CSV, a symlink out of it, and a secret outside it. */
const root = join(work, 'data');
const outside = join(work, 'secret');
mkdirSync(join(root, 'sub'), { recursive: true });
mkdirSync(outside);
writeFileSync(join(outside, 'secret.csv'), 'a,label\n1,0\n');
const rows = Array.from({ length: 60 }, (_, i) => `${(i % 3) + Math.sin(i)},${(i * 7) % 5},${i % 3}`);
writeFileSync(join(root, 'iris.csv'), `x,y,label\n${rows.join('\n')}\n`);
symlinkSync(join(outside, 'secret.csv'), join(root, 'link.csv'));
symlinkSync(outside, join(root, 'sub', 'out'));

describe('normnet serve against hostile requests', () => {
  let server: Server;
  /** A job that completed before the attacks: it must be intact after them. */
  let survivor: string;
  beforeAll(async () => {
    server = await startServer({ dir: join(work, 'runs'), dataRoots: [root], maxBatch: 8 });
    survivor = (await call(`${server.url}/api/jobs`, { body: SMALL })).body.id;
    await (await readEvents(`${server.url}/api/jobs/${survivor}/events`)).ended;
  });
  afterAll(async () => {
    // Alive and intact after everything.
    expect((await call(`${server.url}/healthz`)).body).toEqual({ status: 'ok' });
    const job = (await call(`${server.url}/api/jobs/${survivor}`)).body;
    expect(job.status).toBe('completed');
    expect(job.history).toHaveLength(2);
    expect((await fetch(`${server.url}/api/jobs/${survivor}/model`).then((r) => r.arrayBuffer())).byteLength).toBeGreaterThan(100_000);
    await server?.close();
  });

  const submit = (body: unknown) => server.app.inject({ method: 'POST', url: '/api/jobs', payload: body as object });
  /** Submits and expects a 400 naming `field`; returns the message. */
  async function refused(body: unknown, field: string | undefined, status = 400): Promise<string> {
    const res = await submit(body);
    expect(res.statusCode, res.body).toBe(status);
    const reply = res.json();
    expect(reply.statusCode).toBe(status);
    if (field !== undefined) expect(reply.field, reply.message).toBe(field);
    return reply.message;
  }

  it('refuses malformed JSON, non-objects, poisoned prototypes and other media types', async () => {
    for (const raw of ['{"epochs": 2', '[1, 2', 'nul', '']) {
      const res = await server.app.inject({ method: 'POST', url: '/api/jobs', headers: { 'content-type': 'application/json' }, payload: raw });
      expect(res.statusCode, raw).toBe(400);
      expect(res.json().message).toBeTruthy();
    }
    for (const body of [[], 'epochs', 3, null]) {
      const res = await server.app.inject({ method: 'POST', url: '/api/jobs', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) });
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
    }
    const poisoned = await server.app.inject({ method: 'POST', url: '/api/jobs', headers: { 'content-type': 'application/json' }, payload: '{"__proto__": {"epochs": 0}, "epochs": 1}' });
    expect(poisoned.statusCode).toBe(400);
    const form = await server.app.inject({ method: 'POST', url: '/api/jobs', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'epochs=1' });
    expect(form.statusCode).toBe(415);
    const text = await server.app.inject({ method: 'POST', url: '/api/jobs', headers: { 'content-type': 'text/plain' }, payload: '{"epochs": 1}' });
    expect(text.statusCode).toBe(400);
  });

  it('names the field of a wrong type, a bad value, an unknown or refused key', async () => {
    expect(await refused({ epochs: 0 }, 'epochs')).toBe('body/epochs must be >= 1');
    await refused({ epochs: '3' }, 'epochs');
    await refused({ epochs: 2.5 }, 'epochs');
    await refused({ hidden: '32,32' }, 'hidden');
    await refused({ hidden: [32, -1] }, 'hidden');
    await refused({ hidden: [] }, 'hidden');
    await refused({ batchnorm: 1 }, 'batchnorm');
    await refused({ lr: 0 }, 'lr');
    await refused({ optimizer: 'adamw' }, 'optimizer');
    await refused({ init: 'ones' }, 'init');
    await refused({ init: -1 }, 'init');
    await refused({ priority: -1 }, 'priority');
    await refused({ name: 'x'.repeat(201) }, 'name');
    await refused({ layers: [{ type: 'linear', out: 'ten' }] }, 'layers');
    await refused({ layers: [{ type: 'transformer' }] }, 'layers');
    await refused({ layers: [{ out: 10 }] }, 'layers');
    await refused({ layers: [{ type: 'batchnorm1d', eps: [1] }] }, 'layers');
    // Nothing nested deep enough to overflow a stack later (the record is JSON written to disk).
    const deep = `{"layers": [{"type": "linear", "out": 10, "bias": ${'['.repeat(100000)}${']'.repeat(100000)}}]}`;
    const res = await server.app.inject({ method: 'POST', url: '/api/jobs', headers: { 'content-type': 'application/json' }, payload: deep });
    expect(res.statusCode).toBe(400);
    expect(res.json().field).toBe('layers');
    expect(await refused({ epoch: 3 }, 'epoch')).toBe('body: unknown key "epoch"');
    expect(await refused({ out: '/tmp/anywhere' }, 'out')).toMatch(/"out" is not accepted: the server decides run directories/);
    await refused({ threads: 512 }, 'threads');
  });

  it('refuses models too big for the server before anything is allocated', async () => {
    expect(await refused({ hidden: [50000, 50000] }, 'hidden')).toMatch(/would need about \d+ MiB/);
    await refused({ model: 'cnn', batchSize: 60000 }, 'batchSize');
    await refused({ layers: [{ type: 'linear', out: 1e8 }, { type: 'linear', out: 10 }] }, 'layers');
  });

  it('reads data only under the data roots: no "..", nothing outside, no symlink out', async () => {
    expect(await refused({ data: `${root}/../secret/secret.csv` }, 'data')).toMatch(/"\.\." segment/);
    expect(await refused({ data: 'sub/../../secret/secret.csv' }, 'data')).toMatch(/"\.\." segment/);
    expect(await refused({ data: join(outside, 'secret.csv') }, 'data')).toMatch(/outside the data roots/);
    expect(await refused({ data: '/etc/passwd' }, 'data')).toMatch(/outside the data roots/);
    expect(await refused({ data: join(root, 'link.csv') }, 'data')).toMatch(/leads outside the data roots/);
    expect(await refused({ data: 'sub/out/secret.csv' }, 'data')).toMatch(/leads outside the data roots/);
    expect(await refused({ data: 'missing.csv' }, 'data')).toMatch(/does not exist/);
    await refused({ data: 'iris.csv', testData: `${root}/x.npy,/etc/passwd` }, 'testData');
    await refused({ data: 'iris.csv\u0000.csv' }, 'data');
    await refused({ dataDir: '/usr/share' }, 'dataDir');
    await refused({ dataDir: 'iris.csv' }, 'dataDir');
    // A real file under the root trains, by its real path.
    const ok = await submit({ data: 'iris.csv', hidden: [8], epochs: 1, batchSize: 10, backend });
    expect(ok.statusCode, ok.body).toBe(201);
    const stream = await readEvents(`${server.url}/api/jobs/${ok.json().id}/events`);
    await stream.ended;
    expect(stream.events.at(-1)?.data.status).toBe('completed');
    expect((await call(`${server.url}/api/jobs/${ok.json().id}`)).body.config.data).toBe(join(root, 'iris.csv'));
    // A server without data roots reads no files at all.
    const bare = await serve({ listen: false, dir: join(work, 'bare') });
    try {
      const res = await bare.inject({ method: 'POST', url: '/api/jobs', payload: { data: join(root, 'iris.csv') } });
      expect(res.statusCode).toBe(400);
      expect(res.json().message).toMatch(/reads no data files/);
    } finally {
      await bare.close();
    }
  });

  it('refuses bodies over the limit, ids that are paths, and predict batches that do not fit', async () => {
    const huge = await fetch(`${server.url}/api/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'x'.repeat(2 ** 21) }) });
    expect(huge.status).toBe(413);
    for (const id of ['..', '..%2F..%2Fetc', '%2e%2e', 'a.b', 'x'.repeat(65)]) {
      const res = await server.app.inject({ url: `/api/jobs/${id}` });
      expect([400, 404], id).toContain(res.statusCode);
    }
    expect((await server.app.inject({ url: '/api/jobs/..%2F..%2Fetc/model' })).statusCode).toBe(400);
    expect((await server.app.inject({ url: '/api/jobs?status=done' })).statusCode).toBe(400);
    expect((await server.app.inject({ url: '/api/jobs?sort=1' })).statusCode).toBe(400);

    const predict = (payload: object) => server.app.inject({ method: 'POST', url: `/api/jobs/${survivor}/predict`, payload });
    const row = Array.from({ length: 784 }, () => 0.5);
    expect((await predict({ inputs: [row] })).statusCode).toBe(200);
    const cases: [object, string][] = [
      [{ inputs: [row.slice(1)] }, 'shape'],
      [{ inputs: [row, row.slice(1)] }, 'inputs'],
      [{ inputs: [row], shape: [1, 28, 28] }, 'shape'],
      [{ inputs: Array.from({ length: 9 }, () => row) }, 'inputs'],
      [{ inputs: 'not base64!', shape: [1, 784] }, 'inputs'],
      [{ inputs: 'AAAAAA==' }, 'shape'],
      [{ inputs: 'AAA=', shape: [1, 784] }, 'inputs'],
      [{ inputs: Buffer.alloc(4 * 784 * 9).toString('base64'), shape: [9, 784] }, 'shape'],
      [{ inputs: [[...row.slice(1), 'x']] }, 'inputs'],
      [{ inputs: [row], extra: 1 }, 'extra'],
      [{}, 'inputs'],
    ];
    for (const [payload, field] of cases) {
      const res = await predict(payload);
      expect(res.statusCode, JSON.stringify(payload).slice(0, 80)).toBe(400);
      expect(res.json().field, res.json().message).toBe(field);
    }
    expect((await server.app.inject({ method: 'POST', url: '/api/jobs/20990101-000000-000000/predict', payload: { inputs: [row] } })).statusCode).toBe(404);
  });

  it('refuses a Host that is not this machine (DNS rebinding) when it has no token', async () => {
    const res = await server.app.inject({ url: '/api/jobs', headers: { host: 'evil.example:8080' } });
    expect(res.statusCode).toBe(403);
    expect((await server.app.inject({ url: '/api/jobs', headers: { host: '127.0.0.1:1234' } })).statusCode).toBe(200);
  });

  it('opens and drops 2000 event streams in batches; past the cap a stream is a 503', async () => {
    const open = () => new Promise<number>((resolve) => {
      const req = httpRequest(`${server.url}/api/jobs/${survivor}/events`, { agent: false }, (res) => {
        resolve(res.statusCode ?? 0);
        req.destroy();
      });
      req.on('error', () => resolve(0));
      req.end();
    });
    const statuses: number[] = [];
    for (let batch = 0; batch < 10; batch++) statuses.push(...(await Promise.all(Array.from({ length: 200 }, open))));
    expect(statuses.filter((s) => s === 200)).toHaveLength(2000);
    // Streams of a running job stay open: 60 against a cap of 50.
    const capped = await startServer({ dir: join(work, 'capped'), maxStreams: 50 });
    try {
      const { id } = (await call(`${capped.url}/api/jobs`, { body: { ...SMALL, epochs: 50, trainLimit: 12000 } })).body;
      const readers = await Promise.all(Array.from({ length: 60 }, () => readEvents(`${capped.url}/api/jobs/${id}/events`)));
      const counts = readers.reduce((c, r) => ({ ...c, [r.status]: (c[r.status] ?? 0) + 1 }), {} as Record<number, number>);
      expect(counts).toEqual({ 200: 50, 503: 10 });
      for (const r of readers) r.close();
      expect((await call(`${capped.url}/api/jobs/${id}`, { method: 'DELETE' })).status).toBe(202);
    } finally {
      await capped.close();
    }
  });
});

describe('normnet serve with a token', () => {
  const token = 'a-test-token-0123456789';
  let server: Server;
  beforeAll(async () => {
    server = await startServer({ dir: join(work, 'token'), token, maxQueued: 2, work: false });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('needs Authorization: Bearer on every API route; the events route also takes ?access_token=', async () => {
    const bearer = { authorization: `Bearer ${token}` };
    for (const url of ['/api/jobs', '/api/jobs/20990101-000000-000000', '/metrics', '/api/jobs/20990101-000000-000000/events']) {
      const none = await call(`${server.url}${url}`);
      expect(none.status, url).toBe(401);
      expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect((await call(`${server.url}${url}`, { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status).toBe(401);
      expect((await call(`${server.url}${url}`, { headers: { authorization: `Bearer ${token}x` } })).status).toBe(401);
      expect((await call(`${server.url}${url}`, { headers: { authorization: token } })).status).toBe(401);
    }
    expect((await call(`${server.url}/api/jobs`, { headers: bearer })).status).toBe(200);
    expect((await call(`${server.url}/metrics`, { headers: bearer })).status).toBe(200);
    // No body is read before the token is checked.
    expect((await call(`${server.url}/api/jobs`, { body: SMALL })).status).toBe(401);
    // The query token works on the events route only.
    expect((await call(`${server.url}/api/jobs?access_token=${token}`)).status).toBe(401);
    const { id } = (await call(`${server.url}/api/jobs`, { body: SMALL, headers: bearer })).body;
    const stream = await readEvents(`${server.url}/api/jobs/${id}/events?access_token=${token}`);
    expect(stream.status).toBe(200);
    await stream.until((events) => events.some((e) => e.event === 'status' && e.data.status === 'queued'));
    stream.close();
    expect((await readEvents(`${server.url}/api/jobs/${id}/events?access_token=nope`)).status).toBe(401);
    // The page and the health check hold no data: open.
    expect((await call(`${server.url}/`)).status).toBe(200);
    expect((await call(`${server.url}/healthz`)).status).toBe(200);
  });

  it('takes at most --max-queued queued jobs (429 after)', async () => {
    const bearer = { authorization: `Bearer ${token}` };
    const queued = (await call(`${server.url}/api/jobs?status=queued`, { headers: bearer })).body.length;
    const results = await Promise.all(Array.from({ length: 4 }, () => call(`${server.url}/api/jobs`, { body: SMALL, headers: bearer })));
    expect(results.filter((r) => r.status === 201)).toHaveLength(2 - queued);
    const refusedOnes = results.filter((r) => r.status === 429);
    expect(refusedOnes).toHaveLength(4 - (2 - queued));
    expect(refusedOnes[0].headers.get('retry-after')).toBe('60');
    expect((await call(`${server.url}/api/jobs?status=queued`, { headers: bearer })).body).toHaveLength(2);
  });

  it('will not listen beyond loopback without a token, nor with a short one', async () => {
    const dir = join(work, 'never');
    const saved = process.env.NORMNET_TOKEN;
    delete process.env.NORMNET_TOKEN;
    try {
      await expect(serve({ host: '0.0.0.0', port: 0, dir })).rejects.toThrow(/refusing to listen on 0\.0\.0\.0 without a token/);
      await expect(serve({ host: '192.168.1.10', port: 0, dir })).rejects.toThrow(/without a token/);
      await expect(serve({ port: 0, dir, token: 'short' })).rejects.toThrow(/at least 16 characters/);
    } finally {
      if (saved !== undefined) process.env.NORMNET_TOKEN = saved;
    }
  });
});
