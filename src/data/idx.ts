/**
 * The idx format (LeCun, Cortes & Burges, http://yann.lecun.com/exdb/mnist/ "FILE FORMATS"), raw or gzipped:
 *
 *   bytes 0-1   0x00 0x00
 *   byte  2     element type: 0x08 uint8 (the only one read here), 0x09 int8, 0x0B int16, 0x0C int32,
 *               0x0D float32, 0x0E float64
 *   byte  3     number of dimensions, ndims
 *   then        ndims big-endian uint32 sizes, then the elements, row-major, nothing after them
 *
 * MNIST images are 0x00000803 (N, 28, 28) and labels 0x00000801 (N). A file starting 1f 8b is gunzipped
 * first. Every check is exact, so a truncated, padded or foreign file is an IdxError naming the file and what
 * is wrong, never a wrong array: the magic number's zeros, element type and number of dimensions, and the
 * dimensions, whose product must be the payload's length to the byte (so a changed bit in the header is found,
 * but for a file holding no elements). A gzipped file's CRC-32 and length are checked by gunzip.
 *
 * A changed bit in the elements cannot be found from the format: where the file is a known one (MNIST's and
 * Fashion-MNIST's, from their default places), the caller passes its SHA-256, which is checked too.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { types } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { checkPath, type PathLike } from '../util/path.js';
import { show } from '../util/show.js';

export interface IdxArray {
  /** Sizes, outermost first: [60000, 28, 28] for MNIST's training images. */
  dims: number[];
  /** The elements, row-major: a view into the file's bytes, not a copy. */
  data: Uint8Array;
}

export class IdxError extends Error {
  override name = 'IdxError';
}

const TYPE_NAMES: Record<number, string> = {
  0x08: 'uint8', 0x09: 'int8', 0x0b: 'int16', 0x0c: 'int32', 0x0d: 'float32', 0x0e: 'float64',
};
const UINT8 = 0x08;

export interface IdxOptions {
  /**
   * The SHA-256 (lowercase hex) the idx bytes must have, taken after gunzip (so the raw file and any gzip of it
   * agree), and what file that is, for the message: a known file's hash, as torchvision checks its downloads.
   */
  known?: { sha256: string; what: string };
}

/** Reads an idx file (raw or gzipped) holding uint8 elements. */
export function readIdx(file: PathLike, options: IdxOptions = {}): IdxArray {
  const path = checkPath(file, 'readIdx: path');
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new IdxError(`${path}: cannot read: ${(error as Error).message}`);
  }
  return decodeIdx(bytes, path, options);
}

/** Decodes idx bytes (raw or gzipped); `file` names the source in error messages. */
export function decodeIdx(bytes: Uint8Array, file = 'idx data', options: IdxOptions = {}): IdxArray {
  if (!types.isUint8Array(bytes)) throw new TypeError(`decodeIdx: bytes must be a Uint8Array, got ${show(bytes)}`);
  if (typeof file !== 'string') throw new TypeError(`decodeIdx: file must be a string (a name for messages), got ${show(file)}`);
  if (typeof options !== 'object' || options === null) throw new TypeError(`decodeIdx: options must be an object, got ${show(options)}`);
  const known = options.known;
  if (known !== undefined && (typeof known !== 'object' || known === null || typeof known.sha256 !== 'string' || typeof known.what !== 'string')) {
    throw new TypeError(`decodeIdx: options.known must be { sha256, what } (two strings), got ${show(known)}`);
  }
  const fail = (what: string): never => {
    throw new IdxError(`${file}: ${what}`);
  };
  let gzipped = false;
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    gzipped = true;
    try {
      bytes = gunzipSync(bytes);
    } catch (error) {
      fail(`corrupt gzip data: ${(error as Error).message}`);
    }
  }
  const got = (n: number) => `got ${n}${gzipped ? ' after gunzip' : ''}`;

  if (bytes.length < 4) fail(`truncated header: expected at least 4 bytes (magic number), ${got(bytes.length)}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    fail(`not an idx file: magic number ${hex(magic)} does not start with two zero bytes (MNIST's are 0x00000803 and 0x00000801)`);
  }
  const type = bytes[2];
  if (type !== UINT8) {
    const name = TYPE_NAMES[type];
    fail(name
      ? `unsupported element type 0x${hex2(type)} (${name}) in magic number ${hex(magic)}: only 0x08 (uint8) is read`
      : `not an idx file: unknown element type 0x${hex2(type)} in magic number ${hex(magic)}`);
  }
  const ndims = bytes[3];
  if (ndims === 0) fail(`magic number ${hex(magic)} gives 0 dimensions`);
  const headerBytes = 4 + 4 * ndims;
  if (bytes.length < headerBytes) {
    fail(`truncated header: expected ${headerBytes} bytes for ${ndims} dimensions, ${got(bytes.length)}`);
  }
  const dims: number[] = [];
  for (let i = 0; i < ndims; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const dataBytes = dims.reduce((a, b) => a * b, 1);
  const expected = headerBytes + dataBytes;
  if (bytes.length !== expected) {
    const what = bytes.length < expected ? 'truncated' : 'extra bytes after the data';
    fail(`${what}: expected ${expected} bytes (${headerBytes} of header and ${dataBytes} of data for ${dims.join('×')}), ${got(bytes.length)}`);
  }
  if (known) {
    const actual = createHash('sha256').update(bytes).digest('hex');
    if (actual !== known.sha256) fail(`corrupt: the SHA-256 of its idx bytes${gzipped ? ' (after gunzip)' : ''} is ${actual}, ${known.what}'s is ${known.sha256}`);
  }
  return { dims, data: new Uint8Array(bytes.buffer, bytes.byteOffset + headerBytes, dataBytes) };
}

/** The idx bytes of a uint8 array (raw; gzip them with node:zlib if wanted). */
export function encodeIdx(dims: readonly number[], data: Uint8Array): Uint8Array {
  if (!Array.isArray(dims) || dims.length === 0 || dims.length > 255 || !dims.every((d) => Number.isInteger(d) && d >= 0 && d <= 0xffffffff)) {
    throw new RangeError(`encodeIdx: dims must be 1 to 255 integers in [0, 2^32), got ${show(dims)}`);
  }
  if (!types.isUint8Array(data)) throw new TypeError('encodeIdx: data must be a Uint8Array');
  const size = dims.reduce((a, b) => a * b, 1);
  if (data.length !== size) throw new RangeError(`encodeIdx: dims ${dims.join('×')} hold ${size} values, data has ${data.length}`);
  const headerBytes = 4 + 4 * dims.length;
  const out = new Uint8Array(headerBytes + size);
  const view = new DataView(out.buffer);
  view.setUint32(0, (UINT8 << 8) | dims.length, false);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, headerBytes);
  return out;
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}
