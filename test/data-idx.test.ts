/** The idx reader: round trips on files written here (raw and gzipped), and every malformed file, by its message. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeIdx, encodeIdx, IdxError, readIdx } from '../src/data/idx.js';
import { readIdxDataset } from '../src/data/idx-dataset.js';

const work = mkdtempSync(join(tmpdir(), 'normnet-idx-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** idx bytes written by hand (not by encodeIdx), so the reader is checked against the format, not itself. */
function idxBytes(magic: number, dims: number[], data: number[] | Uint8Array): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header.writeUInt32BE(magic, 0);
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, Buffer.from(data)]);
}

function file(name: string, bytes: Uint8Array): string {
  const path = join(work, name);
  writeFileSync(path, bytes);
  return path;
}

const pixels = Uint8Array.from({ length: 3 * 4 * 5 }, (_, i) => (i * 37) % 256);

describe('readIdx', () => {
  it('reads a 3-d uint8 file, raw and gzipped, to the same dims and bytes', () => {
    const raw = idxBytes(0x00000803, [3, 4, 5], pixels);
    for (const path of [file('images-idx3-ubyte', raw), file('images-idx3-ubyte.gz', gzipSync(raw))]) {
      const { dims, data } = readIdx(path);
      expect(dims).toEqual([3, 4, 5]);
      expect(data).toBeInstanceOf(Uint8Array);
      expect(Array.from(data)).toEqual(Array.from(pixels));
    }
  });

  it('reads a 1-d labels file and an empty one', () => {
    expect(Array.from(readIdx(file('labels', idxBytes(0x00000801, [4], [5, 0, 4, 1]))).data)).toEqual([5, 0, 4, 1]);
    expect(readIdx(file('empty', idxBytes(0x00000803, [0, 28, 28], []))).dims).toEqual([0, 28, 28]);
  });

  it('round-trips through encodeIdx, raw and gzipped, and encodeIdx writes the bytes by hand', () => {
    const encoded = encodeIdx([3, 4, 5], pixels);
    expect(Buffer.from(encoded)).toEqual(idxBytes(0x00000803, [3, 4, 5], pixels));
    for (const bytes of [encoded, gzipSync(encoded)]) {
      const back = decodeIdx(bytes);
      expect(back.dims).toEqual([3, 4, 5]);
      expect(back.data).toEqual(pixels);
    }
    expect(() => encodeIdx([2, 2], pixels)).toThrow(RangeError);
    expect(() => encodeIdx([], pixels)).toThrow(/dims/);
  });

  const bad: [string, Uint8Array, RegExp][] = [
    ['wrong magic', idxBytes(0x08030000, [3, 4, 5], pixels), /wrong-magic: not an idx file: magic number 0x08030000 does not start with two zero bytes/],
    ['text file', Buffer.from('hello, this is not idx data'), /text-file: not an idx file: magic number 0x68656c6c/],
    ['float32 type', idxBytes(0x00000d03, [3, 4, 5], new Uint8Array(240)), /float32-type: unsupported element type 0x0d \(float32\) in magic number 0x00000d03: only 0x08 \(uint8\) is read/],
    ['unknown type', idxBytes(0x00000703, [3, 4, 5], pixels), /unknown-type: not an idx file: unknown element type 0x07/],
    ['zero dims', Buffer.from([0, 0, 8, 0]), /zero-dims: magic number 0x00000800 gives 0 dimensions/],
    ['short magic', Buffer.from([0, 0, 8]), /short-magic: truncated header: expected at least 4 bytes \(magic number\), got 3/],
    ['truncated header', idxBytes(0x00000803, [60000, 28, 28], []).subarray(0, 10), /truncated-header: truncated header: expected 16 bytes for 3 dimensions, got 10/],
    ['truncated data', idxBytes(0x00000803, [60000, 28, 28], new Uint8Array(984)), /truncated-data: truncated: expected 47040016 bytes \(16 of header and 47040000 of data for 60000×28×28\), got 1000$/],
    ['extra bytes', idxBytes(0x00000801, [4], [1, 2, 3, 4, 5]), /extra-bytes: extra bytes after the data: expected 12 bytes \(8 of header and 4 of data for 4\), got 13$/],
  ];
  for (const [what, bytes, message] of bad) {
    it(`rejects a file with ${what}, naming the file and the fault`, () => {
      const path = file(what.replace(/ /g, '-'), bytes);
      expect(() => readIdx(path)).toThrow(IdxError);
      expect(() => readIdx(path)).toThrow(message);
      expect(() => readIdx(path)).toThrow(path);
    });
  }

  it('says "after gunzip" for a gzipped file that is truncated inside', () => {
    const path = file('train-images-idx3-ubyte.gz', gzipSync(idxBytes(0x00000803, [60000, 28, 28], new Uint8Array(984))));
    expect(() => readIdx(path)).toThrow(/train-images-idx3-ubyte\.gz: truncated: expected 47040016 bytes .*, got 1000 after gunzip$/);
  });

  it('rejects corrupt and cut gzip data', () => {
    const gz = gzipSync(idxBytes(0x00000803, [3, 4, 5], pixels));
    const corrupt = Buffer.from(gz);
    corrupt.fill(0xff, 10, 30); // the deflate stream
    expect(() => readIdx(file('corrupt.gz', corrupt))).toThrow(/corrupt\.gz: corrupt gzip data: /);
    expect(() => readIdx(file('cut.gz', gz.subarray(0, gz.length - 12)))).toThrow(/cut\.gz: corrupt gzip data: unexpected end of file/);
    const badCrc = Buffer.from(gz);
    badCrc[badCrc.length - 8] ^= 0xff;
    expect(() => readIdx(file('crc.gz', badCrc))).toThrow(/crc\.gz: corrupt gzip data: /);
  });

  it('names a missing file', () => {
    expect(() => readIdx(join(work, 'nope'))).toThrow(/nope: cannot read: ENOENT/);
  });
});

