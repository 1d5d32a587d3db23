/**
 * `serve(options)`: the training service, a Fastify server over a JobQueue (embedded in `dir` by default, or
 * BullMQ with `redis`) with the HTTP API (api.ts) and the dashboard (dashboard.ts). It listens on 127.0.0.1:8080
 * unless told otherwise, and refuses any other address without a token; `listen: false` returns the server
 * unstarted, to mount or `inject()` into. Closing it (`app.close()`) ends the event streams and closes the
 * queue: running jobs checkpoint and go back to the queue, and resume when a queue opens its directory again.
 * Fastify is loaded when a server starts, so `import 'normnet'` does not pay for it.
 */
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import { JobQueue } from '../jobs/queue.js';
import { checkPath, type PathLike } from '../util/path.js';
import { json, show } from '../util/show.js';
import { apiRoutes } from './api.js';
import { isLoopback, MIN_TOKEN_LENGTH } from './auth.js';
import { dashboardRoutes } from './dashboard.js';
import { DataRoots } from './data-roots.js';
import { errorHandler, formatSchemaError, HttpError } from './errors.js';
import { JobEvents } from './events.js';
import { JobList } from './job-list.js';
import { Metrics } from './metrics.js';
import { Predictor } from './predict.js';
import { SseStreams } from './sse.js';

export interface ServeOptions {
  /** The address to listen on (default 127.0.0.1); any but a loopback one needs `token`. */
  host?: string;
  /** Default 8080; 0 picks a free port (`app.server.address()` tells which). */
  port?: number;
  /** Listen (default true), or return the server unstarted. */
  listen?: boolean;
  /** The queue's directory: job records and run directories (default 'runs'). */
  dir?: PathLike;
  /** A Redis URL: the BullMQ queue there instead of the embedded one. */
  redis?: string;
  /** Jobs trained at once by this process (default 1). */
  concurrency?: number;
  /** Train jobs in this process (default true); false only submits and follows, for workers elsewhere. */
  work?: boolean;
  /** Every API request must carry `Authorization: Bearer <token>` (default: $NORMNET_TOKEN; at least 16 characters). */
  token?: string;
  /** Directories a config may name data in (`data`, `testData`, `dataDir`); default none: built-in datasets only. */
  dataRoots?: readonly PathLike[];
  /** Rows a predict request may hold (default 1024). */
  maxBatch?: number;
  /** Queued jobs beyond which submissions get 429 (default 100). */
  maxQueued?: number;
  /** Open event streams beyond which new ones get 503 (default 1000). */
  maxStreams?: number;
  /** The largest model footprint a job may have, bytes (default 1 GiB; see footprint.ts). */
  maxModelBytes?: number;
  /** Request bodies, bytes (default 1 MiB); predict takes up to 24 bytes a value of maxBatch MNIST rows more. */
  bodyLimit?: number;
  /** Fastify's logger option (default false). */
  logger?: FastifyServerOptions['logger'];
}

const MiB = 2 ** 20;
const CLOSE_GRACE_MS = 5000;

function positive(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`serve: ${name} must be an integer >= 1, got ${json(value)}`);
  return value;
}

export async function serve(options: ServeOptions = {}): Promise<FastifyInstance> {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw new TypeError(`serve: options must be an object, got ${show(options)}`);
  const { host = '127.0.0.1', port = 8080, listen = true, concurrency = 1, work = true } = options;
  const dir = checkPath(options.dir === undefined ? 'runs' : options.dir, 'serve: dir');
  const dataRoots = options.dataRoots ?? [];
  if (!Array.isArray(dataRoots)) throw new TypeError(`serve: dataRoots must be an array of directories, got ${typeof dataRoots}`);
  const rootDirs = dataRoots.map((root, i) => checkPath(root, `serve: dataRoots[${i}]`));
  const maxBatch = positive('maxBatch', options.maxBatch ?? 1024);
  const maxQueued = positive('maxQueued', options.maxQueued ?? 100);
  const maxStreams = positive('maxStreams', options.maxStreams ?? 1000);
  const maxModelBytes = positive('maxModelBytes', options.maxModelBytes ?? 1024 * MiB);
  const bodyLimit = positive('bodyLimit', options.bodyLimit ?? MiB);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`serve: port must be an integer in [0, 65535], got ${json(port)}`);
  const token = options.token ?? (process.env.NORMNET_TOKEN || undefined);
  if (token !== undefined && (typeof token !== 'string' || token.length < MIN_TOKEN_LENGTH)) throw new RangeError(`serve: a token must be a string of at least ${MIN_TOKEN_LENGTH} characters (e.g. openssl rand -hex 32)`);
  if (listen && !isLoopback(host) && token === undefined) {
    throw new RangeError(`serve: refusing to listen on ${host} without a token: anyone who reaches it could run jobs; give --token (or NORMNET_TOKEN), or listen on 127.0.0.1`);
  }
  const roots = new DataRoots(rootDirs);

  const { default: Fastify } = await import('fastify');
  const app = Fastify({
    bodyLimit,
    logger: options.logger ?? false,
    // JSON as it is sent: no "3" taken for 3, no unknown key silently dropped (Fastify's defaults do both).
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false } },
    schemaErrorFormatter: formatSchemaError,
    // A request must arrive whole within 30 s: a slow sender cannot hold a connection open for ever.
    requestTimeout: 30_000,
  });
  app.setErrorHandler(errorHandler);
  // The page's files are read now, before a queue starts: a package missing them fails here, holding nothing.
  await app.register(dashboardRoutes);

  const queue = new JobQueue({ dir, redis: options.redis, concurrency, work });
  const events = new JobEvents();
  const streams = new SseStreams(maxStreams);
  const metrics = new Metrics();
  queue.on('status', (job) => events.follow(job));
  // Event streams would hold the server open: they end first. Requests in flight get a few seconds (a client
  // that stops reading a model download would otherwise hold the close for ever); then the queue stops,
  // checkpointing its jobs.
  app.addHook('preClose', async () => {
    streams.close();
    setTimeout(() => app.server.closeAllConnections(), CLOSE_GRACE_MS).unref();
  });
  app.addHook('onClose', async () => {
    metrics.close();
    await queue.close();
  });

  if (token === undefined) {
    // Without a token only this machine may reach the server, and a web page it visits must not either: a
    // DNS-rebinding page reaches 127.0.0.1 under its own host name, which this refuses.
    app.addHook('onRequest', async (request) => {
      if (!isLoopback(request.hostname)) throw new HttpError(403, `host ${request.hostname} is not this machine's loopback address; use a token to serve other names`);
    });
  }
  app.get('/healthz', { schema: { response: { 200: { type: 'object', properties: { status: { type: 'string' } } } } } }, async () => ({ status: 'ok' }));
  await app.register(apiRoutes, {
    queue, jobs: new JobList(queue), events, streams, metrics, token, maxQueued, maxBatch,
    policy: { roots, maxModelBytes },
    predictor: new Predictor(maxBatch),
    predictBodyLimit: bodyLimit + maxBatch * 784 * 24,
  });

  if (listen) {
    try {
      await app.listen({ host, port });
    } catch (error) {
      await app.close();
      throw error;
    }
  }
  return app;
}
