/**
 * Damaged files: every kind normnet reads back — a safetensors file from Sequential.save, a checkpoint's
 * model.safetensors, optimizer.safetensors, trainer.json and SHA256SUMS, an idx file and an idx.gz — truncated at many lengths (every
 * length for the small ones, a seeded sample for the larger) and with single bits flipped at many positions (every
 * bit of the small ones, a seeded sample of the larger). Each read must throw an error whose message names the
 * damaged file, and never return. The exceptions are stated and checked: a flip in an idx file's elements cannot
 * be seen in the format (unless the file's SHA-256 is known, as MNIST's and Fashion-MNIST's are: then it is an
 * error too), and a flip in a gzip header's MTIME, XFL or OS byte or its FTEXT flag, or in the padding bits after
 * a stored deflate block's header, changes nothing gunzip returns (checked: the same data comes back).
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeIdx, encodeIdx, IdxError, readIdx } from '../src/data/idx.js';
import { readIdxDataset } from '../src/data/idx-dataset.js';
import { decodeSafetensors, encodeSafetensors, readSafetensors, SafetensorsError } from '../src/io/safetensors.js';
import { BatchNorm1d, Linear, ReLU, Sequential } from '../src/nn/index.js';
import { readCheckpoint } from '../src/train/checkpoint.js';
import { resolveConfig } from '../src/train/config.js';
import { executeRun } from '../src/train/run.js';
import { seededRandom } from './support/random.js';

const work = mkdtempSync(join(tmpdir(), 'normnet-corrupt-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const random = seededRandom(19);
const counts = { truncations: 0, flips: 0, harmless: 0 };
afterAll(() => console.log(`corrupt files: ${counts.truncations} truncations and ${counts.flips} single-bit flips, each an error naming the file; ` +
  `${counts.harmless} flips in gzip header fields or deflate padding that change nothing (the same data back)`));

/** Lengths to cut `size` bytes to: all of them up to `all`, else `sample` seeded ones plus the first and last 16. */
function cuts(size: number, all = 4096, sample = 300): number[] {
  if (size <= all) return Array.from({ length: size }, (_, i) => i);
  const set = new Set<number>();
  for (let i = 0; i < 16; i++) set.add(i).add(size - 1 - i);
  while (set.size < sample + 32) set.add(Math.floor(random() * size));
  return [...set].sort((a, b) => a - b);
}

/** Bit positions to flip in `size` bytes (within [from, to)): all of them up to `all` bits, else `sample` seeded ones. */
function bits(size: number, all = 16384, sample = 600, from = 0, to = size): number[] {
  if ((to - from) * 8 <= all) return Array.from({ length: (to - from) * 8 }, (_, i) => from * 8 + i);
  const set = new Set<number>();
  while (set.size < sample) set.add(from * 8 + Math.floor(random() * (to - from) * 8));
  return [...set].sort((a, b) => a - b);
}

const flipped = (bytes: Uint8Array, bit: number) => {
  const copy = Buffer.from(bytes);
  copy[bit >> 3] ^= 1 << (bit & 7);
  return copy;
};

/** `read()` must throw an instance of `type` whose message names `file`; `what` says which damage, on failure. */
function expectError(read: () => unknown, file: string, type: new (...args: never[]) => Error, what: string): void {
  let returned = false;
  try {
    read();
    returned = true;
  } catch (error) {
    if (!(error instanceof type) || !(error as Error).message.includes(file)) {
      throw new Error(`${what}: expected a ${type.name} naming ${file}, got ${(error as Error)?.stack ?? String(error)}`);
    }
  }
  if (returned) throw new Error(`${what}: the read returned`);
}

