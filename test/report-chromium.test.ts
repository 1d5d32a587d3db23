/**
 * report.html as a person sees it: opened from disk in headless Chromium (Debian's chromium, driven by
 * playwright-core), with the network cut off. Every chart image must load and nothing may be fetched but
 * the page itself. The screenshots stay in bench/out/report/ (CI keeps bench/out as its artifacts).
 * Skipped without /usr/bin/chromium, unless REQUIRE_CHROMIUM=1 (CI).
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { machineInfo, nativeAvailable, runExperiment, trainingCharts, writeChart, writeReport } from '../dist/index.js';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
const out = new URL('../bench/out/report/', import.meta.url).pathname;
const backend = process.env.REQUIRE_NATIVE === '1' || nativeAvailable() ? 'native' : 'ts';

describe.skipIf(!haveChromium && process.env.REQUIRE_CHROMIUM !== '1')('report.html in headless Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    rmSync(out, { recursive: true, force: true });
    mkdirSync(out, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM }); // fails here with REQUIRE_CHROMIUM=1 and no chromium
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  /** Opens a report from disk with every non-file request refused; returns its images and refused requests. */
  async function open(report: string, screenshot: string) {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const refused: string[] = [];
    await page.route('**/*', (route) => {
      if (route.request().url().startsWith('file:')) return route.continue();
      refused.push(route.request().url());
      return route.abort();
    });
    await page.goto(pathToFileURL(report).href, { waitUntil: 'load' });
    const images = await page.$$eval('img', (imgs) => imgs.map((img) => ({ alt: img.alt, complete: img.complete, width: img.naturalWidth, height: img.naturalHeight })));
    const title = await page.title();
    await page.screenshot({ path: screenshot, fullPage: true });
    await page.close();
    return { images, refused, title };
  }

  it('shows an experiment report with its chart loaded and nothing fetched', async () => {
    const dir = join(out, 'weight-scale');
    const run = await runExperiment('weight-scale', { scales: 4, trainLimit: 300, epochs: 3, hidden: [20, 20], backend }, { jobs: 2, out: dir, command: 'normnet experiment weight-scale --scales 4 ...' });
    const page = await open(run.report!, join(out, 'weight-scale-report.png'));
    expect(page.title).toBe('Batch Normalization and the initial weight scale');
    expect(page.images).toEqual([{ alt: 'Training accuracy with and without BatchNorm, by initial weight std', complete: true, width: expect.any(Number), height: expect.any(Number) }]);
    expect(page.images[0].width).toBeGreaterThan(500);
    expect(page.refused).toEqual([]);
    expect(existsSync(join(out, 'weight-scale-report.png'))).toBe(true);
  }, 120_000);

  it('shows a training report with both charts loaded', async () => {
    const dir = join(out, 'train');
    mkdirSync(dir, { recursive: true });
    const epochs = [1, 2, 3].map((epoch) => ({ epoch, trainLoss: 1 / epoch, trainAccuracy: 1 - 0.3 / epoch, testLoss: 1.2 / epoch, testAccuracy: 1 - 0.35 / epoch, seconds: 1, samplesPerSecond: 1000 }));
    const charts = [];
    for (const chart of trainingCharts(epochs, 'three epochs')) charts.push(await writeChart(dir, chart.name, chart.spec));
    const report = writeReport(dir, { title: 'a training run', config: { epochs: 3 }, tables: [], charts, machine: machineInfo('ts') });
    const page = await open(report, join(out, 'train-report.png'));
    expect(page.images.map((i) => i.alt)).toEqual(['Loss', 'Accuracy']);
    for (const image of page.images) {
      expect(image.complete).toBe(true);
      expect(image.width).toBeGreaterThan(300);
    }
    expect(page.refused).toEqual([]);
  }, 60_000);
});
