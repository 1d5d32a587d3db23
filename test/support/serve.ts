/** What the service tests share: a server on a free loopback port, JSON requests, and a plain SSE reader. */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { serve, type ServeOptions } from '../../dist/serve/index.js';

export interface Server {
  app: FastifyInstance;
  /** http://127.0.0.1:PORT */
  url: string;
  close(): Promise<void>;
}

/** `serve()` on a free port of 127.0.0.1. */
export async function startServer(options: ServeOptions): Promise<Server> {
  const app = await serve({ port: 0, ...options });
  const { port } = app.server.address() as AddressInfo;
  return { app, url: `http://127.0.0.1:${port}`, close: () => app.close() };
}

/** A request's status and parsed JSON body (or text when it is not JSON). */
export async function call(url: string, init: { method?: string; body?: unknown; headers?: Record<string, string>; raw?: string } = {}): Promise<{ status: number; body: any; headers: Headers }> {
  const headers: Record<string, string> = { ...init.headers };
  let body: string | undefined = init.raw;
  if (init.body !== undefined) {
    body = JSON.stringify(init.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(url, { method: init.method ?? (body === undefined ? 'GET' : 'POST'), headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: kept as text
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

export interface SseEvent {
  id?: string;
  event: string;
  data: any;
}

export interface SseReader {
  status: number;
  events: SseEvent[];
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  close(): void;
  /** Resolves once `predicate` holds for the events so far (checked as each arrives). */
  until(predicate: (events: SseEvent[]) => boolean, ms?: number): Promise<void>;
}

/** Reads a Server-Sent Events response with a plain HTTP client, as any program would. */
export function readEvents(url: string, headers: Record<string, string> = {}): Promise<SseReader> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers: { accept: 'text/event-stream', ...headers }, agent: false }, (res: IncomingMessage) => {
      const events: SseEvent[] = [];
      const waiters = new Set<() => void>();
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let end;
        while ((end = buffer.indexOf('\n\n')) !== -1) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const fields: Record<string, string> = {};
          for (const line of block.split('\n')) {
            const colon = line.indexOf(':');
            if (colon > 0) fields[line.slice(0, colon)] = line.slice(colon + 1).trimStart();
          }
          if (fields.data !== undefined) events.push({ id: fields.id, event: fields.event ?? 'message', data: JSON.parse(fields.data) });
        }
        for (const waiter of waiters) waiter();
      });
      const ended = new Promise<void>((done) => res.on('close', () => {
        for (const waiter of waiters) waiter();
        done();
      }));
      resolve({
        status: res.statusCode ?? 0, events, ended,
        close: () => req.destroy(),
        until: (predicate, ms = 60_000) => new Promise<void>((done, fail) => {
          const timer = setTimeout(() => fail(new Error(`timed out; events so far: ${events.map((e) => e.event).join(' ')}`)), ms);
          const check = () => {
            if (predicate(events)) {
              clearTimeout(timer);
              waiters.delete(check);
              done();
            } else if (res.complete || res.destroyed) {
              clearTimeout(timer);
              waiters.delete(check);
              fail(new Error(`the stream ended; events: ${events.map((e) => e.event).join(' ')}`));
            }
          };
          waiters.add(check);
          check();
        }),
      });
    });
    req.on('error', reject);
    req.end();
  });
}