describe('safetensors', () => {
  const model = new Sequential([new Linear(6, 5), new BatchNorm1d(5), new ReLU(), new Linear(5, 3)], { backend: 'ts', seed: 1, inputShape: [6] });
  const saved = join(work, 'saved.safetensors');
  model.save(saved);
  const bytes = readFileSync(saved);
  const damaged = join(work, 'damaged.safetensors');

  it('reads back what Sequential.save wrote, with its checksum verified', () => {
    const { tensors, metadata, verified } = readSafetensors(saved);
    expect(verified).toBe(true);
    expect(Object.keys(metadata)).toEqual(['normnet.architecture']);
    expect(tensors['0.weight'].data).toEqual(model.stateDict()['0.weight'].data);
  });

  it(`truncated at every length (${bytes.length} bytes)`, () => {
    // In memory (decodeSafetensors, what readSafetensors does with the file's bytes), then a sample through the file.
    for (const length of cuts(bytes.length)) {
      expectError(() => decodeSafetensors(bytes.subarray(0, length), damaged), damaged, SafetensorsError, `cut to ${length}`);
      counts.truncations++;
    }
    for (const length of cuts(bytes.length, 0, 50)) {
      writeFileSync(damaged, bytes.subarray(0, length));
      expectError(() => readSafetensors(damaged), damaged, SafetensorsError, `file cut to ${length}`);
    }
  });

  it('with every single bit flipped, header and data', () => {
    // In memory (decodeSafetensors, the bytes readSafetensors reads): every bit of the file, in a second or so.
    for (const bit of bits(bytes.length, Infinity)) {
      expectError(() => decodeSafetensors(flipped(bytes, bit), damaged), damaged, SafetensorsError, `bit ${bit}`);
      counts.flips++;
    }
    writeFileSync(damaged, flipped(bytes, (bytes.length - 1) * 8)); // and once through the file
    expect(() => readSafetensors(damaged)).toThrow(/damaged\.safetensors: not a valid safetensors file: corrupt: its contents do not match the normnet\.sha256 checksum/);
  });

  it('without a checksum (a file from torch or an older normnet) still reads, with the structure checks only', () => {
    const header = JSON.parse(bytes.subarray(8, 8 + Number(bytes.readBigUInt64LE(0))).toString());
    delete header.__metadata__['normnet.sha256'];
    let json = JSON.stringify(header);
    json += ' '.repeat((8 - (json.length % 8)) % 8);
    const old = Buffer.concat([Buffer.alloc(8), Buffer.from(json), bytes.subarray(8 + Number(bytes.readBigUInt64LE(0)))]);
    old.writeBigUInt64LE(BigInt(json.length), 0);
    const { tensors, verified } = decodeSafetensors(old);
    expect(verified).toBe(false);
    expect(tensors['3.bias'].data).toEqual(model.stateDict()['3.bias'].data);
    // The structure checks still see every truncation of it.
    for (const length of cuts(old.length)) expectError(() => decodeSafetensors(old.subarray(0, length), damaged), damaged, SafetensorsError, `old, cut to ${length}`);
  });
});

