/**
 * The HTTP API under /api (and /metrics), as one Fastify plugin: with a token its onRequest hook guards every
 * route here, and nothing else. Each route declares the schemas of its params, query, body and replies
 * (schemas.ts), so a bad request is refused, naming its field, before a handler runs.
 *
 *   POST   /api/jobs                 a run config (+ name, priority)       201 { id }
 *   GET    /api/jobs?status=S        the jobs, oldest first                200 [summary]
 *   GET    /api/jobs/:id             config, status, history, progress     200
 *   DELETE /api/jobs/:id             cancel                                202 { id, status }
 *   GET    /api/jobs/:id/events      Server-Sent Events (events.ts)
 *   GET    /api/jobs/:id/model       the checkpoint's model.safetensors
 *   GET    /api/jobs/:id/report      its report.html
 *   POST   /api/jobs/:id/predict     { inputs, shape? }                    200 { outputs, classes }
 *   GET    /metrics                  Prometheus text
 */
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Job } from '../jobs/job.js';
import type { JobQueue } from '../jobs/queue.js';
import { isTerminal, type JobStatus } from '../jobs/store.js';
import { bearerAuth } from './auth.js';
import { HttpError } from './errors.js';
import type { JobEvents } from './events.js';
import type { JobList } from './job-list.js';
import type { Metrics } from './metrics.js';
import { checkSubmission, type Policy } from './policy.js';
import type { PredictRequest, Predictor } from './predict.js';
import {
  CANCEL_REPLY, CREATED_REPLY, EVENTS_QUERY, JOB_DETAIL, JOB_PARAMS, LIST_QUERY, LIST_REPLY, PREDICT_REPLY, predictBody, replies, SUBMIT_BODY,
} from './schemas.js';
import type { SseStreams } from './sse.js';

export interface ApiContext {
  queue: JobQueue;
  jobs: JobList;
  events: JobEvents;
  streams: SseStreams;
  predictor: Predictor;
  metrics: Metrics;
  policy: Policy;
  token?: string;
  maxQueued: number;
  maxBatch: number;
  predictBodyLimit: number;
}

type IdParams = { id: string };

/** What the API shows of a job: never the server's paths (its run directory, the config's `out`). */
function jobView(job: Job) {
  const { out: _out, ...config } = job.config;
  return {
    id: job.id, name: job.name, priority: job.priority, status: job.status, submittedAt: job.submittedAt, startedAt: job.startedAt,
    finishedAt: job.finishedAt, attempts: job.attempts, error: job.error, experiment: job.experiment?.name,
    progress: job.status === 'running' ? job.progress : undefined, config,
  };
}

