/**
 * What `normnet train` shows while it runs: on a terminal, a progress bar per epoch redrawn in place on stderr
 * (batches, loss, samples/s, ETA); otherwise one plain line per epoch; with --json, one JSON object per epoch
 * on stdout and nothing else there.
 */
import type { BatchInfo, EpochRecord } from '../train/trainer.js';

export interface Progress {
  batch(info: BatchInfo): void;
  epoch(record: EpochRecord, epochs: number): void;
  message(text: string): void;
}

const percent = (v: number | undefined) => (v === undefined ? '-' : `${(100 * v).toFixed(2)}%`);

export function epochLine(r: EpochRecord, epochs: number): string {
  const test = r.testAccuracy === undefined ? '' : `, test loss ${r.testLoss!.toFixed(4)}, test accuracy ${percent(r.testAccuracy)}`;
  return `epoch ${r.epoch}/${epochs}: train loss ${r.trainLoss.toFixed(4)}, train accuracy ${percent(r.trainAccuracy)}${test}, ${r.seconds.toFixed(1)} s, ${Math.round(r.samplesPerSecond)} samples/s`;
}

export function createProgress(mode: { json: boolean; tty: boolean }): Progress {
  let lastDraw = 0;
  return {
    batch(info) {
      if (!mode.tty || mode.json) return;
      const now = performance.now();
      if (now - lastDraw < 100 && info.batch !== info.batches) return;
      lastDraw = now;
      const width = 24;
      const filled = Math.round((width * info.batch) / info.batches);
      const eta = (info.seconds / info.batch) * (info.batches - info.batch);
      process.stderr.write(`\r\x1b[2Kepoch ${info.epoch} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${info.batch}/${info.batches} ` +
        `loss ${info.loss.toFixed(4)}  ${Math.round(info.samplesPerSecond)} samples/s  ETA ${eta.toFixed(0)} s`);
    },
    epoch(record, epochs) {
      if (mode.json) {
        process.stdout.write(`${JSON.stringify(record)}\n`);
        return;
      }
      if (mode.tty) process.stderr.write('\r\x1b[2K');
      console.log(epochLine(record, epochs));
    },
    message(text) {
      if (mode.tty && !mode.json) process.stderr.write('\r\x1b[2K');
      (mode.json ? console.error : console.log)(text);
    },
  };
}
