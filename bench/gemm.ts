/**
 * `npm run bench:gemm`: GFLOP/s of the native GEMM (1 and 2 threads), the TS GEMM and OpenBLAS (Debian's
 * libopenblas through bench/openblas_gemm.c, as installed and, on CPUs with AVX-512, with
 * OPENBLAS_CORETYPE=SKYLAKEX), on big squares and on the shapes of training. Each shape is verified (native
 * against TS) before it is timed; every figure is a median over repeated samples. Prints a Markdown table.
 */
import { execFileSync } from 'node:child_process';
import { configure, getBackend } from '../dist/index.js';
import { describeMachine, machineLine } from './support/machine.js';
import { buildPeer } from './support/peers.js';
import { callsFor, median, timeCalls } from './support/stats.js';

interface Shape { name: string; transA: boolean; transB: boolean; M: number; N: number; K: number }

const SHAPES: Shape[] = [
  { name: '512³', transA: false, transB: false, M: 512, N: 512, K: 512 },
  { name: '1024³', transA: false, transB: false, M: 1024, N: 1024, K: 1024 },
  { name: '784→100 b100 forward X·Wᵀ', transA: false, transB: true, M: 100, N: 100, K: 784 },
  { name: '784→100 b100 dX = dY·W', transA: false, transB: false, M: 100, N: 784, K: 100 },
  { name: '784→100 b100 dW = dYᵀ·X', transA: true, transB: false, M: 100, N: 784, K: 100 },
  { name: '1250→128 b256 forward X·Wᵀ', transA: false, transB: true, M: 256, N: 128, K: 1250 },
  { name: '1250→128 b256 dX = dY·W', transA: false, transB: false, M: 256, N: 1250, K: 128 },
  { name: '1250→128 b256 dW = dYᵀ·X', transA: true, transB: false, M: 128, N: 1250, K: 256 },
];

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 15);
const SAMPLE_SECONDS = 0.02;

function randomArray(length: number): Float32Array {
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = Math.random() * 2 - 1;
  return out;
}

function verify(s: Shape, A: Float32Array, B: Float32Array): number {
  const native = new Float32Array(s.M * s.N);
  const ts = new Float32Array(s.M * s.N);
  getBackend('native').gemm(s.transA, s.transB, s.M, s.N, s.K, 1, A, B, 0, native);
  getBackend('ts').gemm(s.transA, s.transB, s.M, s.N, s.K, 1, A, B, 0, ts);
  // Normwise: entries near zero come from cancellation, so each error is measured against the largest |C|.
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < ts.length; i++) {
    worst = Math.max(worst, Math.abs(native[i] - ts[i]));
    scale = Math.max(scale, Math.abs(ts[i]));
  }
  if (!(worst <= 1e-5 * scale)) throw new Error(`${s.name}: native and TS differ by ${worst / scale} of max |C|`);
  return worst / scale;
}

function timeBackend(name: 'native' | 'ts', s: Shape, A: Float32Array, B: Float32Array): number {
  const C = new Float32Array(s.M * s.N);
  const backend = getBackend(name);
  const call = () => backend.gemm(s.transA, s.transB, s.M, s.N, s.K, 1, A, B, 0, C);
  const samples = name === 'ts' ? Math.min(SAMPLES, 5) : SAMPLES;
  return timeCalls(call, samples, callsFor(call, SAMPLE_SECONDS));
}

/**
 * Native 1T's share of the core's FMA throughput, paired: each GEMM sample follows a one-run peak probe, and the
 * share is the median of the samples' ratios, so a slow spell of this shared machine slows both sides of a pair
 * (against the best-of-seven peak alone, any slowdown of the GEMM's samples would read as inefficiency).
 */
