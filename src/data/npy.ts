/**
 * The NumPy .npy format (numpy.lib.format, https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html),
 * versions 1.0, 2.0 and 3.0:
 *
 *   bytes 0-5   \x93NUMPY
 *   bytes 6-7   major, minor version: 1 0, 2 0 or 3 0
 *   then        HEADER_LEN, little-endian: uint16 (1.0) or uint32 (2.0, 3.0)
 *   then        HEADER_LEN bytes of a Python literal dict, latin1 (3.0: utf8), padded with spaces and a '\n':
 *               {'descr': '<f4', 'fortran_order': False, 'shape': (150, 4), }
 *   then        the elements, C order (row-major), nothing after them
 *
 * descr read here: f4 f8 i1 i2 i4 i8 u1 u2 u4 u8 b1 after '<' (little-endian) or, for the one-byte i1 u1 b1,
 * '|' (byte order not applicable), as NumPy writes them. Big-endian data, Fortran order and structured or other
 * dtypes are DataFileErrors saying how to convert the array in NumPy. The elements become the typed array of their dtype (int64 as
 * BigInt64Array, bool as Uint8Array of 0 and 1), in the host's byte order, which is little-endian on every
 * platform Node ships for; the array views the file's bytes when they are aligned for it.
 */
import { checkPath, type PathLike } from '../util/path.js';
import { DataFileError, readDataFile } from './data-file-error.js';
import { types } from 'node:util';
import { show } from '../util/show.js';

export type NpyDtype = 'float32' | 'float64' | 'int8' | 'int16' | 'int32' | 'int64' | 'uint8' | 'uint16' | 'uint32' | 'uint64' | 'bool';

export type NpyData =
  | Float32Array | Float64Array | Int8Array | Int16Array | Int32Array | BigInt64Array
  | Uint8Array | Uint16Array | Uint32Array | BigUint64Array;

export interface NpyArray {
  dtype: NpyDtype;
  /** Sizes, outermost first; [] for a 0-d array. */
  shape: number[];
  /** The elements, row-major. */
  data: NpyData;
}

interface TypedArrayConstructor {
  new (length: number): NpyData;
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): NpyData;
  readonly BYTES_PER_ELEMENT: number;
}

/** descr without its byte-order character -> dtype and array type; the order encodeNpy tries them in matters (below). */
const DTYPES: Record<string, { dtype: NpyDtype; Array: TypedArrayConstructor }> = {
  f4: { dtype: 'float32', Array: Float32Array },
  f8: { dtype: 'float64', Array: Float64Array },
  i1: { dtype: 'int8', Array: Int8Array },
  i2: { dtype: 'int16', Array: Int16Array },
  i4: { dtype: 'int32', Array: Int32Array },
  i8: { dtype: 'int64', Array: BigInt64Array },
  u1: { dtype: 'uint8', Array: Uint8Array },
  u2: { dtype: 'uint16', Array: Uint16Array },
  u4: { dtype: 'uint32', Array: Uint32Array },
  u8: { dtype: 'uint64', Array: BigUint64Array },
  b1: { dtype: 'bool', Array: Uint8Array },
};
const READ_DESCRS = Object.entries(DTYPES).flatMap(([code, { Array }]) => [`<${code}`, ...(Array.BYTES_PER_ELEMENT === 1 ? [`|${code}`] : [])]);

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** Reads a .npy file. */
export function readNpy(file: PathLike): NpyArray {
  const path = checkPath(file, 'readNpy: path');
  return decodeNpy(readDataFile(path), path);
}

