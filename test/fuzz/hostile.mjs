/**
 * Hostile arguments for the fuzz driver, as printable descriptors: fast-check generates and shrinks the
 * descriptors (plain data, so a counterexample prints and replays), and `build` turns one into the value a call
 * receives — a detached or shared buffer, a Proxy whose traps throw, an object whose getters throw, a Symbol, a
 * BigInt, a huge or fractional dimension, or one of a few valid library objects (a model, a tensor) so calls get
 * past their first check. Values are built afresh for every call: a call may mutate or detach what it was given.
 */
import fc from 'fast-check';

/** What a hostile getter, trap or function throws: an error the library may let through, as JS built-ins do. */
export class HostileError extends Error {
  name = 'HostileError';
}
const boom = () => {
  throw new HostileError('hostile getter');
};

/** Numbers that break dimension and scalar checks. */
export const HOSTILE_NUMBERS = [
  -1, -0, 0.5, 1.5, NaN, Infinity, -Infinity, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 40, 2 ** 53, -(2 ** 31), 1e300,
  Number.MIN_VALUE, Number.MAX_SAFE_INTEGER + 2,
];
const PRIMITIVES = [
  undefined, null, true, false, 0, 1, 2, 3, 10, 0.1, 0.9, 1e-5, ...HOSTILE_NUMBERS,
  '', 'x', '1', 'NaN', 'relu', 'auto', 'ts', 'native', 'default', 'a\u0000b', '\ud800', 'file:///nonexistent-normnet-fuzz',
  '/nonexistent-normnet-fuzz/x', 'missing.bin', 'x'.repeat(3000), 10n, -1n, 2n ** 70n, Symbol('hostile'), Symbol.iterator,
];
/** Named objects `build` knows; the valid ones are small, so no call allocates more than a few KB from them. */
const OBJECTS = [
  'getters', 'throwingProxy', 'transparentProxy', 'nullProto', 'emptyObject', 'emptyArray', 'fn', 'throwingFn',
  'date', 'map', 'regexp', 'frozen', 'cyclic', 'valueOfThrows', 'hugeLengthArray', 'sparseArray', 'buffer', 'arrayBuffer',
  'sab', 'dataView', 'model', 'modelNative', 'layer', 'tensor', 'tensorNaN', 'random', 'dataset', 'stateDict', 'params',
  'config', 'emptyFile', 'garbageFile', 'dir', 'fileUrl',
];
/** Option names the library reads somewhere: an options object of hostile values reaches its checks. */
const OPTION_KEYS = [
  'backend', 'seed', 'bias', 'init', 'lr', 'momentum', 'dampening', 'weightDecay', 'eps', 'beta1', 'beta2', 'alpha',
  'lrDecay', 'stride', 'padding', 'kernelSize', 'affine', 'p', 'epochs', 'batchSize', 'shuffle', 'classes', 'shape',
  'x', 'labels', 'data', 'name', 'dtype', 'inputShape', 'fuse', 'checkFinite', 'validation', 'scale', 'label',
  'features', 'trainLimit', 'dataset', 'dataDir', 'model', 'optimizer', 'layers', 'hidden', 'activation', 'out',
  'dir', 'title', 'series', 'rows', 'columns', 'sections', 'benches', 'quick', 'threads', 'isa', 'opset', 'metadata',
  'header', 'delimiter', 'test', 'testData', 'epochsRun', 'width', 'height', 'plot', 'config', 'describe', 'command',
  'format', 'version', 'type', 'options', 'step', 'parameters', 'buffers', 'graph', 'nodes', 'irVersion',
];
const VIEWS = ['plain', 'plain', 'plain', 'sab', 'offset', 'detached', 'resizable', 'f64', 'proxy', 'fakeProto', 'short', 'long', 'empty'];
const FILLS = ['zeros', 'ramp', 'special'];
const INDEX_FILLS = ['valid', 'valid', 'valid', 'negative', 'big', 'edge'];

