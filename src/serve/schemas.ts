/**
 * The JSON Schemas of the API's bodies, params, queries and replies. The job body is generated from the run
 * config's option table (TRAIN_OPTIONS), the one that drives `normnet train --config`, so the two cannot drift:
 * the schema gives each key its JSON type and range, and resolveConfig then validates the values exactly as the
 * CLI does. Unlike a config file, the API wants real JSON types (3, not "3"; [32, 32], not "32,32").
 */
import { JOB_STATUSES } from '../jobs/store.js';
import { TRAIN_OPTIONS, type OptionSpec } from '../train/config.js';
import { ERROR_SCHEMA } from './errors.js';

/** Keys a submitted config may not hold (errors.ts says why). */
const SERVER_KEYS = ['out'];

/** Generous bounds on what the option table leaves open, so no request can make the server hold a giant value. */
const MAX_STRING = 4096;
const MAX_LIST = 256;

function optionSchema(spec: OptionSpec): Record<string, unknown> {
  const t = spec.type;
  const description = spec.help;
  switch (t.kind) {
    case 'int':
      return { type: 'integer', minimum: t.min, ...(t.max !== undefined ? { maximum: t.max } : {}), description };
    case 'number':
      return { type: 'number', ...(t.exclusiveMin ? { exclusiveMinimum: t.min } : { minimum: t.min }), ...(t.max !== undefined ? { maximum: t.max } : {}), description };
    case 'boolean':
      return { type: 'boolean', description };
    case 'string':
      return { type: 'string', minLength: 1, maxLength: MAX_STRING, description };
    case 'enum':
      return { type: 'string', enum: [...t.values], description };
    case 'ints':
      return { type: 'array', minItems: 1, maxItems: MAX_LIST, items: { type: 'integer', minimum: 1 }, description };
    case 'init':
      // A name or a std: which names, resolveConfig says.
      return { anyOf: [{ type: 'string' }, { type: 'number' }], description };
    case 'layers':
      // A layer's options are numbers, booleans or null (models.ts checks which); nothing nested gets in.
      return {
        type: 'array', minItems: 1, maxItems: MAX_LIST, description,
        items: {
          type: 'object', required: ['type'], maxProperties: 8,
          properties: { type: { type: 'string', maxLength: 32 } },
          additionalProperties: { anyOf: [{ type: 'number' }, { type: 'boolean' }, { type: 'null' }] },
        },
      };
  }
}

const configOptions = TRAIN_OPTIONS.filter((o) => !SERVER_KEYS.includes(o.key));

/** The config keys as a reply shows them (open-ended layer objects kept whole). */
const CONFIG_SCHEMA = {
  type: 'object',
  properties: Object.fromEntries(configOptions.map((o) => [o.key, o.type.kind === 'layers' ? { type: 'array', items: { type: 'object', additionalProperties: true } } : optionSchema(o)])),
};

/** POST /api/jobs: the keys of `normnet train --config` (but `out`), plus the job's name and priority. */
export const SUBMIT_BODY = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ...Object.fromEntries(configOptions.map((o) => [o.key, optionSchema(o)])),
    name: { type: 'string', minLength: 1, maxLength: 200, description: 'a name to show in job lists' },
    priority: { type: 'integer', minimum: 0, maximum: 2 ** 21, description: '0 (the default) runs first, then 1, 2, ...' },
  },
} as const;

/** Ids as newJobId makes them; no dot or slash, so an id can never name a path outside the queue's directory. */
export const JOB_PARAMS = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: { id: { type: 'string', pattern: '^[0-9A-Za-z][0-9A-Za-z_-]{0,63}$' } },
} as const;

export const LIST_QUERY = {
  type: 'object',
  additionalProperties: false,
  properties: { status: { type: 'string', enum: [...JOB_STATUSES] } },
} as const;

/** The events route alone may carry the token in its query: EventSource cannot send headers. */
export const EVENTS_QUERY = {
  type: 'object',
  additionalProperties: false,
  properties: { access_token: { type: 'string', maxLength: 1024 } },
} as const;

const EPOCH_SCHEMA = {
  type: 'object',
  properties: {
    epoch: { type: 'integer' }, trainLoss: { type: 'number' }, trainAccuracy: { type: 'number' }, testLoss: { type: 'number' },
    testAccuracy: { type: 'number' }, seconds: { type: 'number' }, samplesPerSecond: { type: 'number' },
  },
} as const;

const PROGRESS_SCHEMA = {
  type: 'object',
  properties: {
    epoch: { type: 'integer' }, epochs: { type: 'integer' }, batch: { type: 'integer' }, batches: { type: 'integer' },
    loss: { type: 'number' }, samplesPerSecond: { type: 'number' }, eta: { type: 'number' },
  },
} as const;

/** What every job view holds: the list's rows, and the head of GET /api/jobs/:id. */
const JOB_FIELDS = {
  id: { type: 'string' },
  name: { type: 'string' },
  priority: { type: 'integer' },
  status: { type: 'string', enum: [...JOB_STATUSES] },
  submittedAt: { type: 'number' },
  startedAt: { type: 'number' },
  finishedAt: { type: 'number' },
  attempts: { type: 'integer' },
  error: { type: 'string' },
  /** Set for a configuration of an experiment (queued by `normnet experiment --redis` into the same queue). */
  experiment: { type: 'string' },
  progress: PROGRESS_SCHEMA,
  config: CONFIG_SCHEMA,
} as const;

/** A row of GET /api/jobs: the epochs done and the last one's record instead of the whole history. */
export const JOB_SUMMARY = {
  type: 'object',
  properties: { ...JOB_FIELDS, epochsDone: { type: 'integer' }, last: EPOCH_SCHEMA },
} as const;

export const JOB_DETAIL = {
  type: 'object',
  properties: { ...JOB_FIELDS, history: { type: 'array', items: EPOCH_SCHEMA } },
} as const;

export const LIST_REPLY = { type: 'array', items: JOB_SUMMARY } as const;

export const CREATED_REPLY = { type: 'object', properties: { id: { type: 'string' } } } as const;

export const CANCEL_REPLY = { type: 'object', properties: { id: { type: 'string' }, status: { type: 'string' } } } as const;

/** POST /api/jobs/:id/predict: rows of numbers, or the float32 bytes in base64 with their shape. */
export function predictBody(maxBatch: number) {
  return {
    type: 'object',
    required: ['inputs'],
    additionalProperties: false,
    properties: {
      inputs: {
        anyOf: [
          { type: 'array', minItems: 1, maxItems: maxBatch, items: { type: 'array', minItems: 1, maxItems: 1 << 20, items: { type: 'number' } } },
          { type: 'string', minLength: 1 },
        ],
        description: 'a batch: an array of rows, or the little-endian float32 values in base64 (then shape is required)',
      },
      shape: { type: 'array', minItems: 2, maxItems: 5, items: { type: 'integer', minimum: 1 }, description: '[N, ...sample]: [N, 784] or [N, 1, 28, 28] for MNIST' },
    },
  } as const;
}

export const PREDICT_REPLY = {
  type: 'object',
  properties: {
    outputs: { type: 'array', items: { type: 'array', items: { type: 'number' } } },
    classes: { type: 'array', items: { type: 'integer' } },
  },
} as const;

/** Reply schemas for a route: its success replies plus the error shape for every 4xx and 5xx. */
export function replies(success: Record<number, unknown>): Record<string, unknown> {
  return { ...success, '4xx': ERROR_SCHEMA, '5xx': ERROR_SCHEMA };
}
