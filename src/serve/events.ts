/**
 * The jobs' events as the events route streams them: `progress`, `epoch` and `status`, each logged per job in
 * a bounded ring (the last 256) as it happens, and resumable. An event's id is `BOOT.SEQ.EPOCHS`: this server
 * process, the event's place in its job's log, and how many epochs a client has once it has it. A client that
 * reconnects with `Last-Event-ID` gets
 *   1. the epochs it lacks, from the job's history (on disk, so these survive a ring that moved on or a
 *      restarted server), then
 *   2. the logged events after SEQ when the ring still holds them all (same BOOT), else the job's status and
 *      latest progress, then
 *   3. the events as they come.
 * A new client (no id) gets every epoch so far, the status and the progress: enough to draw the charts. The
 * stream ends after the job's final status. A finished job's ring is dropped: its history says everything.
 */
import { randomBytes } from 'node:crypto';
import type { Job } from '../jobs/job.js';
import { isTerminal } from '../jobs/store.js';
import type { SseStream } from './sse.js';

type EventType = 'progress' | 'epoch' | 'status';

interface LoggedEvent {
  seq: number;
  type: EventType;
  data: unknown;
  /** The job's epochs in its history once this event happened. */
  epochs: number;
}

interface JobLog {
  seq: number;
  ring: LoggedEvent[];
  listeners: Set<(event: LoggedEvent) => void>;
}

const RING = 256;

const statusData = (job: Job) => ({ status: job.status, attempts: job.attempts, ...(job.error !== undefined ? { error: job.error } : {}) });

export class JobEvents {
  /** Tells this process's ids from a previous server's, whose sequence numbers mean nothing here. */
  private readonly boot = randomBytes(4).toString('hex');
  private readonly logs = new Map<string, JobLog>();

  /** Starts logging a job's events (once per job; every route that meets a job calls it). */
  follow(job: Job): void {
    if (this.logs.has(job.id)) return;
    const log: JobLog = { seq: 0, ring: [], listeners: new Set() };
    this.logs.set(job.id, log);
    const add = (type: EventType, data: unknown) => {
      const event = { seq: ++log.seq, type, data, epochs: job.history.length };
      log.ring.push(event);
      if (log.ring.length > RING) log.ring.shift();
      for (const listener of log.listeners) listener(event);
      if (type === 'status' && isTerminal(job.status)) log.ring = [];
    };
    job.on('progress', (progress) => add('progress', progress));
    job.on('epoch', (record) => add('epoch', record));
    job.on('status', () => add('status', statusData(job)));
  }

  /** Streams `job`'s events to `stream`, resuming after `lastEventId` (see the top of this file). */
  stream(job: Job, lastEventId: string | undefined, stream: SseStream): void {
    this.follow(job);
    const log = this.logs.get(job.id)!;
    const last = this.parse(lastEventId);
    const replayable = last !== undefined && last.seq <= log.seq && (log.ring.length === 0 ? last.seq === log.seq : last.seq >= log.ring[0].seq - 1);
    const from = replayable ? last.seq : log.seq;
    const id = (seq: number, epochs: number) => `${this.boot}.${seq}.${epochs}`;
    let sent = Math.min(last?.epochs ?? 0, job.history.length);
    for (; sent < job.history.length; sent++) stream.send(id(from, sent + 1), 'epoch', job.history[sent]);
    const emit = (event: LoggedEvent) => {
      if (event.type === 'epoch') {
        if (event.epochs <= sent) return;
        sent = event.epochs;
      }
      stream.send(id(event.seq, Math.max(event.epochs, sent)), event.type, event.data);
      if (event.type === 'status' && isTerminal(job.status)) stream.end();
    };
    if (replayable) {
      for (const event of log.ring) if (event.seq > from) emit(event);
    } else {
      stream.send(id(from, sent), 'status', statusData(job));
      if (job.status === 'running' && job.progress) stream.send(id(from, sent), 'progress', job.progress);
    }
    if (isTerminal(job.status)) {
      stream.end();
      return;
    }
    log.listeners.add(emit);
    stream.onClose(() => log.listeners.delete(emit));
  }

  /**
   * A Last-Event-ID's position: undefined when absent or malformed; an earlier server's has seq Infinity (its
   * events cannot be replayed here, its epoch count still holds).
   */
  private parse(lastEventId: string | undefined): { seq: number; epochs: number } | undefined {
    const match = /^([0-9a-f]{8})\.(\d{1,15})\.(\d{1,15})$/.exec(lastEventId ?? '');
    if (!match) return undefined;
    const epochs = Number(match[3]);
    return match[1] === this.boot ? { seq: Number(match[2]), epochs } : { seq: Infinity, epochs };
  }
}