describe('readIdxDataset', () => {
  const images = () => file('ds-images', idxBytes(0x00000803, [3, 4, 5], pixels));

  it('pairs images and labels into a uint8 dataset [N, 1, H, W] without copying the pixels', () => {
    const ds = readIdxDataset({ images: images(), labels: file('ds-labels', idxBytes(0x00000801, [3], [2, 0, 1])) }, { classes: 3, name: 'tiny' });
    expect(ds.shape).toEqual([3, 1, 4, 5]);
    expect(ds.x).toBeInstanceOf(Uint8Array);
    expect(ds.x).toEqual(pixels);
    expect(Array.from(ds.labels)).toEqual([2, 0, 1]);
  });

  it('rejects labels that do not fit the images', () => {
    const labels = (name: string, dims: number[], data: number[]) => file(name, idxBytes(0x00000800 | dims.length, dims, data));
    expect(() => readIdxDataset({ images: images(), labels: labels('l-count', [2], [0, 1]) }, { classes: 3, name: 't' })).toThrow(/l-count: 2 labels for the 3 images/);
    expect(() => readIdxDataset({ images: images(), labels: labels('l-class', [3], [0, 7, 1]) }, { classes: 3, name: 't' })).toThrow(/l-class: label 1 is 7, not a class in \[0, 3\)/);
    expect(() => readIdxDataset({ images: images(), labels: labels('l-dims', [3, 1], [0, 1, 2]) }, { classes: 3, name: 't' })).toThrow(/l-dims: expected labels of 1 dimension \(N\), got 2: 3×1/);
    const flat = file('flat-images', idxBytes(0x00000801, [60], pixels));
    expect(() => readIdxDataset({ images: flat, labels: labels('l-ok', [3], [0, 1, 2]) }, { classes: 3, name: 't' })).toThrow(/flat-images: expected images of 3 dimensions \(N, H, W\), got 1: 60/);
  });
});
