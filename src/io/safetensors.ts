/**
 * The safetensors format (huggingface/safetensors): an 8-byte little-endian header length, a JSON header
 * { name: { dtype, shape, data_offsets: [begin, end] }, "__metadata__"?: { string: string } }, then the
 * tensors' little-endian bytes, offsets relative to the end of the header. What torch + safetensors'
 * save_file writes, this reads, and the other way round.
 *
 * Reading checks the structure exactly, as the format's spec asks: the header length within the file, the
 * header UTF-8 JSON, every dtype, shape and data_offsets, each tensor's bytes matching its shape, and the
 * tensors' bytes covering the data section exactly (no overlap, no hole, nothing after the last). So a
 * truncated file, or one whose header was damaged, is a SafetensorsError naming the file, never a wrong tensor.
 *
 * A changed bit in the tensors' bytes leaves the structure intact, so files normnet writes also carry a
 * checksum, in the metadata (the only place the format has for it, and one other readers pass over):
 *
 *   "normnet.sha256": SHA-256, in lowercase hex, of the file's contents, taken in this canonical form:
 *     "normnet.sha256/1\n"
 *     JSON.stringify of the other metadata entries, sorted by key, as [[key, value], ...], then "\n"
 *     for each tensor, sorted by name: JSON.stringify([name, dtype, shape]), "\n", then its raw bytes
 *
 * It covers the header as well as the data (a digit changed in the architecture metadata, an eps or a layer
 * size, would otherwise be a silently different model), and it is of the contents, not of the bytes' layout:
 * a file that another tool re-saved with the same tensors and metadata (safetensors' save_file with
 * metadata=f.metadata(), which reorders the tensors and reformats the header) still verifies. SHA-256 rather
 * than CRC-32: node:crypto has it on every Node version normnet supports (zlib.crc32 came in Node 20.15/22.2),
 * it is the hash checkpoints' SHA256SUMS and the datasets' known hashes use, and with SHA-NI it hashes a
 * model's few MB in about a millisecond. Reading verifies it when present; files without one (torch's, or
 * normnet's from before it wrote one) get the structure checks only: a flipped bit in their tensor bytes cannot
 * be found. A metadata key one bit away from "normnet.sha256" is read as a damaged checksum key, not as a file
 * without one.
 */
import { createHash, type Hash } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { types } from 'node:util';
import { checkPath, type PathLike } from '../util/path.js';
import { show } from '../util/show.js';

export type DType = 'F32' | 'F64' | 'I64';
export interface StateTensor {
  dtype: DType;
  shape: number[];
  data: Float32Array | Float64Array | BigInt64Array;
}
export type StateDict = Record<string, StateTensor>;

const BYTES: Record<DType, number> = { F32: 4, F64: 8, I64: 8 };

export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
}

/** The metadata key of the checksum normnet writes (see the top of this file). */
export const CHECKSUM_KEY = 'normnet.sha256';

const byKey = (a: readonly [string, ...unknown[]], b: readonly [string, ...unknown[]]) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

/** The checksum of a file's contents in the canonical form above: `tensors` as [name, dtype, shape, bytes]. */
function contentsSha256(metadata: Record<string, string>, tensors: [string, DType, number[], Uint8Array][]): string {
  const hash: Hash = createHash('sha256');
  hash.update('normnet.sha256/1\n');
  hash.update(`${JSON.stringify(Object.entries(metadata).filter(([key]) => key !== CHECKSUM_KEY).sort(byKey))}\n`);
  for (const [name, dtype, shape, bytes] of [...tensors].sort(byKey)) {
    hash.update(`${JSON.stringify([name, dtype, shape])}\n`);
    hash.update(bytes);
  }
  return hash.digest('hex');
}

/** True when `key` differs from the checksum key in exactly one bit: the key itself was damaged. */
function damagedChecksumKey(key: string): boolean {
  if (key.length !== CHECKSUM_KEY.length || key === CHECKSUM_KEY) return false;
  let bits = 0;
  for (let i = 0; i < key.length; i++) {
    let x = key.charCodeAt(i) ^ CHECKSUM_KEY.charCodeAt(i);
    for (; x; x &= x - 1) bits++;
  }
  return bits === 1;
}

/**
 * The file in parts: the 8-byte header length and the header (with `metadata` and the checksum of the contents,
 * CHECKSUM_KEY, which `metadata` must not hold), then each tensor's bytes as a view of its array, not a copy:
 * a checkpoint a minute writes megabytes, and copies of them are garbage that grows V8's heap.
 */
