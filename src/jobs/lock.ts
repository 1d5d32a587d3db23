/**
 * Which process runs an embedded queue's jobs: the JobQueue holding `DIR/.queue.lock`, a file naming its host,
 * pid and a token of its own. Others on the same directory only submit, list and cancel, and take the lock
 * over once its holder is gone: `kill -9` leaves the file behind, but a pid that no longer runs on this host
 * frees it. The file is created complete and atomically (written aside, then hard-linked into place, which
 * fails if it exists); a stale one is replaced by a rename, and where several processes replace it at once the
 * last rename wins, which each reads back before it runs anything. The lock is for one host's processes:
 * queues on several machines use Redis.
 */
import { hostname } from 'node:os';
import { linkSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

interface Owner {
  host: string;
  pid: number;
  token: string;
}

const SETTLE_MS = 50;

export class DirLock {
  private readonly path: string;
  private readonly me: Owner = { host: hostname(), pid: process.pid, token: Math.random().toString(36).slice(2) };

  constructor(dir: string) {
    this.path = join(dir, '.queue.lock');
  }

  /** Takes the lock if it is free or stale; true when this queue holds it. */
  tryAcquire(): boolean {
    if (this.holds()) return true;
    const temp = `${this.path}.${this.me.pid}-${this.me.token}`;
    writeFileSync(temp, JSON.stringify(this.me));
    try {
      try {
        linkSync(temp, this.path);
        return true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const owner = this.owner();
      if (owner && alive(owner)) return false;
      renameSync(temp, this.path);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, SETTLE_MS);
      return this.holds();
    } finally {
      rmSync(temp, { force: true });
    }
  }

  /** The lock file names this queue. */
  holds(): boolean {
    const owner = this.owner();
    return owner !== undefined && owner.host === this.me.host && owner.pid === this.me.pid && owner.token === this.me.token;
  }

  release(): void {
    if (this.holds()) rmSync(this.path, { force: true });
  }

  private owner(): Owner | undefined {
    try {
      return JSON.parse(readFileSync(this.path, 'utf8')) as Owner;
    } catch {
      return undefined;
    }
  }
}

/** Whether the lock's owner may still run: another host's cannot be checked, so it counts as alive. */
function alive(owner: Owner): boolean {
  if (owner.host !== hostname()) return true;
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
