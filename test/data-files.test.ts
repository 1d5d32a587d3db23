/**
 * The user's data files: CSV, .npy pairs and idx pairs read into Datasets, their scaling, and every kind of bad
 * file by its message (file, line, column). .npy is held to the format by files built byte by byte here from
 * NumPy's spec, and, where Debian's python3-numpy is installed, by files NumPy itself writes and reads (that
 * test is skipped without numpy, unless REQUIRE_TORCH=1 as in CI, whose python3-torch brings numpy).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { readCsvDataset } from '../src/data/csv.js';
import { DataFileError } from '../src/data/data-file-error.js';
import { loadDataFiles, type DataFilesOptions } from '../src/data/data-files.js';
import { encodeIdx } from '../src/data/idx.js';
import { decodeNpy, encodeNpy, readNpy, type NpyData } from '../src/data/npy.js';
import { applyScaling, fitScaling, type ScalingStats } from '../src/data/scaling.js';

const work = mkdtempSync(join(tmpdir(), 'normnet-data-files-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function file(name: string, content: string | Uint8Array): string {
  const path = join(work, name);
  writeFileSync(path, content);
  return path;
}

const npy = (name: string, data: NpyData, shape: number[]) => file(name, encodeNpy(data, shape));
const f32 = (values: number[]) => Float32Array.from(values);

/** `run` throws a DataFileError whose message starts with `path: ` and contains each of `parts`. */
function expectDataFileError(run: () => unknown, path: string, ...parts: string[]): void {
  let error: unknown;
  try {
    run();
  } catch (thrown) {
    error = thrown;
  }
  expect(error).toBeInstanceOf(DataFileError);
  const { name, message } = error as Error;
  expect(name).toBe('DataFileError');
  expect(message.startsWith(`${path}: `), `"${message}" starts with "${path}: "`).toBe(true);
  for (const part of parts) expect(message).toContain(part);
}

/**
 * .npy bytes built from the spec by hand, not by encodeNpy: magic, version, little-endian header length
 * (uint16 for 1.0, uint32 after), the header dict padded with spaces and a '\n' to a multiple of 64 bytes.
 */
function npyBytes(version: 1 | 2 | 3, dict: string, data: Uint8Array): Buffer {
  const prefix = version === 1 ? 10 : 12;
  const padded = dict.padEnd(Math.ceil((prefix + dict.length + 1) / 64) * 64 - prefix - 1, ' ') + '\n';
  const header = Buffer.alloc(prefix);
  Buffer.from([0x93, ...Buffer.from('NUMPY'), version, 0]).copy(header);
  if (version === 1) header.writeUInt16LE(padded.length, 8);
  else header.writeUInt32LE(padded.length, 8);
  return Buffer.concat([header, Buffer.from(padded, version === 3 ? 'utf8' : 'latin1'), data]);
}

/** Little-endian float32 bytes, written value by value. */
function f32Bytes(values: number[]): Uint8Array {
  const bytes = Buffer.alloc(4 * values.length);
  values.forEach((v, i) => bytes.writeFloatLE(v, 4 * i));
  return bytes;
}

describe('readCsvDataset', () => {
  it('reads quoted fields, CRLF, a label column not last, a BOM and blank trailing lines', () => {
    const path = file('quoted.csv', '\uFEFF"sepal, len",label,"w ""x"""\r\n1.5,2,"-3e-1"\r\n" 4 ",0,.5\r\n\r\n\r\n');
    const csv = readCsvDataset(path);
    expect(csv.featureNames).toEqual(['sepal, len', 'w "x"']);
    expect(csv.shape).toEqual([2, 2]);
    expect(csv.x).toEqual(f32([1.5, -0.3, 4, 0.5]));
    expect(Array.from(csv.labels)).toEqual([2, 0]);
    expect(Array.from(csv.lines)).toEqual([2, 3]);
  });

  it('takes the label column named by label, and counts the lines a quoted field spans', () => {
    const path = file('species.csv', 'f1,species,"f2\nsecond line"\n1,0,2\n3,1.0,4\n');
    const csv = readCsvDataset(path, { label: 'species' });
    expect(csv.featureNames).toEqual(['f1', 'f2\nsecond line']);
    expect(csv.x).toEqual(f32([1, 2, 3, 4]));
    expect(Array.from(csv.labels)).toEqual([0, 1]);
    expect(Array.from(csv.lines)).toEqual([3, 4]);
    expectDataFileError(() => readCsvDataset(file('species-bad.csv', 'f1,species,"f2\nx"\n1,0,2\n3,1,four\n'), { label: 'species' }),
      join(work, 'species-bad.csv'), 'line 4, column "f2\nx": "four" is not a number');
  });
});

