/**
 * The fuzz child: `node test/fuzz/driver.mjs --group kernels-native|kernels-ts|exports --seed S --runs N
 * [--target name] [--path P]` calls every target of the group N times with hostile arguments (fast-check, seeded
 * per target from S and its name, so one target replays alone: --target name --seed S --path P) and prints one
 * line of JSON: calls and seconds per target, and each finding — a thrown non-Error, an error that is not a
 * TypeError, RangeError or one of the library's named errors, an internal error ("Cannot read properties of
 * undefined", "Invalid typed array length", ...), or a promise still pending after 5 s — with its shrunk
 * counterexample. A crash is the parent's to see (a signal), as is a hang or a handle left open (no exit).
 * `--list` prints the export names the table covers. Runs in a temporary working directory, removed at exit, so
 * whatever a call writes stays there.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { types } from 'node:util';
import fc from 'fast-check';
import { HostileError, build, fixtures, hostileArgs } from './hostile.mjs';
import { KERNEL_ARGS, kernelArgs, kernelCall } from './kernels.mjs';
import { KNOWN, exportsTable } from './targets.mjs';

const dist = new URL('../../dist/', import.meta.url);
const lib = await import(new URL('index.js', dist).href);
const { loadNative } = await import(new URL('kernels/native.js', dist).href);

const argv = process.argv.slice(2);
const option = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i < 0 ? fallback : argv[i + 1];
};
const group = option('group', 'exports');
const seed = Number(option('seed', 1));
const runs = Number(option('runs', 100));
const only = option('target', undefined);
const path = option('path', undefined);
/** A file that names the target in progress, so a crash or a hang can be traced to it and replayed. */
const progress = option('progress', undefined);

/** V8's and Node's words for a value the library did not check before using it. */
const INTERNAL = new RegExp([
  'Cannot read propert', 'Cannot set propert', 'is not a function', 'is not iterable', 'is not a constructor', 'Cannot convert',
  'Cannot mix BigInt', 'Cannot destructure', 'Invalid array length', 'Invalid typed array length', 'Array buffer allocation failed',
  'Maximum call stack', 'on a detached ArrayBuffer', 'not a typed array', 'called on non-object', 'incompatible receiver', 'serialize a BigInt',
  'circular structure', 'on proxy', 'Invalid string length', 'Invalid time value', 'Reduce of empty array', 'Start offset',
  'out of bounds', 'Invalid DataView', 'Cannot create property', 'object is not extensible', 'Cannot assign to read only',
  'Cannot add property', 'Cannot redefine', 'Symbol value', 'BigInt value', 'is not defined', 'Unexpected token',
].join('|'));

/**
 * Plain Errors the library throws on purpose, with a message that says what is wrong: reviewed one by one (a layer
 * used outside a model, backward before forward, a directory without a checkpoint).
 */
const REVIEWED_ERRORS = /is not part of a model yet|backward before forward|backward needs a forward in training mode first|eval only, it has no backward|no checkpoint here|no normnet architecture in its metadata|the tensors do not fit the architecture/;

const namedErrors = Object.values(lib).filter((v) => typeof v === 'function' && v.prototype instanceof Error);

/** Why an error is a finding, or null when it is an acceptable refusal. */
function finding(error, accept) {
  if (!types.isNativeError(error) && !(error instanceof Error)) return `threw a non-Error: ${safeString(error)}`;
  if (error instanceof HostileError) return null; // the caller's own getter or trap, let through
  const text = `${error.name}: ${error.message}`;
  if (accept?.(error)) return null;
  if (namedErrors.some((E) => error instanceof E)) return INTERNAL.test(error.message) ? `internal error wrapped: ${text}` : null;
  if (typeof error.code === 'string' && typeof error.syscall === 'string') return null; // ENOENT, EISDIR, ...: a bad path's own error
  if (typeof error.code === 'string' && error.code.startsWith('ERR_')) return `Node's own check (${error.code}): ${text}`;
  if (error.constructor === TypeError || error.constructor === RangeError) return INTERNAL.test(error.message) ? `internal error: ${text}` : null;
  if (error.constructor === Error && REVIEWED_ERRORS.test(error.message)) return null;
  return `not a TypeError/RangeError/named error: ${text}`;
}