const typedArray = (type) =>
  fc.record({ t: fc.constant(type), n: fc.nat(12), view: fc.constantFrom(...VIEWS), fill: fc.constantFrom(...(type === 'i32' ? INDEX_FILLS : FILLS)) });

/** A hostile value's descriptor; `depth` bounds nesting in arrays and options objects. */
export function hostile(depth = 2) {
  const leaf = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...PRIMITIVES).map((p) => ({ p })) },
    { weight: 2, arbitrary: fc.oneof(fc.double(), fc.integer({ min: -3, max: 8 })).map((p) => ({ p })) },
    { weight: 1, arbitrary: fc.string({ maxLength: 6 }).filter((s) => !s.includes('/') && !s.includes('..')).map((p) => ({ p })) },
    { weight: 3, arbitrary: fc.constantFrom(...OBJECTS).map((o) => ({ o })) },
    { weight: 2, arbitrary: fc.oneof(typedArray('f32'), typedArray('i32'), typedArray('u8')) },
  );
  if (depth <= 0) return leaf;
  const inner = hostile(depth - 1);
  return fc.oneof(
    { weight: 6, arbitrary: leaf },
    { weight: 1, arbitrary: fc.array(inner, { maxLength: 4 }).map((arr) => ({ arr })) },
    { weight: 2, arbitrary: fc.dictionary(fc.constantFrom(...OPTION_KEYS), inner, { maxKeys: 4 }).map((opts) => ({ opts })) },
  );
}

/** `count` positional arguments: mostly `arity` of them, sometimes one more or fewer. */
export function hostileArgs(arity) {
  return fc.array(hostile(), { minLength: Math.max(0, arity - 1), maxLength: arity + 1 });
}

/** The fixtures the child made in its temporary working directory (see driver.mjs). */
export const fixtures = { dir: '', emptyFile: '', garbageFile: '', lib: undefined, kernels: undefined };

function fillValues(a, fill, range) {
  for (let i = 0; i < a.length; i++) {
    switch (fill) {
      case 'zeros': a[i] = 0; break;
      case 'ramp': a[i] = (i % 7) - 3; break;
      case 'special': a[i] = [NaN, Infinity, -Infinity, -0, 3.4e38, 1e-45][i % 6]; break;
      case 'valid': a[i] = range > 0 ? i % range : 0; break;
      case 'negative': a[i] = -1 - i; break;
      case 'big': a[i] = 2 ** 31 - 1 - i; break;
      case 'edge': a[i] = range; break;
      default: a[i] = 0;
    }
  }
  return a;
}

const TYPES = { f32: Float32Array, i32: Int32Array, u8: Uint8Array };

/** A typed array of `n` elements of `t`, in one of the hostile `view`s; `range` bounds index fills. */
export function makeArray({ t, n, view, fill }, range = 0) {
  const Type = TYPES[t];
  const make = (length) => fillValues(new Type(length), fill, range);
  switch (view) {
    case 'sab': {
      const a = new Type(new SharedArrayBuffer(n * Type.BYTES_PER_ELEMENT));
      return fillValues(a, fill, range);
    }
    case 'offset': {
      const whole = new Type(n + 3);
      return fillValues(whole.subarray(1, 1 + n), fill, range);
    }
    case 'detached': {
      const a = make(n);
      structuredClone(a.buffer, { transfer: [a.buffer] });
      return a;
    }
    case 'resizable': {
      const buffer = new ArrayBuffer(n * Type.BYTES_PER_ELEMENT, { maxByteLength: (n + 8) * Type.BYTES_PER_ELEMENT });
      return fillValues(new Type(buffer), fill, range);
    }
    case 'f64': return fillValues(new (t === 'f32' ? Float64Array : Float32Array)(n), fill, range);
    case 'proxy': return new Proxy(make(n), {});
    case 'fakeProto': return Object.setPrototypeOf({ length: n }, Type.prototype);
    case 'short': return make(Math.max(0, n - 1));
    case 'long': return make(n + 1);
    case 'empty': return make(0);
    default: return make(n);
  }
}