describe('safetensors structure, each fault by its message', () => {
  /** A file by hand: the 8-byte length, the header as given (text, so duplicates and odd layouts can be written), the data. */
  const file = (header: string, data: Buffer | number) => {
    const bytes = Buffer.concat([Buffer.alloc(8), Buffer.from(header), typeof data === 'number' ? Buffer.alloc(data) : data]);
    bytes.writeBigUInt64LE(BigInt(Buffer.byteLength(header)), 0);
    return bytes;
  };
  const t = (name: string, begin: number, end: number, shape = [(end - begin) / 4]) => `"${name}":{"dtype":"F32","shape":${JSON.stringify(shape)},"data_offsets":[${begin},${end}]}`;
  const cases: [string, Buffer, RegExp][] = [
    ['a hole between tensors', file(`{${t('a', 0, 16)},${t('b', 20, 36)}}`, 36), /bytes 16 to 20 of the data belong to no tensor \(the next is 'b'\)/],
    ['a hole at the start', file(`{${t('a', 4, 20)}}`, 20), /bytes 0 to 4 of the data belong to no tensor/],
    ['overlapping tensors', file(`{${t('a', 0, 16)},${t('b', 8, 24)}}`, 24), /tensors 'a' and 'b' overlap/],
    ['bytes after the last tensor', file(`{${t('a', 0, 16)}}`, 20), /4 bytes after the last tensor's data \(the tensors cover 16 of 20\)/],
    ['a tensor past the end', file(`{${t('a', 0, 16)}}`, 8), /truncated: tensor 'a' ends at byte 16 of the data, which has 8/],
    ['offsets not matching the shape', file(`{${t('a', 0, 16, [5])}}`, 16), /tensor 'a' of shape \[5\] needs 20 bytes, its offsets span 16/],
    ['offsets backwards', file(`{"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}`, 8), /tensor 'a' has bad data_offsets \[8,0\]/],
    ['a duplicated name (JSON keeps the last)', file(`{${t('a', 0, 16)},${t('a', 16, 32)}}`, 32), /bytes 0 to 16 of the data belong to no tensor/],
    ['an unknown dtype', file(`{"a":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}`, 4), /tensor 'a' has dtype "F16"; normnet reads F32, F64 and I64/],
    ['a bad shape', file(`{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, 4), /tensor 'a' has a bad shape \[-1\]/],
    ['metadata that is not strings', file(`{"__metadata__":{"n":1},${t('a', 0, 4)}}`, 4), /__metadata__ is not a map of strings to strings/],
    ['a header that is not an object', file('[1,2]', 0), /the header is not a JSON object/],
    ['a header that is not UTF-8', file('{"ab":1}', 0).fill(0xff, 10, 12), /the header is not JSON \(The encoded data was not valid for encoding utf-8\)/],
    ['a checksum key one bit off', file(`{"__metadata__":{"normnet.sha257":"${'0'.repeat(64)}"},${t('a', 0, 4)}}`, 4), /corrupt: its metadata has a key 'normnet.sha257', one bit away from the checksum key 'normnet.sha256'/],
    ['a checksum that is not hex', file(`{"__metadata__":{"normnet.sha256":"xyz"},${t('a', 0, 4)}}`, 4), /corrupt: its normnet.sha256 checksum "xyz" is not 64 hex digits/],
    ['a checksum that does not match', file(`{"__metadata__":{"normnet.sha256":"${'0'.repeat(64)}"},${t('a', 0, 4)}}`, 4), /corrupt: its contents do not match the normnet.sha256 checksum/],
  ];
  for (const [what, bytes, message] of cases) {
    it(`rejects ${what}, naming the file`, () => {
      expect(() => decodeSafetensors(bytes, 'some.safetensors')).toThrow(SafetensorsError);
      expect(() => decodeSafetensors(bytes, 'some.safetensors')).toThrow(new RegExp(`^some\\.safetensors: not a valid safetensors file: ${message.source}`));
    });
  }

  it('reads a file without tensors and one covered exactly in any order', () => {
    expect(decodeSafetensors(file('{}', 0)).tensors).toEqual({});
    const { tensors } = decodeSafetensors(file(`{${t('b', 16, 24)},${t('a', 0, 16)}}`, 24));
    expect(Object.keys(tensors)).toEqual(['b', 'a']);
  });

  it('keeps the checksum key to itself, and verifies a file another tool re-saved with the same contents and metadata', () => {
    expect(() => encodeSafetensors({}, { 'normnet.sha256': 'x' })).toThrow(/metadata key 'normnet.sha256' is the checksum normnet writes/);
    const dict = new Sequential([new Linear(3, 2)], { backend: 'ts', seed: 4 }).stateDict();
    const ours = encodeSafetensors(dict, { format: 'pt' });
    const header = JSON.parse(ours.subarray(8, 8 + Number(ours.readBigUInt64LE(0))).toString());
    // As safetensors' save_file(tensors, metadata=f.metadata()) would: other order, other offsets, other layout.
    const names = Object.keys(dict).reverse();
    let offset = 0;
    const resaved: Record<string, unknown> = { __metadata__: header.__metadata__ };
    for (const name of names) {
      const bytes = dict[name].data.byteLength;
      resaved[name] = { dtype: dict[name].dtype, shape: dict[name].shape, data_offsets: [offset, offset + bytes] };
      offset += bytes;
    }
    const data = Buffer.concat(names.map((name) => Buffer.from(dict[name].data.buffer, dict[name].data.byteOffset, dict[name].data.byteLength)));
    const back = decodeSafetensors(file(JSON.stringify(resaved, null, 2), data), 'resaved.safetensors');
    expect(back.verified).toBe(true);
    expect(back.metadata).toEqual({ format: 'pt' });
    expect(back.tensors['0.weight'].data).toEqual(dict['0.weight'].data);
  });
});

describe('a checkpoint', () => {
  const run = join(work, 'run');
  const copy = join(work, 'copy'); // a checkpoint directory, damaged one file at a time
  const files = ['model.safetensors', 'optimizer.safetensors', 'trainer.json', 'SHA256SUMS'];
  const original: Record<string, Buffer> = {};
  beforeAll(async () => {
    await executeRun(resolveConfig({ trainLimit: 200, hidden: [8], epochs: 1, batchSize: 50, optimizer: 'adam', backend: 'ts' }, 'test'), run);
    mkdirSync(copy);
    for (const f of files) {
      copyFileSync(join(run, 'checkpoint', f), join(copy, f));
      original[f] = readFileSync(join(copy, f));
    }
  }, 60_000);
  const restore = (f: string) => writeFileSync(join(copy, f), original[f]);

  it('is written with a SHA256SUMS that sha256sum -c reads, and reads back', () => {
    const sha = (f: string) => createHash('sha256').update(original[f]).digest('hex');
    expect(original.SHA256SUMS.toString()).toBe(['model.safetensors', 'optimizer.safetensors', 'trainer.json'].map((f) => `${sha(f)}  ${f}\n`).join(''));
    expect(readCheckpoint(copy).trainer.epoch).toBe(1);
  });

  for (const f of files) {
    it(`with ${f} truncated at many lengths and bits flipped at many positions`, () => {
      const path = join(copy, f);
      const bytes = original[f];
      // Through the files (readCheckpoint reads the directory): every length of SHA256SUMS, 200 of the others;
      // 500 bits of each.
      for (const length of cuts(bytes.length, 4096, 200)) {
        writeFileSync(path, bytes.subarray(0, length));
        expectError(() => readCheckpoint(copy), path, Error, `${f} cut to ${length}`);
        counts.truncations++;
      }
      for (const bit of bits(bytes.length, 0, 500)) {
        writeFileSync(path, flipped(bytes, bit));
        expectError(() => readCheckpoint(copy), path, Error, `${f} bit ${bit}`);
        counts.flips++;
      }
      restore(f);
      expect(readCheckpoint(copy).trainer.epoch).toBe(1);
    });
  }

  it("with model.safetensors damaged and read on its own (loadModel's way), its own checks find it", () => {
    const path = join(copy, 'model.safetensors');
    const bytes = original['model.safetensors'];
    for (const length of cuts(bytes.length, 4096, 150)) {
      expectError(() => decodeSafetensors(bytes.subarray(0, length), path), path, SafetensorsError, `cut to ${length}`);
      counts.truncations++;
    }
    for (const bit of bits(bytes.length, 0, 600)) {
      expectError(() => decodeSafetensors(flipped(bytes, bit), path), path, SafetensorsError, `bit ${bit}`);
      counts.flips++;
    }
  });

  it('a checkpoint from before SHA256SUMS still loads; a flip in its trainer.json that stays JSON cannot be seen there', () => {
    rmSync(join(copy, 'SHA256SUMS'));
    try {
      expect(readCheckpoint(copy).trainer.epoch).toBe(1);
    } finally {
      restore('SHA256SUMS');
    }
  });

  it('a damaged checkpoint/ is an error that points at checkpoint.old/ when that is there, never a silent fall back', () => {
    const dir = join(work, 'fallback');
    mkdirSync(join(dir, 'checkpoint'), { recursive: true });
    mkdirSync(join(dir, 'checkpoint.old'));
    for (const f of files) {
      copyFileSync(join(copy, f), join(dir, 'checkpoint', f));
      copyFileSync(join(copy, f), join(dir, 'checkpoint.old', f));
    }
    writeFileSync(join(dir, 'checkpoint', 'trainer.json'), flipped(original['trainer.json'], 800));
    expect(() => readCheckpoint(dir)).toThrow(new RegExp(`checkpoint/trainer\\.json: corrupt checkpoint: .*; an older checkpoint is in .*checkpoint\\.old \\(move it to .*checkpoint to resume from it\\)$`));
    rmSync(join(dir, 'checkpoint', 'model.safetensors'));
    expect(() => readCheckpoint(dir)).toThrow(/checkpoint\/model\.safetensors: corrupt checkpoint: the file is missing; an older checkpoint is in/);
    // A crash between the two renames leaves only checkpoint.old/: that is read.
    rmSync(join(dir, 'checkpoint'), { recursive: true });
    expect(readCheckpoint(dir).dir).toBe(join(dir, 'checkpoint.old'));
  });
});

describe('idx', () => {
  const N = 20;
  const pixels = Uint8Array.from({ length: N * 7 * 9 }, () => Math.floor(random() * 256));
  const raw = Buffer.from(encodeIdx([N, 7, 9], pixels));
  const gz = gzipSync(raw);
  const damaged = join(work, 'damaged-idx3-ubyte');
  const damagedGz = join(work, 'damaged-idx3-ubyte.gz');
  const sha256 = createHash('sha256').update(raw).digest('hex');
  const known = { known: { sha256, what: "the test's images" } };

  it(`raw (${raw.length} bytes) truncated at every length, and every bit of its header flipped`, () => {
    for (const length of cuts(raw.length)) {
      expectError(() => decodeIdx(raw.subarray(0, length), damaged), damaged, IdxError, `cut to ${length}`);
      counts.truncations++;
    }
    for (const bit of bits(raw.length, Infinity, 0, 0, 16)) {
      expectError(() => decodeIdx(flipped(raw, bit), damaged), damaged, IdxError, `header bit ${bit}`);
      counts.flips++;
    }
    for (const length of cuts(raw.length, 0, 50)) {
      writeFileSync(damaged, raw.subarray(0, length));
      expectError(() => readIdx(damaged), damaged, IdxError, `file cut to ${length}`);
    }
  });

  it('raw, a flipped bit in the elements: unseen by the format, an error with the known SHA-256', () => {
    for (const bit of bits(raw.length, 0, 300, 16)) {
      expect(decodeIdx(flipped(raw, bit), damaged).data).not.toEqual(pixels); // the format has no way to see it
      expectError(() => decodeIdx(flipped(raw, bit), damaged, known), damaged, IdxError, `element bit ${bit}`);
      counts.flips++;
    }
    writeFileSync(damaged, flipped(raw, 200));
    expect(() => readIdx(damaged, known)).toThrow(/damaged-idx3-ubyte: corrupt: the SHA-256 of its idx bytes is [0-9a-f]{64}, the test's images's is [0-9a-f]{64}$/);
    writeFileSync(damaged, raw);
    expect(readIdx(damaged, known).data).toEqual(pixels);
  });

  it(`gzipped (${gz.length} bytes) truncated at every length and bits flipped everywhere`, () => {
    for (const length of cuts(gz.length)) {
      expectError(() => decodeIdx(gz.subarray(0, length), damagedGz), damagedGz, IdxError, `gz cut to ${length}`);
      counts.truncations++;
    }
    for (const length of cuts(gz.length, 0, 50)) {
      writeFileSync(damagedGz, gz.subarray(0, length));
      expectError(() => readIdx(damagedGz), damagedGz, IdxError, `gz file cut to ${length}`);
    }
    // gzip (RFC 1952): ID1 ID2 CM FLG MTIME(4) XFL OS, then deflate, then CRC-32 and ISIZE of the data, which gunzip
    // checks. MTIME, XFL, OS and FLG's FTEXT bit are information only, and random pixels do not compress, so the
    // deflate stream is one stored block (RFC 1951 BTYPE 00) whose 3 header bits are followed by 5 bits of padding
    // that inflate skips: a flip in any of these returns the same data.
    expect((gz[10] >> 1) & 3).toBe(0);
    const harmless = (bit: number) => (bit >> 3 >= 4 && bit >> 3 <= 9) || bit === 3 * 8 || (bit >> 3 === 10 && (bit & 7) >= 3);
    // In memory (decodeIdx, what readIdx does with the file's bytes): every bit of the gzip header and trailer and
    // 3000 of the deflate stream's; then a sample through the file.
    const gzBits = [...bits(gz.length, Infinity, 0, 0, 11), ...bits(gz.length, 0, 3000, 11, gz.length - 8), ...bits(gz.length, Infinity, 0, gz.length - 8)];
    for (const bit of gzBits) {
      if (harmless(bit)) {
        expect(decodeIdx(flipped(gz, bit), damagedGz).data).toEqual(pixels);
        counts.harmless++;
        continue;
      }
      expectError(() => decodeIdx(flipped(gz, bit), damagedGz), damagedGz, IdxError, `gz bit ${bit}`);
      counts.flips++;
    }
    for (const bit of bits(gz.length, 0, 100, 11)) {
      writeFileSync(damagedGz, flipped(gz, bit));
      expectError(() => readIdx(damagedGz), damagedGz, IdxError, `gz file bit ${bit}`);
    }
  });

  it('a pair read as a data set with known hashes: a flipped pixel or label is an error naming its file', () => {
    const labelsRaw = Buffer.from(encodeIdx([N], Uint8Array.from({ length: N }, (_, i) => i % 10)));
    const images = join(work, 'train-images-idx3-ubyte');
    const labels = join(work, 'train-labels-idx1-ubyte.gz');
    const knownFiles = {
      what: 'Test-MNIST',
      sha256: { 'train-images-idx3-ubyte': sha256, 'train-labels-idx1-ubyte': createHash('sha256').update(labelsRaw).digest('hex') },
    };
    writeFileSync(images, raw);
    writeFileSync(labels, gzipSync(labelsRaw));
    const read = () => readIdxDataset({ images, labels }, { classes: 10, name: 't', known: knownFiles });
    expect(read().length).toBe(N);
    writeFileSync(images, flipped(raw, 16 * 8 + 5));
    expect(read).toThrow(/train-images-idx3-ubyte: corrupt: the SHA-256 of its idx bytes is .*, Test-MNIST's train-images-idx3-ubyte's is/);
    writeFileSync(images, raw);
    writeFileSync(labels, gzipSync(flipped(labelsRaw, 8 * 8 + 1))); // a label 0 -> 2: still a class, seen only by the hash
    expect(read).toThrow(/train-labels-idx1-ubyte\.gz: corrupt: the SHA-256 of its idx bytes \(after gunzip\) is .*, Test-MNIST's train-labels-idx1-ubyte's is/);
  });
});
