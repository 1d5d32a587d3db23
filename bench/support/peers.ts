/** The C peers of the benchmarks (bench/*.c), compiled on first use into dist-bench/; never part of the library. */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const benchDir = fileURLToPath(new URL('../../bench/', import.meta.url));
const outDir = fileURLToPath(new URL('../peers/', import.meta.url));

const LINK: Record<string, string[]> = {
  openblas_gemm: ['-I/usr/include/x86_64-linux-gnu/openblas-pthread', '-I/usr/include/x86_64-linux-gnu', '-lopenblas'],
  peak_flops: [],
};

/** The path of the compiled peer, rebuilt when its source is newer. */
export function buildPeer(name: keyof typeof LINK & string): string {
  const source = `${benchDir}${name}.c`;
  const binary = `${outDir}${name}`;
  if (!existsSync(binary) || statSync(binary).mtimeMs < statSync(source).mtimeMs) {
    mkdirSync(outDir, { recursive: true });
    try {
      execFileSync('cc', ['-O2', '-o', binary, source, ...LINK[name]], { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (error) {
      const hint = name === 'openblas_gemm' ? ' (apt-get install libopenblas-dev)' : '';
      throw new Error(`could not build bench/${name}.c${hint}: ${(error as { stderr?: Buffer }).stderr?.toString() ?? error}`);
    }
  }
  return binary;
}
