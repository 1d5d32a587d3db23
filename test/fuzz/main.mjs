/**
 * `npm run fuzz -- [--runs N] [--seed S] [--target name] [--group g]`: the long fuzz run. Each target group runs in
 * its own child (kernels on the addon, kernels on the TS backend, every export), and a table gives per target the
 * calls, findings and seconds; then every finding with its counterexample and the command that replays it. Exits
 * 1 on any finding, crash, hang or handle left open. Needs the built package (npm run build:ts).
 */
import { GROUPS, problems, runChild } from './run.mjs';

const argv = process.argv.slice(2);
const option = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i < 0 ? fallback : argv[i + 1];
};
const runs = Number(option('runs', 1000));
const seed = Number(option('seed', Date.now() % 2 ** 31));
const target = option('target', undefined);
const groups = option('group', undefined)?.split(',') ?? GROUPS;
if (!Number.isInteger(runs) || runs < 1 || !Number.isInteger(seed)) {
  console.error('usage: npm run fuzz -- [--runs N] [--seed S] [--target name] [--group kernels-native,kernels-ts,exports]');
  process.exit(2);
}

console.log(`fuzz: seed ${seed}, ${runs} runs a target${target ? `, target ${target}` : ''}`);
let failed = false;
let total = 0;
for (const group of groups) {
  const args = ['--group', group, '--seed', String(seed), '--runs', String(runs)];
  if (target) args.push('--target', target);
  // Generous: a call takes well under a millisecond, a few (reports, charts) some tens.
  const result = await runChild(args, Math.max(120_000, runs * 2_000));
  const rows = result.summary?.targets ?? [];
  const bad = new Set([...(result.summary?.findings ?? [])].map((f) => f.target));
  const known = new Set([...(result.summary?.known ?? [])].map((f) => f.target));
  console.log(`\n${group}${result.summary?.skipped ? ` (skipped: ${result.summary.skipped})` : ''}`);
  console.log(`${'target'.padEnd(36)} ${'calls'.padStart(8)} findings ${'seconds'.padStart(8)}`);
  for (const row of rows) {
    const mark = bad.has(row.name) ? '1' : known.has(row.name) ? 'known' : '0';
    console.log(`${row.name.padEnd(36)} ${String(row.calls).padStart(8)} ${mark.padStart(8)} ${row.seconds.toFixed(2).padStart(8)}`);
    total += row.calls;
  }
  for (const k of result.summary?.known ?? []) console.log(`known: ${k.target}: ${k.why.slice(0, 300)} [${k.known}]`);
  const lines = problems(result);
  if (lines.length) {
    failed = true;
    console.log(`\n${group}: ${lines.length} problem(s)`);
    for (const line of lines) console.log(`- ${line}`);
  }
}
console.log(`\n${total} calls; ${failed ? 'FINDINGS (above)' : 'no findings'}`);
process.exitCode = failed ? 1 : 0;