describe('loadDataFiles: CSV', () => {
  it('gives float32 Datasets named by the files, with the training labels\' classes', () => {
    const train = file('train.csv', 'a,b,label\n1,2,0\n3,4,2\n5,6,1\n');
    const test = file('test.csv', 'a,b,label\n7,8,2\n');
    const out = loadDataFiles({ data: train, testData: test });
    expect(out.scaling).toBeNull();
    expect(out.train.name).toBe('train.csv');
    expect(out.test!.name).toBe('test.csv');
    expect(out.train.shape).toEqual([3, 2]);
    expect(out.train.classes).toBe(3);
    expect(out.test!.classes).toBe(3);
    expect(out.train.x).toEqual(f32([1, 2, 3, 4, 5, 6]));
    expect(Array.from(out.train.batch(0, 3).x.data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(out.test!.labels)).toEqual([2]);
    expect(loadDataFiles({ data: train }).test).toBeUndefined();
  });
});

describe('.npy', () => {
  it('reads a version 1.0 file built byte by byte from the spec', () => {
    const path = file('hand-v1.npy', npyBytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", f32Bytes([0, 1.5, -2, 3, 4.25, 5])));
    const bytes = readFileSync(path);
    // 10 bytes of magic, version and length, the 59-character dict, 58 spaces and '\n' to make 128: the data is aligned.
    expect(bytes.length).toBe(128 + 24);
    expect(Array.from(bytes.subarray(0, 10))).toEqual([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 118, 0]);
    const array = readNpy(path);
    expect(array.dtype).toBe('float32');
    expect(array.shape).toEqual([2, 3]);
    expect(array.data).toEqual(f32([0, 1.5, -2, 3, 4.25, 5]));
  });

  it('reads versions 2.0 and 3.0, other spacing and quotes, 1-d and 0-d shapes', () => {
    const v2 = decodeNpy(npyBytes(2, "{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }", Buffer.from(new Int32Array([7, -1, 65536]).buffer)));
    expect(v2).toEqual({ dtype: 'int32', shape: [3], data: new Int32Array([7, -1, 65536]) });
    const v3 = decodeNpy(npyBytes(3, '{"shape":(2,),"fortran_order":False,"descr":"|u1"}', Buffer.from([200, 3])));
    expect(v3).toEqual({ dtype: 'uint8', shape: [2], data: Uint8Array.from([200, 3]) });
    const bools = decodeNpy(npyBytes(1, "{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }", Buffer.from([1, 0, 1])));
    expect(bools.dtype).toBe('bool');
    const scalar = decodeNpy(npyBytes(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (), }", Buffer.from(new Float64Array([2.5]).buffer)));
    expect(scalar).toEqual({ dtype: 'float64', shape: [], data: new Float64Array([2.5]) });
  });

  it('round-trips every typed array through encodeNpy, aligned or not', () => {
    const arrays: NpyData[] = [
      f32([1.5, -2, 3, 4, 5, 6]), Float64Array.from([1e-300, 2, 3, 4, 5, 6]), Int8Array.from([-128, 1, 2, 3, 4, 127]),
      Int16Array.from([-32768, 1, 2, 3, 4, 5]), Int32Array.from([-(2 ** 31), 1, 2, 3, 4, 5]), BigInt64Array.from([-(2n ** 63n), 1n, 2n, 3n, 4n, 5n]),
      Uint8Array.from([0, 1, 2, 3, 4, 255]), Uint16Array.from([0, 1, 2, 3, 4, 65535]), Uint32Array.from([0, 1, 2, 3, 4, 2 ** 32 - 1]),
      BigUint64Array.from([0n, 1n, 2n, 3n, 4n, 2n ** 64n - 1n]),
    ];
    for (const data of arrays) {
      const bytes = encodeNpy(data, [2, 3]);
      expect(bytes.length % 64).toBe(data.byteLength % 64); // the header is a multiple of 64 bytes
      expect(decodeNpy(bytes).data).toEqual(data);
      // One byte in front: the elements no longer sit at a multiple of their size, so they are copied.
      const shifted = new Uint8Array(bytes.length + 1);
      shifted.set(bytes, 1);
      expect(decodeNpy(shifted.subarray(1)).data).toEqual(data);
    }
    expect(decodeNpy(encodeNpy(new Float32Array(0), [0, 4])).shape).toEqual([0, 4]);
    expect(() => encodeNpy(f32([1, 2, 3]), [2, 2])).toThrow(RangeError);
    expect(() => encodeNpy([1, 2] as unknown as Float32Array, [2])).toThrow(TypeError);
  });

  it('writes the header NumPy writes', () => {
    const bytes = Buffer.from(encodeNpy(f32([1, 2, 3, 4, 5, 6]), [2, 3]));
    expect(bytes.readUInt16LE(8)).toBe(118);
    // The 59-character dict, 20 spaces (the first axis may grow to 21 digits), 38 more to end at byte 128.
    expect(bytes.subarray(10, 128).toString('latin1')).toBe(`{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }${' '.repeat(58)}\n`);
    expect(bytes.length).toBe(128 + 24);
  });
});

describe('loadDataFiles: .npy pairs', () => {
  it('reads float32 features [N, D] with int64 labels', () => {
    const x = npy('x.npy', f32([1, 2, 3, 4, 5, 6]), [3, 2]);
    const y = npy('y.npy', BigInt64Array.from([0n, 3n, 1n]), [3]);
    const { train } = loadDataFiles({ data: `${x},${y}` });
    expect(train.name).toBe('x.npy');
    expect(train.shape).toEqual([3, 2]);
    expect(train.classes).toBe(4);
    expect(train.x).toEqual(f32([1, 2, 3, 4, 5, 6]));
    expect(Array.from(train.labels)).toEqual([0, 3, 1]);
  });

  it('reads float64 images [N, 1, H, W] with integral float32 labels, and a pair written with a space', () => {
    const values = Array.from({ length: 2 * 4 }, (_, i) => i / 8);
    const x = npy('img.npy', Float64Array.from(values), [2, 1, 2, 2]);
    const y = npy('img-labels.npy', f32([1, 0]), [2]);
    const { train } = loadDataFiles({ data: `${x}, ${y}` });
    expect(train.shape).toEqual([2, 1, 2, 2]);
    expect(train.x).toEqual(Float32Array.from(values));
    expect(train.batch(0, 2, { layout: 'nchw' }).x.shape).toEqual([2, 1, 2, 2]);
    expect(Array.from(train.labels)).toEqual([1, 0]);
  });

  it('keeps uint8 features as bytes (batches value / 255) and converts int16 ones; labels uint8, int32, bool', () => {
    const bytes = Uint8Array.from([0, 51, 255, 102]);
    const { train } = loadDataFiles({ data: `${npy('u8.npy', bytes, [2, 2])},${npy('u8-labels.npy', Uint8Array.from([1, 0]), [2])}` });
    expect(train.x).toBeInstanceOf(Uint8Array);
    expect(train.x).toEqual(bytes);
    expect(train.batch(0, 2).x.data).toEqual(f32([0, 0.2, 1, 0.4]));
    const ints = loadDataFiles({ data: `${npy('i16.npy', Int16Array.from([-300, 7]), [2, 1])},${npy('i32-labels.npy', Int32Array.from([0, 2]), [2])}` }).train;
    expect(ints.x).toEqual(f32([-300, 7]));
    const bools = file('bool-labels.npy', npyBytes(1, "{'descr': '|b1', 'fortran_order': False, 'shape': (2,), }", Buffer.from([1, 0])));
    expect(Array.from(loadDataFiles({ data: `${npy('i16b.npy', Int16Array.from([1, 2]), [2, 1])},${bools}` }).train.labels)).toEqual([1, 0]);
  });
});

describe('loadDataFiles: idx pairs', () => {
  const pixels = Uint8Array.from({ length: 3 * 2 * 2 }, (_, i) => i * 20);

  it('reads images (N, H, W) as uint8 [N, 1, H, W] from raw and gzipped files', () => {
    const images = file('images-idx3-ubyte', encodeIdx([3, 2, 2], pixels));
    const labels = file('labels-idx1-ubyte.gz', gzipSync(encodeIdx([3], Uint8Array.from([2, 0, 1]))));
    const { train } = loadDataFiles({ data: `${images},${labels}` });
    expect(train.name).toBe('images-idx3-ubyte');
    expect(train.shape).toEqual([3, 1, 2, 2]);
    expect(train.x).toBeInstanceOf(Uint8Array);
    expect(train.x).toEqual(pixels);
    expect(train.classes).toBe(3);
    expect(train.batch(0, 1).x.data).toEqual(f32([0, 20 / 255, 40 / 255, 60 / 255]));
  });

  it('reads 2-d samples (N, D) as [N, D]', () => {
    const images = file('flat-idx2-ubyte.gz', gzipSync(encodeIdx([3, 4], pixels)));
    const labels = file('flat-labels-idx1-ubyte', encodeIdx([3], Uint8Array.from([0, 0, 1])));
    expect(loadDataFiles({ data: `${images},${labels}` }).train.shape).toEqual([3, 4]);
  });
});

describe('scaling', () => {
  // Three samples of three features; the third is constant. Hand statistics: min (1, 10, 5), max (3, 30, 5);
  // mean (2, 20, 5), population std (sqrt(2/3), sqrt(200/3), 0).
  const train = file('scale-train.csv', 'a,b,c,label\n1,10,5,0\n3,30,5,1\n2,20,5,0\n');
  const test = file('scale-test.csv', 'a,b,c,label\n5,0,7,1\n');

  it('minmax: the training range of each feature to [0, 1], the test data by the training statistics', () => {
    const out = loadDataFiles({ data: train, testData: test, scale: 'minmax' });
    expect(out.scaling).toEqual({ scale: 'minmax', offset: [1, 10, 5], factor: [1 / 2, 1 / 20, 0] });
    expect(out.train.x).toEqual(f32([0, 0, 0, 1, 1, 0, 0.5, 0.5, 0]));
    // Its own statistics would map a single sample to zeros; the training ones put it outside [0, 1].
    expect(out.test!.x).toEqual(f32([(5 - 1) / 2, (0 - 10) / 20, 0]));
  });

  it('standard: zero mean and unit population std per feature, the test data by the training statistics', () => {
    const out = loadDataFiles({ data: train, testData: test, scale: 'standard' });
    const std = [Math.sqrt(2 / 3), Math.sqrt(200 / 3)];
    expect(out.scaling!.scale).toBe('standard');
    expect(out.scaling!.offset).toEqual([2, 20, 5]);
    expect(out.scaling!.factor[0]).toBeCloseTo(1 / std[0], 14);
    expect(out.scaling!.factor[1]).toBeCloseTo(1 / std[1], 14);
    expect(out.scaling!.factor[2]).toBe(0);
    const z = (v: number, j: number) => (v - out.scaling!.offset[j]) * out.scaling!.factor[j];
    expect(out.train.x).toEqual(f32([z(1, 0), z(10, 1), 0, z(3, 0), z(30, 1), 0, 0, 0, 0]));
    expect(out.train.x[0]).toBeCloseTo(-1 / std[0], 6); // -1.2247...
    expect(out.test!.x).toEqual(f32([z(5, 0), z(0, 1), 0]));
    expect(out.test!.x[0]).toBeCloseTo(3 / std[0], 6);
  });

  it('calls a feature constant by its range, not a float64 std that misses 0 by an ulp', () => {
    const x = new Float32Array(7).fill(0.1);
    expect(fitScaling('standard', x, 1).factor).toEqual([0]);
    expect(applyScaling(fitScaling('standard', x, 1), x, 1)).toEqual(new Float32Array(7));
  });

  it('applies given statistics instead of fitting: the same bits after a JSON round trip', () => {
    for (const scale of ['minmax', 'standard'] as const) {
      const fitted = loadDataFiles({ data: train, testData: test, scale });
      const stored = JSON.parse(JSON.stringify(fitted.scaling));
      // Other data, the stored statistics: the test file scaled alone as an evaluation would scale it.
      const again = loadDataFiles({ data: test, scaling: stored });
      expect(again.scaling).toBe(stored);
      expect(new Uint32Array(again.train.x.buffer)).toEqual(new Uint32Array(fitted.test!.x.buffer));
      expect(loadDataFiles({ data: train, testData: test, scale, scaling: stored }).train.x).toEqual(fitted.train.x);
    }
    expect(loadDataFiles({ data: train, scaling: null }).train.x).toEqual(f32([1, 10, 5, 3, 30, 5, 2, 20, 5]));
    expect(() => loadDataFiles({ data: train, scale: 'minmax', scaling: null })).toThrow(/scale 'minmax' differs from the given scaling statistics' 'none'/);
    const wrong = { scale: 'minmax' as const, offset: [0, 0], factor: [1, 1] };
    expect(() => loadDataFiles({ data: train, scaling: wrong })).toThrow(/stats\.offset has 2 entries .*the data has 3 features/);
    expect(() => loadDataFiles({ data: train, scale: 'max' as 'minmax' })).toThrow(/scale must be one of none, minmax, standard, got max/);
    expect(() => loadDataFiles({ data: train, scaling: {} as ScalingStats })).toThrow(/scaling must be null or statistics/);
  });

  it('scales uint8 images as floats after / 255, and keeps the bytes without scaling', () => {
    const images = file('scale-idx3-ubyte', encodeIdx([2, 1, 2], Uint8Array.from([0, 255, 51, 102])));
    const labels = file('scale-labels-idx1-ubyte', encodeIdx([2], Uint8Array.from([0, 1])));
    const none = loadDataFiles({ data: `${images},${labels}` });
    expect(none.train.x).toBeInstanceOf(Uint8Array);
    const minmax = loadDataFiles({ data: `${images},${labels}`, scale: 'minmax' });
    expect(minmax.train.x).toBeInstanceOf(Float32Array);
    // Feature 0: 0 and 0.2 (51 / 255) -> 0 and 1; feature 1: 1 and 0.4 -> 1 and 0.
    expect(minmax.scaling!.offset).toEqual([0, Math.fround(102 / 255)]);
    expect(minmax.train.x).toEqual(f32([0, 1, 1, 0]));
    expect(minmax.train.batch(0, 2).x.data).toEqual(f32([0, 1, 1, 0]));
  });
});

describe('bad data files', () => {
  const good = file('good.csv', 'a,b,label\n1,2,0\n3,4,5\n');
  const csvError = (name: string, text: string, ...parts: string[]) => {
    const path = file(name, text);
    expectDataFileError(() => loadDataFiles({ data: path }), path, ...parts);
  };

  it('a missing file', () => {
    const missing = join(work, 'nope.csv');
    expectDataFileError(() => loadDataFiles({ data: missing }), missing, 'cannot read: ENOENT');
    const y = join(work, 'nope.npy');
    expectDataFileError(() => loadDataFiles({ data: `${npy('m.npy', f32([1]), [1, 1])},${y}` }), y, 'cannot read');
  });

  it('an empty CSV file, one of blank lines, one with a header only', () => {
    csvError('empty.csv', '', 'line 1: empty file');
    csvError('blank.csv', '\n\r\n  \n', 'line 1: empty file');
    csvError('header.csv', 'a,b,label\r\n', 'line 2: no data rows after the header');
  });

  it('a ragged row, too short or too long, and a blank line between rows', () => {
    csvError('short.csv', 'a,b,label\n1,2,0\n1,2\n', 'line 3: expected 3 fields as in the header, got 2: no value for column "label"');
    csvError('long.csv', 'a,b,label\n1,2,0,9\n', 'line 2: expected 3 fields as in the header, got 4');
    csvError('gap.csv', 'a,b,label\n1,2,0\n\n1,2,0\n', 'line 3: expected 3 fields as in the header, got 1: no value for column "b"');
  });

  it('a cell that is not a number, NaN, infinite or beyond float32', () => {
    csvError('iris.csv', 'sepal_len,label\n5.1,0\n5.0,0\n4.9,0\n4.7,0\n4.6,0\nabc,0\n', 'line 7, column "sepal_len": "abc" is not a number');
    csvError('empty-cell.csv', 'a,b,label\n1,,0\n', 'line 2, column "b": "" is not a number');
    csvError('hex.csv', 'a,label\n0x10,0\n', 'line 2, column "a": "0x10" is not a number');
    csvError('nan.csv', 'a,label\n1,0\nNaN,1\n', 'line 3, column "a": "NaN" is not a finite number');
    csvError('inf.csv', 'a,label\n-inf,0\n', 'line 2, column "a": "-inf" is not a finite number');
    csvError('big.csv', 'a,label\n1e39,0\n', 'line 2, column "a": "1e39" is beyond the float32 range');
  });

  it('NaN, infinite and beyond-float32 values in .npy features, by sample and feature', () => {
    const y = npy('nan-y.npy', Int32Array.from([0, 1]), [2]);
    const nan = npy('nan-x.npy', f32([1, 2, 3, 4, 5, NaN]), [2, 3]);
    expectDataFileError(() => loadDataFiles({ data: `${nan},${y}` }), nan, 'sample 1, feature 2: NaN is not a finite number');
    const inf = npy('inf-x.npy', Float64Array.from([1, -Infinity, 3, 4]), [2, 1, 2]);
    expectDataFileError(() => loadDataFiles({ data: `${inf},${y}` }), inf, 'sample 0, feature 1: -Infinity is not a finite number');
    const big = npy('big-x.npy', Float64Array.from([1, 2, 1e300, 4]), [2, 2]);
    expectDataFileError(() => loadDataFiles({ data: `${big},${y}` }), big, 'sample 1, feature 0: 1e+300 is beyond the float32 range');
  });

  it('a missing label column, named or by default, listing the columns', () => {
    csvError('nolabel.csv', 'a,b,class\n1,2,0\n', 'line 1: no label column "label"; the columns are "a", "b", "class"');
    expectDataFileError(() => loadDataFiles({ data: good, label: 'species' }), good, 'no label column "species"; the columns are "a", "b", "label"');
    csvError('twolabels.csv', 'label,a,label\n1,2,0\n', 'line 1: two columns are named "label"');
    csvError('onlylabel.csv', 'label\n1\n', 'line 1: no feature columns');
  });

  it('a label that is not an integer >= 0', () => {
    csvError('frac.csv', 'a,label\n1,0\n2,2.5\n', 'line 3, column "label": "2.5" is not a class index (an integer >= 0)');
    csvError('negative.csv', 'a,label\n1,-1\n', 'line 2, column "label": "-1" is not a class index (an integer >= 0)');
    csvError('word.csv', 'a,label\n1,setosa\n', 'line 2, column "label": "setosa" is not a number');
    csvError('huge.csv', 'a,label\n1,3e9\n', 'line 2, column "label": "3e9" is too large a class index');
    const x = npy('l-x.npy', f32([1, 2, 3]), [3, 1]);
    const fractional = npy('l-frac.npy', f32([0, 1, 1.5]), [3]);
    expectDataFileError(() => loadDataFiles({ data: `${x},${fractional}` }), fractional, 'sample 2: label 1.5 is not a class index (an integer >= 0)');
    const negative = npy('l-neg.npy', BigInt64Array.from([0n, -1n, 1n]), [3]);
    expectDataFileError(() => loadDataFiles({ data: `${x},${negative}` }), negative, 'sample 1: label -1 is not a class index (an integer >= 0)');
    const nan = npy('l-nan.npy', Float64Array.from([0, NaN, 1]), [3]);
    expectDataFileError(() => loadDataFiles({ data: `${x},${nan}` }), nan, 'sample 1: label NaN is not a class index');
  });

  it('a test label that is not a class of the training data', () => {
    const train = file('six.csv', 'a,label\n1,0\n2,5\n');
    const test = file('seven.csv', 'a,label\n1,0\n2,7\n');
    expectDataFileError(() => loadDataFiles({ data: train, testData: test }), test, 'line 3, column "label": label 7 out of range: the training data has classes 0..5');
    const x = npy('t-x.npy', f32([1, 2]), [2, 1]);
    const y = npy('t-y.npy', Uint8Array.from([1, 6]), [2]);
    expectDataFileError(() => loadDataFiles({ data: train, testData: `${x},${y}` }), y, 'sample 1: label 6 out of range: the training data has classes 0..5');
  });

  it('features and labels that do not pair up', () => {
    const x = npy('c-x.npy', f32([1, 2, 3, 4]), [2, 2]);
    const y = npy('c-y.npy', Int32Array.from([0, 1, 0]), [3]);
    expectDataFileError(() => loadDataFiles({ data: `${x},${y}` }), y, `3 labels for the 2 samples of ${x}`);
    const y2 = npy('c-y2.npy', Int32Array.from([0, 1]), [2, 1]);
    expectDataFileError(() => loadDataFiles({ data: `${x},${y2}` }), y2, 'labels must have shape (N,), got (2, 1)');
    const flat = npy('c-flat.npy', f32([1, 2]), [2]);
    expectDataFileError(() => loadDataFiles({ data: `${flat},${y}` }), flat, 'features must have shape (N, ...)');
    const images = file('c-idx3-ubyte', encodeIdx([2, 2, 2], new Uint8Array(8)));
    const labels = file('c-idx1-ubyte', encodeIdx([3], Uint8Array.from([0, 1, 0])));
    expectDataFileError(() => loadDataFiles({ data: `${images},${labels}` }), labels, `3 labels for the 2 samples of ${images}`);
    const none = npy('c-none.npy', new Float32Array(0), [0, 3]);
    expectDataFileError(() => loadDataFiles({ data: `${none},${npy('c-none-y.npy', new Int32Array(0), [0])}` }), none, 'no samples (shape [0, 3])');
  });

  it('a test file whose samples differ from the training file\'s, naming both', () => {
    const three = file('three.csv', 'a,b,c,label\n1,2,3,0\n');
    expectDataFileError(() => loadDataFiles({ data: good, testData: three }), three, `samples of shape [3] (3 features), but the training file ${good} has samples of shape [2] (2 features)`);
    const x = npy('d-x.npy', f32([1, 2, 3, 4]), [1, 1, 2, 2]);
    const y = npy('d-y.npy', Int32Array.from([0]), [1]);
    expectDataFileError(() => loadDataFiles({ data: good, testData: `${x},${y}` }), x, `samples of shape [1, 2, 2] (4 features), but the training file ${good} has samples of shape [2]`);
    const swapped = file('swapped.csv', 'b,a,label\n1,2,0\n');
    expectDataFileError(() => loadDataFiles({ data: good, testData: swapped }), swapped, `line 1: the feature columns "b", "a" are not the training file ${good}'s "a", "b"`);
  });

  it('an .npy file with a bad magic string, an unsupported dtype, big-endian or Fortran order, or cut short', () => {
    const y = npy('n-y.npy', Int32Array.from([0, 1]), [2]);
    const cases: [string, Uint8Array, string][] = [
      ['magic', Buffer.from('this is not numpy data at all'), 'not a .npy file: it does not start with the magic string \\x93NUMPY'],
      ['version', npyBytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 1), }", f32Bytes([1, 2])).fill(4, 6, 7), 'unsupported .npy format version 4.0'],
      ['complex', npyBytes(1, "{'descr': '<c8', 'fortran_order': False, 'shape': (2, 1), }", new Uint8Array(16)), "unsupported dtype '<c8'; the dtypes read are <f4 <f8 <i1 |i1"],
      ['float16', npyBytes(1, "{'descr': '<f2', 'fortran_order': False, 'shape': (2, 1), }", new Uint8Array(4)), "unsupported dtype '<f2'"],
      ['structured', npyBytes(1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2, 1), }", new Uint8Array(8)), 'unsupported dtype [["a","<f4"]]: structured arrays are not read'],
      ['big-endian', npyBytes(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (2, 1), }", new Uint8Array(8)), "big-endian dtype '>f4' is not read; save the array little-endian, e.g. a.astype('<f4')"],
      ['fortran', npyBytes(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 1), }", new Uint8Array(8)), 'fortran_order is True (column-major data) and only C order is read'],
      ['truncated', npyBytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 1), }", new Uint8Array(7)), 'truncated data: shape (2, 1) of float32 needs 8 bytes after the 128-byte header, the file has 7'],
      ['extra', npyBytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 1), }", new Uint8Array(9)), 'extra bytes after the data'],
      ['cut-header', npyBytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 1), }", new Uint8Array(8)).subarray(0, 40), 'truncated header: its length field says 118 bytes, 30 follow it'],
      ['bad-header', npyBytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 1)", new Uint8Array(8)), "bad header \"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 1)\": expected ',' at character"],
    ];
    for (const [name, bytes, message] of cases) {
      const x = file(`n-${name}.npy`, bytes);
      expectDataFileError(() => loadDataFiles({ data: `${x},${y}` }), x, message);
    }
  });

  it('a bad idx file, as a DataFileError', () => {
    const images = file('bad-idx3-ubyte', Buffer.from('not idx data'));
    const labels = file('ok-idx1-ubyte', encodeIdx([1], Uint8Array.from([0])));
    expectDataFileError(() => loadDataFiles({ data: `${images},${labels}` }), images, 'not an idx file');
  });

  it('CSV quotes that do not close or are followed by more', () => {
    csvError('open.csv', 'a,label\n1,0\n"2,0\n3,0\n', 'line 3: a quoted field in column 1 is not closed before the end of the file');
    csvError('after.csv', 'a,label\n"1"x,0\n', 'line 2: unexpected "x" after the closing quote of column 1');
  });

  it('a data file in none of the forms read, saying which are', () => {
    const forms = '"FILE.csv", "FEATURES.npy,LABELS.npy" or "IMAGES-idx3-ubyte[.gz],LABELS-idx1-ubyte[.gz]"';
    for (const data of ['iris.txt', 'x.npy', 'a.npy,b.npy,c.npy', 'a.npy,']) {
      expectDataFileError(() => loadDataFiles({ data }), data, `not a form of data file normnet reads; give ${forms}`);
    }
    expect(() => loadDataFiles({ data: '' } as DataFilesOptions)).toThrow(TypeError);
  });
});