function safeString(value) {
  try {
    return typeof value === 'symbol' ? value.toString() : String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

const PENDING = Symbol('pending');
/** A call's outcome: its value, or the error it threw, awaiting a promise for up to 5 s. */
async function outcome(call) {
  let value;
  try {
    value = call();
  } catch (error) {
    return { error };
  }
  if (!types.isPromise(value)) return { value };
  let timer;
  try {
    const settled = await Promise.race([value, new Promise((resolve) => { timer = setTimeout(resolve, 5000, PENDING); })]);
    return settled === PENDING ? { hung: true } : { value: settled };
  } catch (error) {
    return { error };
  } finally {
    clearTimeout(timer);
  }
}

class Finding extends Error {}

/** Runs `call`, throwing a Finding for a finding. */
async function check(call, accept) {
  const result = await outcome(call);
  if (result.hung) throw new Finding('a promise still pending after 5 s');
  if ('error' in result) {
    const why = finding(result.error, accept);
    if (why) throw new Finding(why);
  }
}

/** The group's targets: name -> { arb, run(args) }. */
function targets() {
  if (group === 'regressions') return regressions();
  if (group === 'kernels-native' || group === 'kernels-ts') {
    let kernels;
    if (group === 'kernels-ts') kernels = lib.getBackend('ts');
    else {
      const load = loadNative();
      if (!load.ok) return { skipped: load.reason };
      kernels = load.addon;
    }
    return Object.fromEntries(lib.KERNEL_NAMES.map((name) => [name, {
      arb: kernelCall(name),
      run: (call) => check(() => kernels[name](...kernelArgs(name, call))),
    }]));
  }
  const table = exportsTable(lib);
  const out = {};
  for (const [name, row] of Object.entries(table)) {
    const target = lib[name];
    if (row.kind === 'value') continue;
    if (row.kind === 'fn') {
      out[name] = { arb: hostileArgs(row.arity), run: (args) => check(() => target(...args.map(build))) };
    } else if (row.kind === 'error') {
      // What Error itself throws (a Symbol message is a TypeError) is fine here; only a crash or hang is not.
      out[name] = { arb: hostileArgs(2), run: (args) => check(() => new target(...args.map(build)), (e) => e instanceof TypeError) };
    } else if (row.kind === 'guarded') {
      out[name] = { arb: row.args, run: (args) => check(() => guarded(name, target, args)) };
    } else if (row.kind === 'class') {
      out[name] = { arb: hostileArgs(row.arity), run: (args) => check(() => new target(...args.map(build))) };
      for (const method of row.methods) {
        out[`${name}#${method}`] = {
          arb: fc.tuple(fc.boolean(), hostileArgs(2)),
          run: async ([bound, args]) => {
            const instance = row.make(bound);
            const member = instance[method];
            await check(() => (typeof member === 'function' ? member.apply(instance, args.map(build)) : member));
          },
        };
      }
      for (const setter of row.set ?? []) {
        out[`${name}.${setter}=`] = {
          arb: fc.tuple(fc.boolean(), hostileArgs(1)),
          run: ([bound, args]) => check(() => { row.make(bound)[setter] = args.length ? build(args[0]) : undefined; }),
        };
      }
    } else {
      throw new Error(`${name}: unknown kind ${row.kind}`);
    }
  }
  return out;
}

/**
 * The findings fuzzing made, each as the call that found it (shrunk): each must now throw the error named, at once.
 * A crash here is a signal in the child; a hang, its timeout.
 */
function regressions() {
  const native = loadNative();
  const ts = lib.getBackend('ts');
  const f32 = (n) => new Float32Array(n);
  const detached = () => {
    const a = f32(0);
    structuredClone(a.buffer, { transfer: [a.buffer] });
    return a;
  };
  const holes = () => Object.assign([], { length: 2 ** 32 - 1 });
  // An empty output with a huge window: the native kernel asked std::vector for 2^60 floats (abort).
  const conv = () => [f32(0), f32(0), f32(0), f32(0), 1, 1, 2, 0, 0, 1, 1, 4, 2 ** 31 - 1];
  const cases = {
    'conv2dForward native: empty output, window of 2^31 (abort)': [RangeError, () => native.ok && native.addon.conv2dForward(...conv())],
    'conv2dForward ts: empty output, window of 2^31': [RangeError, () => ts.conv2dForward(...conv())],
    'conv2dBackwardParams native: no images, window of 2^31': [RangeError, () => native.ok && native.addon.conv2dBackwardParams(f32(0), f32(0), f32(0), f32(0), 0, 1, 2, 2, 0, 1, 1, 1, 2 ** 31 - 1)],
    'linearForward ts: a detached y': [TypeError, () => ts.linearForward(detached(), f32(0), f32(0), null, 1, 0, 0)],
    'linearForward native: a detached y': [TypeError, () => native.ok && native.addon.linearForward(detached(), f32(0), f32(0), null, 1, 0, 0)],
    'gemm ts: a Proxy of a Float32Array': [TypeError, () => ts.gemm(false, false, 0, 0, 0, 1, new Proxy(f32(0), {}), f32(0), 0, f32(0))],
    'gatherScale (export): N = 1e258 (looped for ever)': [RangeError, () => lib.gatherScale(f32(0), new Uint8Array(0), new Int32Array(0), 1e258, 1, 1)],
    'gatherLabels (export): N = 2^40 (looped for ever)': [RangeError, () => lib.gatherLabels(new Int32Array(0), new Uint8Array(0), new Int32Array(0), 2 ** 40)],
    'oneHotRows (export): a label out of range (wrote outside a row)': [RangeError, () => lib.oneHotRows(f32(2), Int32Array.of(5), 1, 2)],
    'Sequential: 2^32 - 1 holes (looped for minutes)': [TypeError, () => new lib.Sequential(holes())],
    'AdaGrad: 2^32 - 1 holes': [TypeError, () => new lib.AdaGrad(holes(), { backend: 'ts' })],
    'Linear.forward: not a tensor': [TypeError, () => new lib.Linear(2, 2).forward({})],
    'Conv2d: kernelSize an object with throwing getters': [TypeError, () => new lib.Conv2d(1, 1, { get 0() { throw new Error('x'); } })],
  };
  return Object.fromEntries(Object.entries(cases).map(([name, [Type, call]]) => [name, {
    arb: fc.constant(null),
    run: async () => {
      let thrown;
      try {
        call();
      } catch (error) {
        thrown = error;
      }
      if (!native.ok && name.includes('native')) return;
      if (!(thrown instanceof Type)) throw new Finding(`expected a ${Type.name}, got ${thrown === undefined ? 'no error' : `${thrown?.name}: ${thrown?.message}`}`);
      await check(() => { throw thrown; });
    },
  }]));
}

/** A guarded call must refuse its arguments: returning at all means it started something. */
async function guarded(name, target, args) {
  const built = Array.isArray(args) ? args.map((a) => (a !== null && typeof a === 'object' && ('p' in a || 'o' in a || 't' in a || 'arr' in a || 'opts' in a) ? build(a) : a)) : args;
  const isClass = /^class /.test(Function.prototype.toString.call(target));
  const result = isClass ? new target(...built) : target(...built);
  const value = types.isPromise(result) ? await result : result;
  if (typeof value?.close === 'function') await value.close();
  throw new Finding(`${name} accepted arguments it should refuse`);
}

/** A 32-bit seed per target from the run's seed and the target's name, so a target replays alone. */
function targetSeed(name) {
  let h = seed >>> 0;
  for (const c of name) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0;
  return h | 0;
}

if (argv.includes('--list')) {
  process.stdout.write(`${JSON.stringify({ exports: Object.keys(exportsTable(lib)), kernels: Object.keys(KERNEL_ARGS) })}\n`);
} else {
  const home = mkdtempSync(join(tmpdir(), 'normnet-fuzz-'));
  process.chdir(home);
  fixtures.lib = lib;
  fixtures.dir = home;
  fixtures.emptyFile = join(home, 'empty.bin');
  fixtures.garbageFile = join(home, 'garbage.bin');
  writeFileSync(fixtures.emptyFile, '');
  writeFileSync(fixtures.garbageFile, Buffer.from([0, 0, 8, 3, 0, 0, 0, 9, 255, 255, 255, 255, 1, 2, 3, 123, 34, 10]));
  fixtures.params = () => new lib.Sequential([new lib.Linear(2, 2)], { backend: 'ts', seed: 3 }).parameters();

  const summary = { group, seed, runs, targets: [], findings: [], known: [] };
  const all = targets();
  if (all.skipped) summary.skipped = all.skipped;
  for (const [name, target] of Object.entries(all.skipped ? {} : all)) {
    if (only !== undefined && name !== only && name.split(/[#.]/)[0] !== only) continue;
    let calls = 0;
    const started = performance.now();
    // The target in progress, once per target (a write per call costs more than most calls): its run is
    // deterministic, so `--target name --seed S` replays a crash or hang in it.
    if (progress) writeFileSync(progress, `${name} (replay: node test/fuzz/driver.mjs --group ${group} --target '${name}' --seed ${seed} --runs ${runs})\n`);
    const property = fc.asyncProperty(target.arb, async (args) => {
      calls++;

      await target.run(args);
    });
    const details = await fc.check(property, { seed: targetSeed(name), numRuns: runs, path, endOnFailure: path !== undefined });
    const seconds = (performance.now() - started) / 1000;
    summary.targets.push({ name, calls, seconds: Math.round(seconds * 1000) / 1000 });
    if (argv.includes('--verbose')) process.stderr.write(`${name} ${calls} ${seconds.toFixed(2)}s${details.failed ? ' FINDING' : ''}\n`);
    if (details.failed) {
      const error = details.errorInstance;
      const known = KNOWN[name] ?? KNOWN[name.split(/[#.]/)[0]];
      (known && group === 'exports' ? summary.known : summary.findings).push({
        ...(known && group === 'exports' ? { known } : {}),
        target: name,
        why: error instanceof Finding ? error.message : `fuzz driver error: ${error?.stack ?? error}`,
        counterexample: fc.stringify(details.counterexample),
        replay: `--group ${group} --target ${name} --seed ${seed} --path ${details.counterexamplePath}`,
      });
    }
  }
  rmSync(home, { recursive: true, force: true });
  // Handles still open now keep the process alive: the parent sees it not exit, and this says which.
  summary.handles = process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap' && r !== 'PipeWrap');
  process.stdout.write(`${JSON.stringify(summary)}\n`);
}
