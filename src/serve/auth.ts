/**
 * Who may use the API. The server binds the loopback address by default, where only this machine's users
 * reach it; on any other address it needs a token, and then every API request must carry
 * `Authorization: Bearer <token>`. EventSource cannot send headers, so the events route alone also takes the
 * token as `?access_token=` (RFC 6750's name). Tokens are compared in constant time (as SHA-256 digests, so
 * the lengths match too and the comparison leaks nothing of either).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from './errors.js';

/** Shorter tokens are refused: a server on the network should not be one guess away. */
export const MIN_TOKEN_LENGTH = 16;

/** 127.0.0.0/8, ::1 and localhost: addresses only this machine can reach. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host);
}

const digest = (text: string) => createHash('sha256').update(text).digest();

/** Routes that accept the token in their query set this in their route config. */
export interface AuthRouteConfig {
  queryToken?: boolean;
}

/** An onRequest hook requiring `token`: a 401 (before any body is read) when it is missing or wrong. */
export function bearerAuth(token: string) {
  const expected = digest(token);
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const header = request.headers.authorization;
    let given: string | undefined;
    if (typeof header === 'string' && header.startsWith('Bearer ')) given = header.slice(7).trim();
    else if ((request.routeOptions.config as AuthRouteConfig).queryToken) given = (request.query as { access_token?: string })?.access_token;
    if (given !== undefined && timingSafeEqual(digest(given), expected)) return;
    void reply.header('www-authenticate', 'Bearer realm="normnet"');
    throw new HttpError(401, given === undefined ? 'this server needs a token: Authorization: Bearer <token>' : 'wrong token');
  };
}
