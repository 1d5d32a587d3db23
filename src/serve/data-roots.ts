/**
 * Data roots: the directories a submitted config may read data from (`--data-root`, repeatable). A path is
 * taken only when it lies inside a root both as written and once every symlink is resolved (realpath), and it
 * may not hold a `..` segment at all; the job then gets the resolved path, so what was checked is what it reads.
 * A path outside the roots is refused before anything under it is looked at; one inside that does not exist is
 * refused too. Without roots no config may name data: only the built-in datasets train.
 */
import { realpathSync, statSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { HttpError } from './errors.js';

interface Root {
  /** As given (absolute). */
  given: string;
  /** With its symlinks resolved. */
  real: string;
}

const inside = (root: string, path: string) => {
  const r = relative(root, path);
  return r === '' || (!r.startsWith(`..${sep}`) && r !== '..' && !isAbsolute(r));
};

export class DataRoots {
  private readonly roots: Root[];

  /** Each root must be an existing directory: a typo should stop the server, not every job later. */
  constructor(dirs: readonly string[]) {
    this.roots = dirs.map((dir) => {
      const given = resolve(dir);
      let real: string;
      try {
        real = realpathSync(given);
      } catch {
        throw new RangeError(`data root ${dir}: no such directory`);
      }
      if (!statSync(real).isDirectory()) throw new RangeError(`data root ${dir}: not a directory`);
      return { given, real };
    });
  }

  get list(): readonly string[] {
    return this.roots.map((r) => r.real);
  }

  /**
   * The real path of `path` (relative paths are taken from the first root), or an HttpError(400) naming
   * `field`. `kind` is what must be there: a data file, or the directory of `dataDir`.
   */
  resolve(path: string, field: string, kind: 'file' | 'directory'): string {
    const refuse = (why: string): never => {
      throw new HttpError(400, `body/${field}: ${JSON.stringify(path)} ${why}`, field);
    };
    if (this.roots.length === 0) refuse('is not allowed: this server reads no data files (start it with --data-root DIR)');
    if (path.includes('\0')) refuse('holds a NUL character');
    if (path.split(/[\\/]/).includes('..')) refuse('holds a ".." segment');
    const wanted = resolve(this.roots[0].given, path);
    if (!this.roots.some((r) => inside(r.given, wanted) || inside(r.real, wanted))) refuse(`is outside the data roots (${this.list.join(', ')})`);
    let real: string;
    try {
      real = realpathSync(wanted);
    } catch {
      return refuse('does not exist');
    }
    if (!this.roots.some((r) => inside(r.real, real))) refuse('leads outside the data roots (through a symlink)');
    const stat = statSync(real);
    if (kind === 'file' ? !stat.isFile() : !stat.isDirectory()) refuse(`is not a ${kind}`);
    return real;
  }

  /**
   * A data spec as `--data` takes it (`FILE.csv`, or a pair `A,B` of .npy or idx files), each file resolved;
   * the same rule as the data loader's: a name ending in .csv is one file, even with a comma in it.
   */
  resolveData(spec: string, field: string): string {
    const parts = /\.csv$/i.test(spec) ? [spec] : spec.split(',').map((p) => p.trim());
    if (parts.length > 2 || parts.some((p) => p === '')) throw new HttpError(400, `body/${field}: ${JSON.stringify(spec)} must be FILE.csv or a pair A,B`, field);
    const real = parts.map((p) => this.resolve(p, field, 'file'));
    // A resolved name with a comma would read back as a pair.
    if (parts.length === 2 && real.some((p) => p.includes(','))) throw new HttpError(400, `body/${field}: a file of a pair may not have a comma in its real path`, field);
    return real.join(',');
  }
}