/** Decodes .npy bytes; `file` names the source in error messages. */
export function decodeNpy(bytes: Uint8Array, file = 'npy data'): NpyArray {
  function fail(what: string): never {
    throw new DataFileError(`${file}: ${what}`);
  }
  if (!types.isUint8Array(bytes)) throw new TypeError(`decodeNpy: bytes must be a Uint8Array, got ${show(bytes)}`);
  if (typeof file !== 'string') throw new TypeError(`decodeNpy: file must be a string, got ${show(file)}`);
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) fail('not a .npy file: it does not start with the magic string \\x93NUMPY');
  const [major, minor] = [bytes[6], bytes[7]];
  if (![1, 2, 3].includes(major) || minor !== 0) fail(`unsupported .npy format version ${major}.${minor}: versions 1.0, 2.0 and 3.0 are read`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lengthBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lengthBytes) fail(`truncated header: ${bytes.length} bytes`);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataStart = 8 + lengthBytes + headerLength;
  if (bytes.length < dataStart) fail(`truncated header: its length field says ${headerLength} bytes, ${bytes.length - 8 - lengthBytes} follow it`);
  const headerText = Buffer.from(bytes.buffer, bytes.byteOffset + 8 + lengthBytes, headerLength).toString(major === 3 ? 'utf8' : 'latin1');

  let header: Literal;
  try {
    header = parseLiteral(headerText);
  } catch (error) {
    return fail(`bad header ${JSON.stringify(headerText.trim())}: ${(error as Error).message}`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail(`bad header ${JSON.stringify(headerText.trim())}: not a dict`);
  const { descr, fortran_order: fortranOrder, shape } = header as Record<string, Literal>;

  if (typeof descr !== 'string') fail(`unsupported dtype ${JSON.stringify(descr)}: structured arrays are not read; save a plain numeric array`);
  if (descr.startsWith('>')) fail(`big-endian dtype '${descr}' is not read; save the array little-endian, e.g. a.astype('<${descr.slice(1)}')`);
  if (!READ_DESCRS.includes(descr)) fail(`unsupported dtype '${descr}'; the dtypes read are ${READ_DESCRS.join(' ')}`);
  if (typeof fortranOrder !== 'boolean') fail(`bad header: fortran_order must be True or False, got ${JSON.stringify(fortranOrder)}`);
  if (fortranOrder) fail('fortran_order is True (column-major data) and only C order is read; save np.ascontiguousarray(a)');
  if (!Array.isArray(shape) || !shape.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) {
    fail(`bad header: shape must be a tuple of integers >= 0, got ${JSON.stringify(shape)}`);
  }
  const dims = shape as number[];

  const { dtype, Array: ArrayType } = DTYPES[descr.slice(1)];
  const count = dims.reduce((a, b) => a * b, 1);
  const dataBytes = count * ArrayType.BYTES_PER_ELEMENT;
  if (bytes.length !== dataStart + dataBytes) {
    const what = bytes.length < dataStart + dataBytes ? 'truncated data' : 'extra bytes after the data';
    fail(`${what}: shape (${dims.join(', ')}) of ${dtype} needs ${dataBytes} bytes after the ${dataStart}-byte header, the file has ${bytes.length - dataStart}`);
  }
  const offset = bytes.byteOffset + dataStart;
  let data: NpyData;
  if (offset % ArrayType.BYTES_PER_ELEMENT === 0) {
    data = new ArrayType(bytes.buffer, offset, count);
  } else {
    // A typed array cannot start at a misaligned offset: copy the elements to a buffer of their own.
    data = new ArrayType(count);
    new Uint8Array(data.buffer).set(bytes.subarray(dataStart, dataStart + dataBytes));
  }
  return { dtype, shape: dims, data };
}

/**
 * The .npy bytes (format 1.0) of a typed array with `shape`: the same bytes NumPy >= 1.23's np.save writes,
 * header padding included. Uint8Array is written as uint8 ('|u1'), not bool.
 */
export function encodeNpy(data: NpyData, shape: readonly number[]): Uint8Array {
  // Uint8Array is checked before bool's entry, which shares its array type.
  const code = ArrayBuffer.isView(data) ? Object.keys(DTYPES).find((c) => data instanceof DTYPES[c].Array) : undefined;
  if (code === undefined) throw new TypeError('encodeNpy: data must be a Float32Array, Float64Array, Int8/16/32Array, BigInt64Array, Uint8/16/32Array or BigUint64Array');
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new RangeError(`encodeNpy: shape must be an array of integers >= 0, got ${show(shape)}`);
  }
  const count = shape.reduce((a, b) => a * b, 1);
  if (data.length !== count) throw new RangeError(`encodeNpy: shape [${shape.join(', ')}] holds ${count} values, data has ${data.length}`);

  const descr = `${data.BYTES_PER_ELEMENT === 1 ? '|' : '<'}${code}`;
  const tuple = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${tuple}, }`;
  // As NumPy does: room for the first axis to grow to 21 digits in place, then spaces and a '\n' so the data
  // starts at a multiple of 64 bytes (a full 64 spaces when it already would: NumPy's rule, kept for equal bytes).
  if (shape.length > 0) header += ' '.repeat(21 - String(shape[0]).length);
  const padding = 64 - ((10 + header.length + 1) % 64);
  header += `${' '.repeat(padding)}\n`;

  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set(MAGIC);
  out.set([1, 0], 6);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(Buffer.from(header, 'latin1'), 10);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return out;
}

/** The Python literals a .npy header is made of: a dict of strings, booleans and tuples of ints. */
type Literal = string | number | boolean | null | Literal[] | { [key: string]: Literal };

/**
 * Parses one Python literal, as NumPy's reader does with ast.literal_eval, restricted to what headers hold:
 * dicts, tuples and lists (both as arrays), strings in ' or " without escapes, integers, True, False, None.
 */
function parseLiteral(text: string): Literal {
  let i = 0;
  const skipSpace = () => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };
  const expect = (what: string) => {
    skipSpace();
    if (text[i] !== what) throw new Error(`expected '${what}' at character ${i}, got ${text[i] === undefined ? 'the end' : `'${text[i]}'`}`);
    i++;
  };
  // Items up to `close`, with a trailing comma allowed as Python allows it.
  const items = <T>(close: string, item: () => T): T[] => {
    const out: T[] = [];
    for (skipSpace(); text[i] !== close; skipSpace()) {
      out.push(item());
      skipSpace();
      if (text[i] !== close) expect(',');
    }
    i++;
    return out;
  };
  const value = (): Literal => {
    skipSpace();
    const c = text[i];
    if (c === '{') {
      i++;
      return Object.fromEntries(items('}', () => {
        const key = value();
        if (typeof key !== 'string') throw new Error(`dict keys must be strings, got ${JSON.stringify(key)}`);
        expect(':');
        return [key, value()];
      }));
    }
    if (c === '(' || c === '[') {
      i++;
      return items(c === '(' ? ')' : ']', value);
    }
    if (c === "'" || c === '"') {
      const end = text.indexOf(c, i + 1);
      if (end < 0) throw new Error(`string at character ${i} is not closed`);
      const s = text.slice(i + 1, end);
      i = end + 1;
      return s;
    }
    const word = /^(True|False|None|[+-]?\d+)/.exec(text.slice(i, i + 32));
    if (!word) throw new Error(`unexpected ${c === undefined ? 'end' : `'${c}'`} at character ${i}`);
    i += word[0].length;
    return word[0] === 'True' ? true : word[0] === 'False' ? false : word[0] === 'None' ? null : Number(word[0]);
  };
  const result = value();
  skipSpace();
  if (i < text.length) throw new Error(`unexpected '${text[i]}' after the literal at character ${i}`);
  return result;
}