export function safetensorsParts(tensors: StateDict, metadata: Record<string, string> = {}): Uint8Array[] {
  checkStateDict(tensors);
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata) || !Object.values(metadata).every((v) => typeof v === 'string')) {
    throw new TypeError(`encodeSafetensors: metadata must be an object of strings, got ${show(metadata)}`);
  }
  if (Object.hasOwn(metadata, CHECKSUM_KEY)) throw new RangeError(`encodeSafetensors: metadata key '${CHECKSUM_KEY}' is the checksum normnet writes; leave it out`);
  // (An empty view for an empty array: a detached one has no buffer to view.)
  const raw = (t: StateTensor) => (t.data.byteLength === 0 ? new Uint8Array(0) : new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  const sha256 = contentsSha256(metadata, Object.entries(tensors).map(([name, t]) => [name, t.dtype, t.shape, raw(t)]));
  const header: Record<string, unknown> = { __metadata__: { ...metadata, [CHECKSUM_KEY]: sha256 } };
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const bytes = t.data.length * BYTES[t.dtype];
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  const json = JSON.stringify(header);
  // Padded with spaces so the data starts 8-byte aligned, as safetensors does (in bytes: a name may be non-ASCII).
  const jsonBytes = Buffer.from(json + ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8), 'utf8');
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(jsonBytes.length), 0);
  return [length, jsonBytes, ...Object.values(tensors).map(raw)];
}

const IS_DATA: Record<DType, (data: unknown) => boolean> = { F32: types.isFloat32Array, F64: types.isFloat64Array, I64: types.isBigInt64Array };
const DATA_TYPES: Record<DType, string> = { F32: 'Float32Array', F64: 'Float64Array', I64: 'BigInt64Array' };

/** A state dict to write: an object of { dtype, shape, data }, each data the dtype's array holding the shape's values. */
function checkStateDict(tensors: unknown): void {
  if (typeof tensors !== 'object' || tensors === null || Array.isArray(tensors) || ArrayBuffer.isView(tensors)) {
    throw new TypeError(`encodeSafetensors: tensors must be an object of { dtype, shape, data }, got ${show(tensors)}`);
  }
  for (const [name, t] of Object.entries(tensors)) {
    const where = `encodeSafetensors: tensor '${name}'`;
    if (name === '__metadata__') throw new RangeError(`${where}: the name is the format's metadata key`);
    if (typeof t !== 'object' || t === null) throw new TypeError(`${where} must be { dtype, shape, data }, got ${show(t)}`);
    const { dtype, shape, data } = t as { dtype: unknown; shape: unknown; data: unknown };
    if (typeof dtype !== 'string' || !Object.hasOwn(BYTES, dtype)) throw new TypeError(`${where}: dtype must be 'F32', 'F64' or 'I64', got ${show(dtype)}`);
    if (!Array.isArray(shape) || shape.length > 32 || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new TypeError(`${where}: shape must be an array of sizes (integers >= 0), got ${show(shape)}`);
    }
    if (!IS_DATA[dtype as DType](data)) throw new TypeError(`${where}: data must be a ${DATA_TYPES[dtype as DType]} for dtype ${dtype}, got ${show(data)}`);
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    if ((data as StateTensor['data']).length !== count) {
      throw new RangeError(`${where}: data holds ${(data as StateTensor['data']).length} values, its shape ${show(shape)} ${count}`);
    }
  }
}

/** The file's bytes (safetensorsParts, joined). */
export function encodeSafetensors(tensors: StateDict, metadata: Record<string, string> = {}): Buffer {
  return Buffer.concat(safetensorsParts(tensors, metadata));
}

/**
 * Decodes safetensors bytes; `file` names the source in error messages. `verified` says whether the file carried
 * normnet's checksum (which then matched); the returned metadata leaves that key out.
 */
