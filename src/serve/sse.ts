/**
 * Server-Sent Events over a raw Node response (the route hijacks it from Fastify): the stream's headers, one
 * `id:`/`event:`/`data:` block per event, and the set of open streams, which is capped (a client opening
 * thousands gets 503s, not thousands of sockets held), kept alive by a comment every 15 s (proxies close idle
 * connections), and ended when the server closes. A client that stops reading is cut off once 1 MiB waits for
 * it, so a slow reader cannot make the server buffer without bound.
 */
import type { ServerResponse } from 'node:http';
import { HttpError } from './errors.js';

const HEARTBEAT_MS = 15_000;
const MAX_BUFFERED = 2 ** 20;
/** How long EventSource waits before reconnecting, ms. */
const RETRY_MS = 2000;

export class SseStream {
  private open = true;

  constructor(private readonly res: ServerResponse) {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      // nginx and the like would otherwise hold the events back in their buffers.
      'x-accel-buffering': 'no',
    });
    res.write(`retry: ${RETRY_MS}\n\n`);
    res.on('close', () => {
      this.open = false;
    });
  }

  get closed(): boolean {
    return !this.open;
  }

  send(id: string, event: string, data: unknown): void {
    this.write(`id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  comment(text: string): void {
    this.write(`: ${text}\n\n`);
  }

  end(): void {
    if (!this.open) return;
    this.open = false;
    this.res.end();
  }

  onClose(listener: () => void): void {
    this.res.on('close', listener);
  }

  private write(text: string): void {
    if (!this.open) return;
    if (this.res.writableLength > MAX_BUFFERED) {
      this.open = false;
      this.res.destroy();
      return;
    }
    this.res.write(text);
  }
}

export class SseStreams {
  private readonly streams = new Set<SseStream>();
  private readonly timer = setInterval(() => {
    for (const stream of this.streams) stream.comment('ping');
  }, HEARTBEAT_MS).unref();

  constructor(private readonly max: number) {}

  get size(): number {
    return this.streams.size;
  }

  /** A new stream on `res`; a 503 HttpError when `max` are open already. */
  open(res: ServerResponse): SseStream {
    if (this.streams.size >= this.max) throw new HttpError(503, `too many event streams open (${this.max}); close some and retry`);
    const stream = new SseStream(res);
    this.streams.add(stream);
    stream.onClose(() => this.streams.delete(stream));
    return stream;
  }

  close(): void {
    clearInterval(this.timer);
    for (const stream of this.streams) stream.end();
  }
}
