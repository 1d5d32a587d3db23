/**
 * The safetensors format (huggingface/safetensors): an 8-byte little-endian header length, a JSON header
 * { name: { dtype, shape, data_offsets: [begin, end] }, "__metadata__"?: { string: string } }, then the
 * tensors' little-endian bytes, offsets relative to the end of the header. What torch + safetensors'
 * save_file writes, this reads, and the other way round. Reading checks every length and offset, so a
 * truncated or malformed file is an error naming the file and what is wrong, never a wrong tensor.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { checkPath, type PathLike } from '../util/path.js';

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

export function encodeSafetensors(tensors: StateDict, metadata?: Record<string, string>): Buffer {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const bytes = t.data.length * BYTES[t.dtype];
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8); // pad so the data starts 8-byte aligned, as safetensors does
  const jsonBytes = Buffer.from(json, 'utf8');
  const out = Buffer.alloc(8 + jsonBytes.length + offset);
  out.writeBigUInt64LE(BigInt(jsonBytes.length), 0);
  jsonBytes.copy(out, 8);
  let at = 8 + jsonBytes.length;
  for (const t of Object.values(tensors)) {
    const bytes = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    bytes.copy(out, at);
    at += bytes.length;
  }
  return out;
}

export function decodeSafetensors(bytes: Uint8Array, file = 'safetensors data'): { tensors: StateDict; metadata: Record<string, string> } {
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
  const spans: [number, number, string][] = [];
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      metadata = entry as Record<string, string>;
      continue;
    }
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof e !== 'object' || e === null) fail(`tensor '${name}' has no description`);
    if (e.dtype !== 'F32' && e.dtype !== 'F64' && e.dtype !== 'I64') fail(`tensor '${name}' has dtype ${JSON.stringify(e.dtype)}; normnet reads F32, F64 and I64`);
    const dtype = e.dtype as DType;
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isInteger(d) && d >= 0)) fail(`tensor '${name}' has a bad shape ${JSON.stringify(e.shape)}`);
    const shape = e.shape as number[];
    const offsets = e.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isInteger(o) && o >= 0) || offsets[0] > offsets[1]) {
      fail(`tensor '${name}' has bad data_offsets ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as [number, number];
    const count = shape.reduce((a, b) => a * b, 1);
    if (end - begin !== count * BYTES[dtype]) fail(`tensor '${name}' of shape [${shape.join(', ')}] needs ${count * BYTES[dtype]} bytes, its offsets span ${end - begin}`);
    if (end > dataLength) fail(`truncated: tensor '${name}' ends at byte ${end} of the data, which has ${dataLength}`);
    spans.push([begin, end, name]);
    const copy = new Uint8Array(end - begin); // an aligned copy of its own (Buffer.slice would share the pool)
    copy.set(bytes.subarray(headerEnd + begin, headerEnd + end));
    const data = dtype === 'F32' ? new Float32Array(copy.buffer) : dtype === 'F64' ? new Float64Array(copy.buffer) : new BigInt64Array(copy.buffer);
    tensors[name] = { dtype, shape, data };
  }
  spans.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++) {
    if (spans[i][0] < spans[i - 1][1]) fail(`tensors '${spans[i - 1][2]}' and '${spans[i][2]}' overlap`);
  }
  return { tensors, metadata };
}

/** Writes atomically: a temporary file beside the target, flushed, then renamed over it. */
export function writeSafetensors(path: PathLike, tensors: StateDict, metadata?: Record<string, string>): void {
  writeFileAtomic(checkPath(path, 'writeSafetensors: path'), encodeSafetensors(tensors, metadata));
}

export function readSafetensors(path: PathLike): { tensors: StateDict; metadata: Record<string, string> } {
  const file = checkPath(path, 'readSafetensors: path');
  return decodeSafetensors(readFileSync(file), file);
}

export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  const temp = `${path}.tmp-${process.pid}`;
  const fd = openSync(temp, 'w');
  try {
    try {
      writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
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