export async function apiRoutes(api: FastifyInstance, context: ApiContext): Promise<void> {
  const { queue, jobs, events, streams, predictor, metrics, policy } = context;
  if (context.token !== undefined) api.addHook('onRequest', bearerAuth(context.token));

  const find = async (id: string): Promise<Job> => {
    const job = await queue.get(id);
    if (!job) throw new HttpError(404, `no job ${id}`);
    events.follow(job);
    return job;
  };

  // Submissions one at a time, so concurrent requests cannot all pass the queued-jobs check together.
  let submitting: Promise<unknown> = Promise.resolve();
  api.post<{ Body: Record<string, unknown> }>('/api/jobs', { schema: { body: SUBMIT_BODY, response: replies({ 201: CREATED_REPLY }) } }, async (request, reply) => {
    const { name, priority, ...config } = request.body;
    const checked = checkSubmission(config, policy);
    const submit = async () => {
      const queued = (await jobs.list('queued')).length;
      if (queued >= context.maxQueued) {
        void reply.header('retry-after', '60');
        throw new HttpError(429, `${queued} jobs are queued already, the most this server takes (--max-queued); retry when some have started`);
      }
      const job = await queue.submit(checked, { name: name as string | undefined, priority: priority as number | undefined });
      jobs.changed();
      return job;
    };
    const next = submitting.then(submit, submit);
    submitting = next.catch(() => {});
    const job = await next;
    events.follow(job);
    return reply.code(201).send({ id: job.id });
  });

  api.get<{ Querystring: { status?: JobStatus } }>('/api/jobs', { schema: { querystring: LIST_QUERY, response: replies({ 200: LIST_REPLY }) } }, async (request) => {
    return (await jobs.list(request.query.status)).map((job) => ({ ...jobView(job), epochsDone: job.history.length, last: job.history.at(-1) }));
  });

  api.get<{ Params: IdParams }>('/api/jobs/:id', { schema: { params: JOB_PARAMS, response: replies({ 200: JOB_DETAIL }) } }, async (request) => {
    const job = await find(request.params.id);
    return { ...jobView(job), history: job.history };
  });

  api.delete<{ Params: IdParams }>('/api/jobs/:id', { schema: { params: JOB_PARAMS, response: replies({ 202: CANCEL_REPLY }) } }, async (request, reply) => {
    const job = await find(request.params.id);
    if (isTerminal(job.status)) throw new HttpError(409, `job ${job.id} is already ${job.status}`);
    await job.cancel();
    return reply.code(202).send({ id: job.id, status: job.status });
  });

  api.get<{ Params: IdParams }>('/api/jobs/:id/events', { schema: { params: JOB_PARAMS, querystring: EVENTS_QUERY, response: replies({}) }, config: { queryToken: true } }, async (request, reply) => {
    const job = await find(request.params.id);
    const stream = streams.open(reply.raw);
    reply.hijack();
    const lastEventId = request.headers['last-event-id'];
    events.stream(job, typeof lastEventId === 'string' ? lastEventId : undefined, stream);
  });

  api.get<{ Params: IdParams }>('/api/jobs/:id/model', { schema: { params: JOB_PARAMS, response: replies({}) } }, async (request, reply) => {
    const job = await find(request.params.id);
    // Opened, not just named: a running job may rename its checkpoint while the file is sent, the open file stays.
    const file = await open(join(job.dir, 'checkpoint', 'model.safetensors')).catch(() => open(join(job.dir, 'checkpoint.old', 'model.safetensors'))).catch(() => undefined);
    if (!file) throw new HttpError(409, `job ${job.id} has no checkpoint yet (it is ${job.status})`);
    const { size } = await file.stat();
    return reply
      .header('content-type', 'application/octet-stream')
      .header('content-length', size)
      .header('content-disposition', `attachment; filename="${job.id}.safetensors"`)
      .send(file.createReadStream());
  });

  api.get<{ Params: IdParams }>('/api/jobs/:id/report', { schema: { params: JOB_PARAMS, response: replies({}) } }, async (request, reply) => {
    const job = await find(request.params.id);
    const html = await readFile(join(job.dir, 'report.html')).catch(() => undefined);
    if (!html) throw new HttpError(409, `job ${job.id} has no report yet (it is ${job.status}; a completed job has one)`);
    // The report is ours and escapes what it shows; a sandbox still keeps it from ever running script on this origin.
    return reply
      .header('content-type', 'text/html; charset=utf-8')
      .header('content-security-policy', "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'")
      .send(html);
  });

  api.post<{ Params: IdParams; Body: PredictRequest }>('/api/jobs/:id/predict', {
    bodyLimit: context.predictBodyLimit,
    schema: { params: JOB_PARAMS, body: predictBody(context.maxBatch), response: replies({ 200: PREDICT_REPLY }) },
  }, async (request) => predictor.predict(await find(request.params.id), request.body));

  api.get('/metrics', { schema: { response: replies({}) } }, async (_request, reply) => {
    const text = metrics.text(await jobs.list(), streams.size);
    return reply.header('content-type', 'text/plain; version=0.0.4; charset=utf-8').send(text);
  });
}
