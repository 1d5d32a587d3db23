/**
 * Loads the native addon: node-gyp-build finds cmake-js's build/Release/normnet.node or the shipped
 * prebuilds/<platform>-<arch>/normnet.node; NORMNET_ADDON=/abs/path/normnet.node names another build instead
 * (scripts/sanitize.sh runs the tests on an AddressSanitizer build that way). When none loads, `loadNative`
 * says why and how to fix it instead of throwing a stack trace, and the caller falls back to the TypeScript kernels.
 */
import { createRequire } from 'node:module';
import { isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Kernels } from './kernels.js';

export type Isa = 'avx512' | 'avx2' | 'neon' | 'generic';
/** The addon's CPU paths on this architecture, best first: x86-64 avx512, avx2, generic; arm64 neon, generic. */
export const ISAS: readonly Isa[] =
  process.arch === 'x64' ? ['avx512', 'avx2', 'generic'] : process.arch === 'arm64' ? ['neon', 'generic'] : ['generic'];

/**
 * The native thread pool's account of its calls. Products from 2^18 multiply-adds and kernels over several ranges
 * may split over its threads: each kind of call does while that has been the faster way for it lately (the
 * split policy, native/runtime/split_policy.h), and small products (2^18 to 2^23) only while the workers are
 * warm: polling for work on cores of their own.
 */
export interface PoolInfo {
  /** How many times a small product found the pool warm (and split), since the process started. */
  warm: number;
  /** Jobs that stalled on a worker preempted in the middle of a task (a sign the second core is busy). */
  stalls: number;
  /** For how much longer small products stay on one thread after the last stall (it grows while they recur). */
  backoffMs: number;
  /** Sleeping workers woken to poll by a small product that would split (fewer while such wake-ups go unused). */
  pokes: number;
  /** Calls that could split (products from 2^18 multiply-adds, kernels over several ranges) run split, since the process started. */
  split: number;
  /** Such calls kept on one thread, because that has been the faster way for their shape lately. */
  single: number;
}

export interface Addon extends Kernels {
  runtimeInfo(): { isa: Isa; detectedIsa: Isa; threads: number; pool: PoolInfo };
  setIsa(isa: string): void;
  setNumThreads(threads: number): void;
  /** 'adaptive' (default): calls split only while that has been the faster way for their shape; 'always': they split whenever they may. */
  setSplitPolicy(policy: 'adaptive' | 'always'): void;
}

export type NativeLoad =
  | { ok: true; addon: Addon; path: string }
  | { ok: false; reason: string };

const require = createRequire(import.meta.url);
/** The package root: this file is src/kernels/native.ts or dist/kernels/native.js. */
export const packageRoot = fileURLToPath(new URL('../../', import.meta.url));

let loaded: NativeLoad | undefined;

export function loadNative(): NativeLoad {
  loaded ??= load();
  return loaded;
}

function load(): NativeLoad {
  const nodeGypBuild = require('node-gyp-build') as { resolve(dir: string): string };
  const override = process.env.NORMNET_ADDON;
  if (override !== undefined && override !== '' && !isAbsolute(override)) {
    throw new RangeError(`NORMNET_ADDON must be an absolute path to a normnet.node, got '${override}'`);
  }
  let path: string;
  try {
    path = override || nodeGypBuild.resolve(packageRoot);
  } catch {
    return {
      ok: false,
      reason: `no native build for ${process.platform}-${process.arch} (looked for build/Release/normnet.node and prebuilds/${process.platform}-${process.arch}/normnet.node in ${packageRoot})`,
    };
  }
  try {
    const addon = require(path) as Addon;
    applyEnvironment(addon);
    return { ok: true, addon, path };
  } catch (error) {
    if (error instanceof RangeError) throw error; // a bad NORMNET_* setting: the user's to fix, not a load failure
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    return { ok: false, reason: `${path} did not load: ${message}` };
  }
}

/** NORMNET_NUM_THREADS and NORMNET_ISA set the pool size and force a lower CPU path; NORMNET_SPLIT=always turns the split policy off. */
function applyEnvironment(addon: Addon): void {
  const threads = process.env.NORMNET_NUM_THREADS;
  if (threads !== undefined && threads !== '') {
    const n = Number(threads);
    if (!Number.isInteger(n) || n < 1 || n > 1024) {
      throw new RangeError(`NORMNET_NUM_THREADS must be an integer in [1, 1024], got '${threads}'`);
    }
    addon.setNumThreads(n);
  }
  const split = process.env.NORMNET_SPLIT;
  if (split !== undefined && split !== '') {
    if (split !== 'adaptive' && split !== 'always') throw new RangeError(`NORMNET_SPLIT must be 'adaptive' or 'always', got '${split}'`);
    addon.setSplitPolicy(split);
  }
  const isa = process.env.NORMNET_ISA;
  if (isa !== undefined && isa !== '') {
    try {
      addon.setIsa(isa);
    } catch (error) {
      throw new RangeError(`NORMNET_ISA: ${(error as Error).message.replace(/^setIsa: /, '')}`);
    }
  }
}

export function nativeDiagnosis(reason: string): string {
  return `normnet: the native addon is not available, so the TypeScript backend (much slower) serves. Why: ${reason}. ` +
    `Fix: install cmake and a C++17 compiler (Debian/Ubuntu: apt-get install cmake g++), then build it: ${rebuildAdvice(process.env.npm_config_user_agent)}; ` +
    'or set NORMNET_BACKEND=ts to choose the TypeScript backend and silence this warning.';
}

/**
 * How to build the addon with the user's npm (its version from npm_config_user_agent, set when npm or npx runs
 * us): npm 11 runs a dependency's install script only once the project approves it (`npm install-scripts`),
 * earlier npm runs it on `npm rebuild`. Unknown: both.
 */
export function rebuildAdvice(userAgent: string | undefined): string {
  const major = Number(/\bnpm\/(\d+)\./.exec(userAgent ?? '')?.[1]);
  const approve = '`npm install-scripts approve normnet && npm rebuild normnet` (npm 11 and later run a dependency\'s install script only once approved)';
  if (major >= 11) return approve;
  if (major > 0) return '`npm rebuild normnet`';
  return `${approve}, or with npm 10 and earlier \`npm rebuild normnet\``;
}