function object(name) {
  const { lib } = fixtures;
  switch (name) {
    case 'getters': {
      const o = {};
      for (const key of OPTION_KEYS) Object.defineProperty(o, key, { get: boom, enumerable: true });
      for (const key of ['length', 'data', 'shape', 'then', 'buffer', 'byteLength']) Object.defineProperty(o, key, { get: boom, enumerable: key !== 'then' });
      return o;
    }
    case 'throwingProxy':
      return new Proxy({}, {
        get: boom, has: boom, ownKeys: boom, getPrototypeOf: boom, getOwnPropertyDescriptor: boom, set: boom, apply: boom,
        construct: boom, defineProperty: boom, deleteProperty: boom, isExtensible: boom, preventExtensions: boom, setPrototypeOf: boom,
      });
    case 'transparentProxy': return new Proxy(new Float32Array(4), {});
    case 'nullProto': return Object.create(null);
    case 'emptyObject': return {};
    case 'emptyArray': return [];
    case 'fn': return () => {};
    case 'throwingFn': return boom;
    case 'date': return new Date(NaN);
    case 'map': return new Map([['a', 1]]);
    case 'regexp': return /x/;
    case 'frozen': return Object.freeze({ a: 1 });
    case 'cyclic': {
      const o = { a: 1 };
      o.self = o;
      o.list = [o];
      return o;
    }
    case 'valueOfThrows': return { valueOf: boom, toString: boom, [Symbol.toPrimitive]: boom };
    case 'hugeLengthArray': return Object.assign([], { length: 1e5 }); // 2^32 - 1 holes: every() and forEach() loop for minutes (see the report)
    case 'sparseArray': return [1, , 3]; // eslint-disable-line no-sparse-arrays
    case 'buffer': return Buffer.from('hostile');
    case 'arrayBuffer': return new ArrayBuffer(8);
    case 'sab': return new SharedArrayBuffer(8);
    case 'dataView': return new DataView(new ArrayBuffer(8));
    case 'model': return new lib.Sequential([new lib.Linear(4, 3), new lib.ReLU(), new lib.Linear(3, 2)], { backend: 'ts', seed: 1 });
    case 'modelNative': return new lib.Sequential([new lib.Linear(4, 3), new lib.BatchNorm1d(3), new lib.ReLU(), new lib.Linear(3, 2)], { seed: 1 });
    case 'layer': return new lib.Linear(4, 3);
    case 'tensor': return { data: new Float32Array(8).fill(0.5), shape: [2, 4] };
    case 'tensorNaN': return { data: new Float32Array(8).fill(NaN), shape: [2, 4] };
    case 'random': return new lib.Random(1);
    case 'dataset': return lib.fromArrays({ x: new Float32Array(8), shape: [2, 4], labels: [0, 1] });
    case 'stateDict': return { '0.weight': { dtype: 'F32', shape: [3, 4], data: new Float32Array(12) } };
    case 'params': return fixtures.params();
    case 'config': return { ...lib.DEFAULT_CONFIG };
    case 'emptyFile': return fixtures.emptyFile;
    case 'garbageFile': return fixtures.garbageFile;
    case 'dir': return fixtures.dir;
    case 'fileUrl': return new URL('file:///nonexistent-normnet-fuzz/x');
    default: throw new Error(`unknown hostile object ${name}`);
  }
}

/** The value a descriptor stands for. */
export function build(desc) {
  if ('p' in desc) return desc.p;
  if ('o' in desc) return object(desc.o);
  if ('t' in desc) return makeArray(desc, 4);
  if ('arr' in desc) return desc.arr.map(build);
  if ('opts' in desc) return Object.fromEntries(Object.entries(desc.opts).map(([k, v]) => [k, build(v)]));
  throw new Error(`bad descriptor ${JSON.stringify(desc)}`);
}
