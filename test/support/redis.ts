/**
 * A private redis-server for a test file: on a free port, its data in a temporary directory (append-only file,
 * no snapshots), so `stop()` then `start()` is Redis going away and coming back with its data, as a restarted
 * server would. `close()` ends it for good (call it in afterAll); it is also killed when the test process exits.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RedisServer {
  url: string;
  /** Shuts the server down (SIGTERM: it writes its append-only file first). */
  stop(): Promise<void>;
  /** Starts it again on the same port and directory. */
  start(): Promise<void>;
  /** Stops it and removes its directory. */
  close(): Promise<void>;
}

/** The redis-server on PATH, or undefined. */
export function redisServerPath(): string | undefined {
  const found = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() : undefined;
}

/** A port nothing listens on now: bound by the system for a moment, then released. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function startRedis(): Promise<RedisServer> {
  const binary = redisServerPath();
  if (!binary) throw new Error('redis-server is not installed (Debian: apt-get install redis-server)');
  const dir = mkdtempSync(join(tmpdir(), 'normnet-redis-'));
  const port = await freePort();
  let child: ChildProcess | undefined;
  const killOnExit = () => child?.kill('SIGKILL');
  process.on('exit', killOnExit);

  const start = () =>
    new Promise<void>((resolve, reject) => {
      const server = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
      child = server;
      let log = '';
      const timeout = setTimeout(() => fail(new Error(`redis-server did not start in 10 s:\n${log}`)), 10_000);
      const fail = (error: Error) => {
        clearTimeout(timeout);
        server.kill('SIGKILL');
        reject(error);
      };
      server.stdout!.on('data', (chunk: Buffer) => {
        log += chunk;
        // Printed once the append-only file is loaded.
        if (log.includes('Ready to accept connections')) {
          clearTimeout(timeout);
          resolve();
        }
      });
      server.stderr!.on('data', (chunk: Buffer) => (log += chunk));
      server.once('exit', (code) => fail(new Error(`redis-server exited with code ${code}:\n${log}`)));
    });

  const stop = async () => {
    const server = child;
    if (!server || server.exitCode !== null || server.signalCode !== null) return;
    server.removeAllListeners('exit');
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGTERM');
    await exited;
  };

  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    stop,
    start,
    close: async () => {
      await stop();
      process.off('exit', killOnExit);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
