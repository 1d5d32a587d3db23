/**
 * `npm run bench:serve`: how fast `normnet serve` answers while it trains. A server process (`normnet serve`
 * on a free loopback port) is loaded with autocannon on GET /healthz and GET /api/jobs, first idle (one small
 * job done), then while a CNN job trains in its worker thread on a few thousand images. Reported: requests/s
 * and latency (p50, p99, max) per route and state, the job's training speed alone and while loaded, and whether p99
 * stays under the target (20 ms) while training. The job is checked to be running before and after each load
 * run, so no figure is taken on an idle server by mistake.
 *
 * Environment: BENCH_SERVE_SECONDS (10 per run), BENCH_SERVE_CONNECTIONS (10), BENCH_SERVE_TRAIN_LIMIT (6000
 * images of Fashion-MNIST, or MNIST where Debian's dataset-fashion-mnist is missing).
 */
import autocannon from 'autocannon';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const seconds = Number(process.env.BENCH_SERVE_SECONDS ?? 10);
const connections = Number(process.env.BENCH_SERVE_CONNECTIONS ?? 10);
const trainLimit = Number(process.env.BENCH_SERVE_TRAIN_LIMIT ?? 6000);
const TARGET_P99_MS = 20;
const fashion = existsSync('/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz');
const cli = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
// Epochs enough to outlast the load runs; the job is cancelled at the end.
const CNN = { name: 'bench cnn', model: 'cnn', dataset: fashion ? 'fashion-mnist' : 'mnist', trainLimit, epochs: 200, batchSize: 128, backend: 'native' };
const SMALL = { name: 'bench small', trainLimit: 2000, hidden: [32], epochs: 1, batchSize: 50, backend: 'native' };

interface Row {
  route: string;
  state: string;
  requestsPerSecond: number;
  p50: number;
  p99: number;
  max: number;
  errors: number;
  /** The job's samples/s at the end of the run (while training). */
  samplesPerSecond?: number;
}

/** The CPU as lscpu names it (model name, family, model), with cores, memory and Node. */
function machine(): string {
  let cpu = cpus()[0]?.model ?? 'unknown CPU';
  try {
    const info = Object.fromEntries(execFileSync('lscpu', { encoding: 'utf8' }).split('\n').map((line) => line.split(/:\s+/, 2) as [string, string]));
    cpu = `${info['Model name']} (family ${info['CPU family']}, model ${info['Model']})`;
  } catch {
    // no lscpu: the model name Node sees
  }
  return `${cpu}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
}

/** `normnet serve` on a free port; resolves with its URL from the first line it prints. */
function startServer(dir: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [cli, 'serve', '--port', '0', '--dir', dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const url = /^normnet serve: (http:\/\/\S+?)\/ /m.exec(out)?.[1];
      if (url) resolve({ child, url });
    });
    child.once('exit', (code) => reject(new Error(`normnet serve exited with ${code}`)));
  });
}

async function json(url: string, init?: RequestInit): Promise<any> {
  const res = await fetch(url, init);
  if (!res.ok) throw new Error(`${init?.method ?? 'GET'} ${url}: ${res.status} ${await res.text()}`);
  return res.json();
}

const submit = (url: string, config: object) => json(`${url}/api/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(config) });

async function waitFor(what: string, check: () => Promise<boolean>, ms = 120_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function load(url: string, route: string, state: string, jobId?: string): Promise<Row> {
  const result = await autocannon({ url: `${url}${route}`, connections, duration: seconds });
  const row: Row = {
    route, state, requestsPerSecond: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max,
    errors: result.errors + result.timeouts + result.non2xx,
  };
  if (jobId) {
    const job = await json(`${url}/api/jobs/${jobId}`);
    if (job.status !== 'running') throw new Error(`the CNN job stopped during the load run (${job.status}): no figure while training`);
    row.samplesPerSecond = job.progress?.samplesPerSecond;
  }
  return row;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'normnet-bench-serve-'));
  const { child, url } = await startServer(dir);
  const rows: Row[] = [];
  let alone = 0;
  try {
    const small = await submit(url, SMALL);
    await waitFor('the small job', async () => (await json(`${url}/api/jobs/${small.id}`)).status === 'completed');
    for (const route of ['/healthz', '/api/jobs']) rows.push(await load(url, route, 'idle'));

    const cnn = await submit(url, CNN);
    await waitFor('the CNN job to train', async () => {
      const job = await json(`${url}/api/jobs/${cnn.id}`);
      return job.status === 'running' && job.progress !== undefined;
    });
    // Its speed with no requests to answer, for the cost of answering them.
    await new Promise((r) => setTimeout(r, 3000));
    alone = (await json(`${url}/api/jobs/${cnn.id}`)).progress.samplesPerSecond;
    for (const route of ['/healthz', '/api/jobs']) rows.push(await load(url, route, 'training', cnn.id));
    await json(`${url}/api/jobs/${cnn.id}`, { method: 'DELETE' });
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }

  console.log(`normnet serve under load: autocannon, ${connections} connections, ${seconds} s a run; a CNN job training on ${trainLimit} images of ${CNN.dataset} (batch ${CNN.batchSize}) in the server's worker thread`);
  console.log(machine());
  console.log(`the CNN job alone: ${alone.toFixed(0)} samples/s`);
  console.log('');
  const header = ['route', 'state', 'req/s', 'p50 ms', 'p99 ms', 'max ms', 'errors', 'job samples/s'];
  const lines = rows.map((r) => [r.route, r.state, r.requestsPerSecond.toFixed(0), r.p50.toFixed(1), r.p99.toFixed(1), r.max.toFixed(1), String(r.errors), r.samplesPerSecond === undefined ? '' : r.samplesPerSecond.toFixed(0)]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  for (const line of [header, ...lines]) console.log(line.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  '));
  const worst = Math.max(...rows.filter((r) => r.state === 'training').map((r) => r.p99));
  console.log('');
  console.log(`p99 while training: ${worst.toFixed(1)} ms (target < ${TARGET_P99_MS} ms): ${worst < TARGET_P99_MS ? 'met' : 'NOT met'}`);
  if (rows.some((r) => r.errors > 0)) throw new Error('some requests failed');
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