export function decodeSafetensors(bytes: Uint8Array, file = 'safetensors data'): { tensors: StateDict; metadata: Record<string, string>; verified: boolean } {
  if (!types.isUint8Array(bytes)) throw new TypeError(`decodeSafetensors: bytes must be a Uint8Array, got ${show(bytes)}`);
  if (typeof file !== 'string') throw new TypeError(`decodeSafetensors: file must be a string (a name for messages), got ${show(file)}`);
  const fail = (what: string): never => {
    throw new SafetensorsError(`${file}: not a valid safetensors file: ${what}`);
  };
  if (bytes.length < 8) fail(`truncated: ${bytes.length} bytes, shorter than the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength > BigInt(bytes.length - 8)) fail(`truncated: the header says ${headerLength} bytes, the file has ${bytes.length - 8} after the length`);
  const headerEnd = 8 + Number(headerLength);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf8', { fatal: true }).decode(bytes.subarray(8, headerEnd)));
  } catch (error) {
    fail(`the header is not JSON (${(error as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('the header is not a JSON object');
  const dataLength = bytes.length - headerEnd;
  const tensors: StateDict = {};
  let metadata: Record<string, string> = {};
  const contents: [string, DType, number[], Uint8Array][] = [];
  const spans: [number, number, string][] = [];
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof entry !== 'object' || entry === null || Array.isArray(entry) || !Object.values(entry).every((v) => typeof v === 'string')) {
        fail('__metadata__ is not a map of strings to strings');
      }
      metadata = entry as Record<string, string>;
      continue;
    }
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof e !== 'object' || e === null || Array.isArray(e)) fail(`tensor '${name}' has no description`);
    if (e.dtype !== 'F32' && e.dtype !== 'F64' && e.dtype !== 'I64') fail(`tensor '${name}' has dtype ${JSON.stringify(e.dtype)}; normnet reads F32, F64 and I64`);
    const dtype = e.dtype as DType;
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) fail(`tensor '${name}' has a bad shape ${JSON.stringify(e.shape)}`);
    const shape = e.shape as number[];
    const offsets = e.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) || offsets[0] > offsets[1]) {
      fail(`tensor '${name}' has bad data_offsets ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as [number, number];
    const count = shape.reduce((a, b) => a * b, 1);
    if (end - begin !== count * BYTES[dtype]) fail(`tensor '${name}' of shape [${shape.join(', ')}] needs ${count * BYTES[dtype]} bytes, its offsets span ${end - begin}`);
    if (end > dataLength) fail(`truncated: tensor '${name}' ends at byte ${end} of the data, which has ${dataLength}`);
    spans.push([begin, end, name]);
    const bytesOf = bytes.subarray(headerEnd + begin, headerEnd + end);
    contents.push([name, dtype, shape, bytesOf]);
    const copy = new Uint8Array(end - begin); // an aligned copy of its own (Buffer.slice would share the pool)
    copy.set(bytesOf);
    const data = dtype === 'F32' ? new Float32Array(copy.buffer) : dtype === 'F64' ? new Float64Array(copy.buffer) : new BigInt64Array(copy.buffer);
    tensors[name] = { dtype, shape, data };
  }
  // The tensors' bytes must cover the data section exactly, in some order: no overlap, no hole, nothing after.
  spans.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let covered = 0;
  for (let i = 0; i < spans.length; i++) {
    const [begin, , name] = spans[i];
    if (begin < covered) fail(`tensors '${spans[i - 1][2]}' and '${name}' overlap`);
    if (begin > covered) fail(`bytes ${covered} to ${begin} of the data belong to no tensor (the next is '${name}')`);
    covered = spans[i][1];
  }
  if (covered !== dataLength) fail(`${dataLength - covered} bytes after the last tensor's data (the tensors cover ${covered} of ${dataLength})`);

  const damaged = Object.keys(metadata).find(damagedChecksumKey);
  if (damaged !== undefined) fail(`corrupt: its metadata has a key '${damaged}', one bit away from the checksum key '${CHECKSUM_KEY}'`);
  const expected = metadata[CHECKSUM_KEY];
  const verified = expected !== undefined;
  if (verified) {
    if (!/^[0-9a-f]{64}$/.test(expected)) fail(`corrupt: its ${CHECKSUM_KEY} checksum ${JSON.stringify(expected)} is not 64 hex digits`);
    const actual = contentsSha256(metadata, contents);
    if (actual !== expected) fail(`corrupt: its contents do not match the ${CHECKSUM_KEY} checksum written with them (a changed bit in the tensors or the header)`);
    metadata = Object.fromEntries(Object.entries(metadata).filter(([key]) => key !== CHECKSUM_KEY));
  }
  return { tensors, metadata, verified };
}

/** Writes atomically: a temporary file beside the target, flushed, then renamed over it. */
export function writeSafetensors(path: PathLike, tensors: StateDict, metadata?: Record<string, string>): void {
  writeFileAtomic(checkPath(path, 'writeSafetensors: path'), safetensorsParts(tensors, metadata));
}

/** Reads and checks a file (see the top of this file); any fault is a SafetensorsError naming `path`. */
export function readSafetensors(path: PathLike): { tensors: StateDict; metadata: Record<string, string>; verified: boolean } {
  const file = checkPath(path, 'readSafetensors: path');
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    throw new SafetensorsError(`${file}: cannot read: ${(error as Error).message}`, { cause: error });
  }
  return decodeSafetensors(bytes, file);
}

/** Writes `data` (or its parts, in order) atomically: a temporary file beside `path`, flushed, then renamed over it. */
export function writeFileAtomic(path: string, data: Uint8Array | string | readonly Uint8Array[]): void {
  const temp = `${path}.tmp-${process.pid}`;
  const fd = openSync(temp, 'w');
  try {
    try {
      const parts = typeof data === 'string' ? [Buffer.from(data)] : Array.isArray(data) ? data : [data as Uint8Array];
      for (const part of parts) {
        for (let at = 0; at < part.byteLength;) at += writeSync(fd, part, at);
      }
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true }); // a failed write leaves the target as it was, and no partial file beside it
    throw error;
  }
}
