/**
 * The backend interface: the kernel list (kernels.ts) plus what a backend says about itself.
 * `getBackend()` (or 'auto', the default everywhere) gives the native backend when the addon loads, else the
 * TypeScript one with a single warning saying why; `getBackend('native')` insists and throws that diagnosis
 * instead. NORMNET_BACKEND (auto | native | ts) sets what 'auto' means.
 */
import type { FloatArray } from './check.js';
import { KERNEL_NAMES, withChecks, type Kernels } from './kernels.js';
import { ISAS, loadNative, nativeDiagnosis, type Addon, type Isa, type PoolInfo } from './native.js';
import { tsKernels } from './ts/index.js';
import { show } from '../util/show.js';

export type BackendName = 'native' | 'ts';
export const BACKEND_NAMES: readonly BackendName[] = ['native', 'ts'];
/** What a user may ask for: a backend, or 'auto' (native when the addon loads, else TypeScript). */
export type BackendChoice = BackendName | 'auto';
export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'native', 'ts'];

export interface BackendInfo {
  backend: BackendName;
  /** The CPU path the kernels take: 'avx512' | 'avx2' | 'generic' (x86-64), 'neon' | 'generic' (arm64), or 'ts'. */
  isa: Isa | 'ts';
  /** The best path this CPU supports ('ts' for the TypeScript backend). */
  detectedIsa: Isa | 'ts';
  threads: number;
  /** Where the addon was loaded from (native only). */
  addonPath?: string;
  /** The thread pool's account of small products (native only). */
  pool?: PoolInfo;
}

export interface Backend<F extends FloatArray = Float32Array> extends Kernels<F> {
  readonly name: BackendName;
  /** The storage every kernel of this backend takes: float32, or float64 for the gradient checks. */
  readonly dtype: 'float32' | 'float64';
  info(): BackendInfo;
}

export interface RuntimeOptions {
  /** Threads of the native pool (default: NORMNET_NUM_THREADS, else the machine's cores). */
  threads?: number;
  /** Force a CPU path at or below the detected one (default: NORMNET_ISA, else the best detected). */
  isa?: Isa;
}

let nativeBackend: Backend | undefined;
let warned = false;

const tsInfo = (): BackendInfo => ({ backend: 'ts', isa: 'ts', detectedIsa: 'ts', threads: 1 });

const tsBackend: Backend = {
  ...(withChecks(tsKernels, Float32Array) as Kernels<Float32Array>),
  name: 'ts',
  dtype: 'float32',
  info: tsInfo,
};

/** The TypeScript kernels on float64 storage: what gradCheck runs models on, so its differences are tight. */
export const float64Backend: Backend<Float64Array> = {
  ...(withChecks(tsKernels, Float64Array) as Kernels<Float64Array>),
  name: 'ts',
  dtype: 'float64',
  info: tsInfo,
};

export function getBackend(name: BackendChoice = 'auto'): Backend {
  if (name === 'auto') {
    const env = process.env.NORMNET_BACKEND;
    if (env !== undefined && env !== '' && env !== 'auto') {
      if (!isBackendName(env)) throw new RangeError(`NORMNET_BACKEND must be 'auto', 'native' or 'ts', got '${env}'`);
      return getBackend(env);
    }
    const load = loadNative();
    if (load.ok) return getBackend('native');
    if (!warned) {
      warned = true;
      process.emitWarning(nativeDiagnosis(load.reason), { code: 'NORMNET_NO_NATIVE' });
    }
    return tsBackend;
  }
  if (name === 'ts') return tsBackend;
  if (name === 'native') return native();
  throw new RangeError(`backend must be 'auto', 'native' or 'ts', got ${show(name)}`);
}

/** Whether the native addon loads here, without warning. */
export function nativeAvailable(): boolean {
  return loadNative().ok;
}

/** Sets the native runtime: thread count and CPU path. A no-op for what is not given. */
export function configure(options: RuntimeOptions): void {
  if (typeof options !== 'object' || options === null) throw new TypeError('configure: options must be an object');
  const { threads, isa } = options;
  if (threads !== undefined && (!Number.isInteger(threads) || threads < 1 || threads > 1024)) {
    throw new RangeError(`configure: threads must be an integer in [1, 1024], got ${show(threads)}`);
  }
  if (isa !== undefined && !ISAS.includes(isa)) {
    throw new RangeError(`configure: isa must be one of ${ISAS.join(', ')}, got ${show(isa)}`);
  }
  const { addon } = requireNative();
  if (threads !== undefined) addon.setNumThreads(threads);
  if (isa !== undefined) {
    try {
      addon.setIsa(isa);
    } catch (error) {
      throw new RangeError(`configure: ${(error as Error).message.replace(/^setIsa: /, '')}`);
    }
  }
}

function isBackendName(value: string): value is BackendName {
  return (BACKEND_NAMES as readonly string[]).includes(value);
}

/** The loaded addon, or the diagnosis of why it does not load, thrown. */
function requireNative(): { addon: Addon; path: string } {
  const load = loadNative();
  if (!load.ok) throw new Error(nativeDiagnosis(load.reason));
  return load;
}

function native(): Backend {
  if (nativeBackend) return nativeBackend;
  const { addon, path } = requireNative();
  // The addon's own functions, unwrapped: the binding checks every argument with the words of the shared TS
  // checks (native/binding/args.h), so running those in JS first would only add ~3 µs to every call.
  const kernels = Object.fromEntries(KERNEL_NAMES.map((name) => [name, addon[name]])) as unknown as Kernels;
  nativeBackend = {
    ...kernels,
    name: 'native',
    dtype: 'float32',
    info: () => ({ backend: 'native', ...addon.runtimeInfo(), addonPath: path }),
  };
  return nativeBackend;
}
