/**
 * `npm run bench:layers`: forward + backward time of each layer of the seeds' two models (the MLP at batch
 * 100 and the Fashion-MNIST CNN at batch 256), native with the default thread count and with 1 thread, and
 * TS. Each layer sits alone in a `new Sequential([layer], { backend, seed: 1 })` in training mode and one
 * call is `forward(x)` then `backward(dy, { inputGrad: true })` on inputs made once and reused. Before a
 * layer is timed, native and TS are run on the same seeded weights and inputs and their outputs, input
 * gradients and parameter gradients must agree within a normwise relative 1e-4. Every figure is a median
 * over repeated samples; prints a Markdown table with the machine. The cases, the check and the timing loop are
 * `normnet bench layers`'s (dist/bench/layers.js); this adds the 1-thread column.
 */
import { configure, getBackend } from '../dist/index.js';
import { TS, type Implementation } from '../dist/bench/implementations.js';
import { LAYER_CASES, LAYER_SAMPLE_SECONDS, layerInputs, layerSteps, timeLayerSteps, type LayerCase } from '../dist/bench/layers.js';
import { BENCH_TOLERANCE } from '../dist/bench/check.js';
import { describeMachine, machineLine } from './support/machine.js';

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 15);
/** The TS kernels are 10-100× slower; fewer samples keep the whole run within a few minutes. */
const TS_SAMPLES = Math.min(SAMPLES, 5);

function main(): void {
  const started = performance.now();
  const machine = describeMachine();
  const threads = getBackend('native').info().threads;
  const implementations: Record<string, Implementation> = {
    native: { backend: 'native', threads },
    'native 1T': { backend: 'native', threads: 1 },
    [TS]: { backend: 'ts' },
  };
  const names = Object.keys(implementations);
  console.log(`# normnet layer benchmark\n\n${machineLine(machine)}\n`);
  console.log(`Forward + backward (input gradient included) per layer, µs per batch, training mode; medians of ` +
    `${SAMPLES} samples (TS: ${TS_SAMPLES}) of about ${LAYER_SAMPLE_SECONDS * 1000} ms each, interleaved across implementations. ` +
    `native: default thread count, ${threads} thread${threads === 1 ? '' : 's'}; native 1T: 1 thread. Each layer runs alone in a Sequential (seed 1); ` +
    `SoftmaxCrossEntropy is a loss object, timed as forward(logits, labels) + backward(). "check" is the worst ` +
    `normwise relative difference between native and TS over output, input gradient and parameter gradients ` +
    `(limit ${BENCH_TOLERANCE}).\n`);

  const columns = ['model', 'layer', 'input', `native ${threads}T`, 'native 1T', 'TS', 'TS/native', 'TS/native 1T', `${threads}T/1T speedup`, 'check'];
  console.log(`| ${columns.join(' | ')} |`);
  console.log(`|${columns.map((_, i) => (i < 3 ? '---' : '---:')).join('|')}|`);

  const row = (cells: string[]) => console.log(`| ${cells.join(' | ')} |`);
  const us = (seconds: number) => (seconds * 1e6).toFixed(seconds < 1e-3 ? 1 : 0);
  const ratios = (t: Record<string, number>) => [
    `${(t.TS / t.native).toFixed(1)}×`, `${(t.TS / t['native 1T']).toFixed(1)}×`, `${(t['native 1T'] / t.native).toFixed(2)}×`,
  ];
  let totals: Record<string, number> = {};
  let model: LayerCase['model'] | undefined;
  const totalRow = () => {
    if (model) row([`**${model}**`, '**total**', '', ...names.map((n) => `**${us(totals[n])}**`), ...ratios(totals).map((r) => `**${r}**`), '']);
  };

  LAYER_CASES.forEach((c, i) => {
    if (c.model !== model) {
      totalRow();
      model = c.model;
      totals = Object.fromEntries(names.map((n) => [n, 0]));
    }
    const { steps, check } = layerSteps(c, implementations, layerInputs(c, 1000 + i));
    const worst = Math.max(...Object.values(check));
    const times = timeLayerSteps(steps, implementations, { samples: SAMPLES, tsSamples: TS_SAMPLES });
    configure({ threads });
    for (const name of names) totals[name] += times[name];
    row([c.model, c.name, `(${c.shape.join(',')})`, ...names.map((n) => us(times[n])), ...ratios(times), worst.toExponential(1)]);
  });
  totalRow();
  console.log(`\nWhole run: ${((performance.now() - started) / 1000).toFixed(0)} s.`);
}

main();