function pairedPeakShare(s: Shape, A: Float32Array, B: Float32Array): number {
  const C = new Float32Array(s.M * s.N);
  const backend = getBackend('native');
  const call = () => backend.gemm(s.transA, s.transB, s.M, s.N, s.K, 1, A, B, 0, C);
  const calls = callsFor(call, SAMPLE_SECONDS);
  const shares: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const peak = Number(execFileSync(buildPeer('peak_flops'), ['1'], { encoding: 'utf8' }).trim().split(' ')[0]);
    const seconds = timeCalls(call, 1, calls);
    shares.push((2 * s.M * s.N * s.K) / seconds / 1e9 / peak);
  }
  return median(shares);
}

function timeOpenBlas(s: Shape, threads: number, coretype?: string): number {
  const flops = 2 * s.M * s.N * s.K;
  const calls = Math.max(1, Math.round((SAMPLE_SECONDS * 60e9) / flops));
  const env = { ...process.env, OPENBLAS_NUM_THREADS: String(threads), ...(coretype ? { OPENBLAS_CORETYPE: coretype } : {}) };
  const args = [s.transA ? 'T' : 'N', s.transB ? 'T' : 'N', String(s.M), String(s.N), String(s.K), String(SAMPLES), String(calls)];
  return Number(execFileSync(buildPeer('openblas_gemm'), args, { env, encoding: 'utf8' }).trim());
}

function main(): void {
  const machine = describeMachine();
  const native = getBackend('native').info();
  const threads = native.threads;
  const skylakex = native.detectedIsa === 'avx512';
  console.log(`# normnet GEMM benchmark\n\n${machineLine(machine)}\n`);
  if (!skylakex) console.log('OpenBLAS with OPENBLAS_CORETYPE=SKYLAKEX: not run, this CPU has no AVX-512.\n');

  const columns = ['shape', 'M×N×K', 'native 1T', 'native 2T', 'TS', 'OpenBLAS 1T', 'OpenBLAS 2T',
    ...(skylakex ? ['OpenBLAS-SKX 1T', 'OpenBLAS-SKX 2T'] : []),
    'native/OpenBLAS 1T', 'native/OpenBLAS 2T', '2T/1T', 'native/TS', '1T % of peak'];
  console.log(`GFLOP/s, medians of ${SAMPLES} samples; OpenBLAS columns compare against the faster of its configurations. ` +
    '"1T % of peak" pairs each native 1T sample with a one-run FMA probe taken just before it (the median of those ratios); ' +
    'the peak in the line above is the best of seven probe runs.\n');
  console.log(`| ${columns.join(' | ')} |`);
  console.log(`|${columns.map(() => '---').join('|')}|`);
  for (const s of SHAPES) {
    const A = randomArray(s.M * s.K);
    const B = randomArray(s.K * s.N);
    verify(s, A, B);
    const gflops = (seconds: number) => (2 * s.M * s.N * s.K) / seconds / 1e9;
    configure({ threads: 1 });
    const native1 = gflops(timeBackend('native', s, A, B));
    const share = pairedPeakShare(s, A, B);
    configure({ threads: Math.max(2, threads) });
    const native2 = gflops(timeBackend('native', s, A, B));
    configure({ threads });
    const ts = gflops(timeBackend('ts', s, A, B));
    const blas1 = gflops(timeOpenBlas(s, 1));
    const blas2 = gflops(timeOpenBlas(s, 2));
    const skx = skylakex ? [gflops(timeOpenBlas(s, 1, 'SKYLAKEX')), gflops(timeOpenBlas(s, 2, 'SKYLAKEX'))] : [];
    const best1 = Math.max(blas1, skx[0] ?? 0);
    const best2 = Math.max(blas2, skx[1] ?? 0);
    const cells = [s.name, `${s.M}×${s.N}×${s.K}`, native1, native2, ts, blas1, blas2, ...skx]
      .map((v) => (typeof v === 'number' ? v.toFixed(1) : v));
    cells.push(`${(native1 / best1).toFixed(2)}×`, `${(native2 / best2).toFixed(2)}×`, `${(native2 / native1).toFixed(2)}×`,
      `${(native1 / ts).toFixed(0)}×`, `${(100 * share).toFixed(0)}%`);
    console.log(`| ${cells.join(' | ')} |`);
  }
}

main();
