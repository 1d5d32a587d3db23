/**
 * GET /metrics in Prometheus's text format (version 0.0.4): jobs by status, the training speed of each running
 * job, the open event streams, and this process's event-loop delay (perf_hooks.monitorEventLoopDelay) as a
 * summary over the last minute, since that is what a slow answer of the server would come from.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { Job } from '../jobs/job.js';
import { JOB_STATUSES } from '../jobs/store.js';

/** The delay histogram starts afresh every this many ms, so the quantiles describe the present. */
const WINDOW_MS = 60_000;
/**
 * The histogram's timer period, ms. It records the time between the timer's runs, the period included, so
 * the period is taken off: what is left is how late the loop ran it.
 */
const RESOLUTION_MS = 10;

export class Metrics {
  private readonly delay: IntervalHistogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  private readonly timer = setInterval(() => this.delay.reset(), WINDOW_MS).unref();

  constructor() {
    this.delay.enable();
  }

  text(jobs: readonly Job[], streams: number): string {
    const lines: string[] = [];
    const metric = (name: string, type: string, help: string, samples: [string, number][]) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [labels, value] of samples) lines.push(`${name}${labels} ${Number.isFinite(value) ? value : 'NaN'}`);
    };
    metric('normnet_jobs', 'gauge', 'Jobs of the queue by status.', JOB_STATUSES.map((s) => [`{status="${s}"}`, jobs.filter((j) => j.status === s).length]));
    const running = jobs.filter((j) => j.status === 'running' && j.progress);
    metric('normnet_job_samples_per_second', 'gauge', 'Training speed of each running job, in samples per second.', running.map((j) => [`{job="${j.id}"}`, j.progress!.samplesPerSecond]));
    metric('normnet_event_streams', 'gauge', 'Open Server-Sent Events streams.', [['', streams]]);
    const seconds = (ns: number) => Math.max(0, ns / 1e9 - RESOLUTION_MS / 1000);
    const count = this.delay.count;
    metric('normnet_event_loop_delay_seconds', 'summary', `Event-loop delay of the server process over the last ${WINDOW_MS / 1000} s.`, [
      ...[0.5, 0.9, 0.99].map((q): [string, number] => [`{quantile="${q}"}`, count ? seconds(this.delay.percentile(q * 100)) : 0]),
    ]);
    lines.push(`normnet_event_loop_delay_seconds_sum ${count ? seconds(this.delay.mean) * count : 0}`, `normnet_event_loop_delay_seconds_count ${count}`);
    metric('normnet_event_loop_delay_max_seconds', 'gauge', `Largest event-loop delay over the last ${WINDOW_MS / 1000} s.`, [['', count ? seconds(this.delay.max) : 0]]);
    return `${lines.join('\n')}\n`;
  }

  close(): void {
    clearInterval(this.timer);
    this.delay.disable();
  }
}