const PYTHON = '/usr/bin/python3';
const haveNumpy = spawnSync(PYTHON, ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;

describe.skipIf(!haveNumpy && process.env.REQUIRE_TORCH !== '1')('.npy files and NumPy', () => {
  /** Runs a Python snippet with numpy as np and `d` the work folder; fails the test with its stderr. */
  function python(code: string): void {
    const run = spawnSync(PYTHON, ['-c', `import numpy as np, sys\nd = sys.argv[1]\n${code}`, work], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
  }

  it('reads what np.save writes (float32 [N, D], int64 labels, float64, versions 2.0 and 3.0), byte for byte as encodeNpy writes it', () => {
    python(`
x = (np.arange(15, dtype=np.float32).reshape(5, 3) - 7) / 4
np.save(f'{d}/np-x.npy', x)
np.save(f'{d}/np-y.npy', np.array([0, 2, 1, 2, 0], dtype=np.int64))
np.save(f'{d}/np-f64.npy', np.arange(8).reshape(2, 1, 2, 2) / 8 - 0.5)
for v in (2, 3):
    with open(f'{d}/np-v{v}.npy', 'wb') as f:
        np.lib.format.write_array(f, x, version=(v, 0))
`);
    const x = Float32Array.from({ length: 15 }, (_, i) => (i - 7) / 4);
    expect(readNpy(join(work, 'np-x.npy'))).toEqual({ dtype: 'float32', shape: [5, 3], data: x });
    expect(readNpy(join(work, 'np-v2.npy')).data).toEqual(x);
    expect(readNpy(join(work, 'np-v3.npy')).data).toEqual(x);
    expect(readNpy(join(work, 'np-y.npy'))).toEqual({ dtype: 'int64', shape: [5], data: BigInt64Array.from([0n, 2n, 1n, 2n, 0n]) });
    const f64 = readNpy(join(work, 'np-f64.npy'));
    expect(f64.dtype).toBe('float64');
    expect(f64.shape).toEqual([2, 1, 2, 2]);
    expect(f64.data).toEqual(Float64Array.from({ length: 8 }, (_, i) => i / 8 - 0.5));
    expect(Buffer.from(encodeNpy(x, [5, 3]))).toEqual(readFileSync(join(work, 'np-x.npy')));

    const { train } = loadDataFiles({ data: `${join(work, 'np-x.npy')},${join(work, 'np-y.npy')}`, scale: 'standard' });
    expect(train.shape).toEqual([5, 3]);
    expect(Array.from(train.labels)).toEqual([0, 2, 1, 2, 0]);
  });

  it('writes what np.load reads', () => {
    file('ts-f32.npy', encodeNpy(f32([1.5, -2, 3, 4]), [2, 2]));
    file('ts-u8.npy', encodeNpy(Uint8Array.from([0, 255, 7]), [3]));
    file('ts-i64.npy', encodeNpy(BigInt64Array.from([-5n, 2n ** 40n]), [2]));
    python(`
assert np.array_equal(np.load(f'{d}/ts-f32.npy'), np.array([[1.5, -2], [3, 4]], dtype=np.float32)), 'f32'
u8 = np.load(f'{d}/ts-u8.npy'); assert u8.dtype == np.uint8 and list(u8) == [0, 255, 7], 'u8'
i64 = np.load(f'{d}/ts-i64.npy'); assert i64.dtype == np.int64 and list(i64) == [-5, 2**40], 'i64'
`);
  });
});
