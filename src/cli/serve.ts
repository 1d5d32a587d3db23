/**
 * `normnet serve`: the training service (src/serve/) from the command line, until SIGINT or SIGTERM, which
 * close the server and the queue (running jobs checkpoint and go back to the queue). The first line it prints
 * is the address it listens on.
 */
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { serve } from '../serve/server.js';
import { integerFlag, parseFlags, UsageError } from './options.js';

export const SERVE_USAGE = `Usage: normnet serve [options]

Runs the training service: an HTTP API over a job queue, and a dashboard at /.

Options:
  --host H           the address to listen on (default 127.0.0.1; any other needs a token)
  --port N           the port (default 8080; 0 picks a free one)
  --dir DIR          the queue's directory: job records and run directories (default runs)
  --redis URL        use the BullMQ queue on this Redis (redis://host:port) instead of the embedded one
  --token TOKEN      every API request must carry Authorization: Bearer TOKEN (at least 16 characters;
                     default $NORMNET_TOKEN, which other users cannot see in ps)
  --concurrency N    jobs trained at once (default 1)
  --no-work          train nothing here: only submit and follow (workers elsewhere run the jobs)
  --data-root DIR    a directory configs may read data from (repeatable; default none: built-in datasets only)
  --max-batch N      rows a predict request may hold (default 1024)
  --max-queued N     queued jobs beyond which submissions get 429 (default 100)`;

export async function serveCommand(args: string[]): Promise<number> {
  if (args.includes('--help')) {
    console.log(SERVE_USAGE);
    return 0;
  }
  // --data-root may come several times; parseFlags keeps one value a flag, so it is taken out first.
  const dataRoots: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--data-root') {
      if (i + 1 >= args.length || args[i + 1].startsWith('--')) throw new UsageError('--data-root needs a directory');
      dataRoots.push(args[++i]);
    } else if (args[i].startsWith('--data-root=')) dataRoots.push(args[i].slice('--data-root='.length));
    else rest.push(args[i]);
  }
  const { values, switches } = parseFlags(rest, ['--no-work'], ['--host', '--port', '--dir', '--redis', '--token', '--concurrency', '--max-batch', '--max-queued'], []);
  const redis = values['--redis'];
  if (redis !== undefined && !/^rediss?:\/\//.test(redis)) throw new UsageError(`--redis must be a URL such as redis://127.0.0.1:6379, got ${redis}`);
  const dir = values['--dir'] ?? 'runs';
  let app;
  try {
    app = await serve({
      host: values['--host'], port: integerFlag(values, '--port', 0), dir, redis, token: values['--token'],
      concurrency: integerFlag(values, '--concurrency', 1), work: !switches.has('--no-work'), dataRoots,
      maxBatch: integerFlag(values, '--max-batch', 1), maxQueued: integerFlag(values, '--max-queued', 1),
      // Only what goes wrong: a line per request would drown the terminal.
      logger: { level: 'warn' },
    });
  } catch (error) {
    // A refused option (a token missing or too short, a data root that is not there) is a misuse.
    if (error instanceof RangeError) throw new UsageError(error.message.replace(/^serve: /, ''));
    throw error;
  }
  const address = app.server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  console.log(`normnet serve: http://${host}:${address.port}/ (jobs in ${redis ? `BullMQ on ${redis}, run directories in ` : ''}${resolve(dir)}, pid ${process.pid})`);
  const signal = await new Promise<NodeJS.Signals>((done) => {
    process.once('SIGINT', () => done('SIGINT'));
    process.once('SIGTERM', () => done('SIGTERM'));
  });
  console.log(`normnet serve: ${signal}: closing; running jobs checkpoint and go back to the queue`);
  await app.close();
  return 0;
}
