/**
 * How the service answers a request it refuses: always JSON `{ statusCode, error, message, field? }`, where
 * `field` is the body, query or params key at fault (the dashboard puts the message beside that input). A
 * schema failure (Fastify's validation), a ConfigError from resolveConfig and the server's own policy (data
 * roots, limits) all end up in this one shape. Failures of the server's own code are logged and answered
 * without their details.
 */
import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyReply, FastifyRequest, FastifySchemaValidationError } from 'fastify';

/** A refusal with its HTTP status and, when one is to blame, the request's field. */
export class HttpError extends Error {
  override name = 'HttpError';
  constructor(readonly statusCode: number, message: string, readonly field?: string) {
    super(message);
  }
}

/** The reply schema of every 4xx and 5xx answer. */
export const ERROR_SCHEMA = {
  type: 'object',
  properties: {
    statusCode: { type: 'integer' },
    error: { type: 'string' },
    message: { type: 'string' },
    field: { type: 'string' },
  },
  required: ['statusCode', 'error', 'message'],
} as const;

/** Why a key is not accepted even though train --config takes it. */
const REFUSED_KEYS: Record<string, string> = { out: 'the server decides run directories' };

/**
 * Fastify's schemaErrorFormatter: one message naming the field, e.g. `body/epochs must be >= 1` or
 * `body: unknown key "epoch"` (Ajv stops at the first error).
 */
export function formatSchemaError(errors: FastifySchemaValidationError[], dataVar: string): HttpError {
  const e = errors[0];
  const params = e.params as { additionalProperty?: string; missingProperty?: string };
  const path = e.instancePath.split('/').filter(Boolean);
  if (params.additionalProperty !== undefined) {
    const key = params.additionalProperty;
    const why = REFUSED_KEYS[key] ? `"${key}" is not accepted: ${REFUSED_KEYS[key]}` : `unknown key "${key}"`;
    return new HttpError(400, `${[dataVar, ...path].join('/')}: ${why}`, path[0] ?? key);
  }
  if (params.missingProperty !== undefined) {
    return new HttpError(400, `${[dataVar, ...path].join('/')}: "${params.missingProperty}" is required`, path[0] ?? params.missingProperty);
  }
  return new HttpError(400, `${[dataVar, ...path].join('/')} ${e.message ?? 'is invalid'}`, path[0]);
}

/** The key a ConfigError's message names (`body: "epochs": must be >= 1`, `body: unknown key "x"`). */
export function configErrorField(message: string): string | undefined {
  return /"([A-Za-z]\w*)"/.exec(message)?.[1];
}

export function errorHandler(error: FastifyError | HttpError, request: FastifyRequest, reply: FastifyReply): void {
  const status = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 600 ? error.statusCode : 500;
  // A refusal of ours keeps its message; a failure of the server's own code does not show its details.
  const internal = status >= 500 && !(error instanceof HttpError);
  if (internal) request.log.error({ err: error }, 'request failed');
  const field = error instanceof HttpError ? error.field : undefined;
  void reply.code(status).send({
    statusCode: status,
    error: STATUS_CODES[status] ?? 'Error',
    message: internal ? 'internal server error' : error.message,
    ...(field !== undefined ? { field } : {}),
  });
}
