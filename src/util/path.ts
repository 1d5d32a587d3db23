/**
 * The one check of a file or directory argument at a public API. Node's fs also takes numbers (file
 * descriptors: readIdx(2) would read stderr, and with a pipe there never return) and Buffers, and joins or
 * truncates in surprising ways around '' and NUL bytes, so every public entry that takes a path passes it
 * through checkPath first: a non-empty string without NUL, or a file: URL (as fs takes one), comes back as a
 * string path; anything else is a TypeError naming the argument, e.g.
 * `readIdx: path must be a non-empty string or a file: URL, got number`.
 */
import { fileURLToPath } from 'node:url';

/** What a path argument may be: a string, or a file: URL as Node's fs takes it. */
export type PathLike = string | URL;

/** `value` as a string path; `where` names the argument in the error, as 'readIdx: path'. */
export function checkPath(value: unknown, where: string): string {
  function fail(got: string): never {
    throw new TypeError(`${where} must be a non-empty string or a file: URL, got ${got}`);
  }
  let path = value;
  if (value instanceof URL) {
    if (value.protocol !== 'file:') fail(`a ${value.protocol} URL`);
    try {
      path = fileURLToPath(value);
    } catch (error) {
      // A host or an encoded '/' in the URL: fs would refuse it too.
      fail(`the URL ${value.href} (${(error as Error).message})`);
    }
  }
  if (typeof path !== 'string') fail(describe(path));
  if (path === '') fail('an empty string');
  if (path.includes('\0')) fail(`${JSON.stringify(path)}, which holds a NUL byte`);
  return path;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return value.constructor?.name && value.constructor !== Object ? value.constructor.name : 'object';
  return typeof value;
}
