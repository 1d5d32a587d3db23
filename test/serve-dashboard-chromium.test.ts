/**
 * The dashboard as a person uses it, in headless Chromium (Debian's chromium, driven by playwright-core), with
 * every request that is not to the server itself refused: the page loads with no failed request and no
 * console error, a job submitted through the form starts and its loss chart gains points while it trains,
 * two runs are overlaid, a bad value shows the API's message beside its input, and on a server with a token
 * the page asks for it and then works (the event stream too). Screenshots stay in bench/out/serve/.
 * Skipped without /usr/bin/chromium, unless REQUIRE_CHROMIUM=1 (CI).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nativeAvailable } from '../dist/index.js';
import { call, readEvents, startServer, type Server } from './support/serve.js';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
const out = new URL('../bench/out/serve/', import.meta.url).pathname;
const backend = process.env.REQUIRE_NATIVE === '1' || nativeAvailable() ? 'native' : 'ts';
const work = mkdtempSync(join(tmpdir(), 'normnet-dashboard-'));

describe.skipIf(!haveChromium && process.env.REQUIRE_CHROMIUM !== '1')('the dashboard in headless Chromium', () => {
  let browser: Browser;
  let server: Server;
  beforeAll(async () => {
    rmSync(out, { recursive: true, force: true });
    mkdirSync(out, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM }); // fails here with REQUIRE_CHROMIUM=1 and no chromium
    server = await startServer({ dir: join(work, 'runs') });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    rmSync(work, { recursive: true, force: true });
  });

  /** A page of `base` with the network cut off but for `base`, recording what goes wrong. */
  async function open(base: string) {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const problems = { refused: [] as string[], failed: [] as string[], console: [] as string[] };
    await page.route('**/*', (route) => {
      if (route.request().url().startsWith(`${base}/`)) return route.continue();
      problems.refused.push(route.request().url());
      return route.abort();
    });
    page.on('requestfailed', (request) => {
      // A closed event stream is the page closing it (a finished job), not a failure.
      if (!request.url().includes('/events')) problems.failed.push(`${request.url()}: ${request.failure()?.errorText}`);
    });
    page.on('console', (message) => {
      if (message.type() === 'error') problems.console.push(message.text());
    });
    page.on('pageerror', (error) => problems.console.push(`page error: ${error.message}`));
    await page.goto(`${base}/`, { waitUntil: 'load' });
    return { page, problems };
  }

  const points = (page: Page, chart: string) => page.$eval(chart, (el) => Number((el as HTMLElement).dataset.points));

  it('loads cleanly, submits a job from the form, and its chart grows while it trains', async () => {
    const { page, problems } = await open(server.url);
    await page.waitForSelector('#jobs-empty', { state: 'visible' });
    expect(await page.title()).toBe('normnet');

    await page.fill('[name=name]', 'from the form');
    await page.fill('[name=hidden]', '256,128');
    await page.fill('[name=epochs]', '3');
    await page.fill('[name=batchSize]', '50');
    await page.fill('[name=trainLimit]', '30000');
    await page.click('#submit-form button[type=submit]');
    await page.waitForFunction(() => document.querySelector('#job-title')?.textContent === 'from the form');
    // Points arrive while the job runs, and keep arriving.
    await page.waitForFunction(() => Number((document.querySelector('#loss-chart') as HTMLElement).dataset.points) > 0 && document.querySelector('#job-meta')!.textContent!.includes('running'));
    const first = await points(page, '#loss-chart');
    await page.waitForFunction((n) => Number((document.querySelector('#loss-chart') as HTMLElement).dataset.points) > n, first);
    await page.waitForFunction(() => document.querySelector('#job-meta')!.textContent!.includes('completed'), undefined, { timeout: 60_000 });
    await page.waitForFunction(() => Number((document.querySelector('#accuracy-chart') as HTMLElement).dataset.points) === 6);
    expect(await page.$$eval('#jobs tbody tr', (rows) => rows.length)).toBe(1);
    expect(await page.textContent('#jobs tbody tr .status')).toBe('completed');
    expect(await page.isEnabled('#download-model')).toBe(true);
    await page.screenshot({ path: join(out, 'dashboard.png'), fullPage: true });

    // A second run, overlaid on the first.
    const { id } = (await call(`${server.url}/api/jobs`, { body: { name: 'small', trainLimit: 2000, hidden: [32], epochs: 2, batchSize: 50, backend } })).body;
    await (await readEvents(`${server.url}/api/jobs/${id}/events`)).ended;
    await page.waitForFunction(() => document.querySelectorAll('#jobs tbody tr').length === 2);
    for (const box of await page.$$('#jobs tbody input[type=checkbox]')) await box.check();
    await page.waitForFunction(() => Number((document.querySelector('#compare-accuracy') as HTMLElement).dataset.points) === 5);
    await page.screenshot({ path: join(out, 'compare.png'), fullPage: true });
    expect(problems).toEqual({ refused: [], failed: [], console: [] });

    // A bad value: the API's message beside the input, and nothing queued.
    await page.fill('[name=epochs]', '0');
    await page.click('#submit-form button[type=submit]');
    await page.waitForSelector('.field-error[data-for=epochs]');
    expect(await page.textContent('.field-error[data-for=epochs]')).toBe('body/epochs must be >= 1');
    expect(await page.$eval('[name=epochs]', (el) => el.classList.contains('invalid'))).toBe(true);
    await page.screenshot({ path: join(out, 'form-error.png') });
    expect((await call(`${server.url}/api/jobs`)).body).toHaveLength(2);
    // The one console line is Chromium's own for the 400 answer.
    expect(problems.console).toEqual([expect.stringMatching(/status of 400 \(Bad Request\)/)]);
    expect(problems.refused).toEqual([]);
    await page.close();
  }, 90_000);

  it('asks for the token of a server that needs one, then lists and streams', async () => {
    const token = 'dashboard-token-0123456789';
    const guarded = await startServer({ dir: join(work, 'guarded'), token });
    try {
      const { id } = (await call(`${guarded.url}/api/jobs`, { body: { name: 'guarded', trainLimit: 2000, hidden: [32], epochs: 2, batchSize: 50, backend }, headers: { authorization: `Bearer ${token}` } })).body;
      const { page, problems } = await open(guarded.url);
      await page.waitForSelector('#token-form', { state: 'visible' });
      await page.fill('#token-form [name=token]', token);
      await page.click('#token-form button[type=submit]');
      await page.waitForSelector(`#jobs tbody tr[data-id="${id}"]`);
      await page.click(`#jobs tbody tr[data-id="${id}"]`);
      // The stream (token in its query) replays the epochs so far: 2 epochs, train and test.
      await page.waitForFunction(() => Number((document.querySelector('#accuracy-chart') as HTMLElement).dataset.points) === 4, undefined, { timeout: 30_000 });
      expect(await page.isVisible('#token-form')).toBe(false);
      expect(problems.refused).toEqual([]);
      expect(problems.failed).toEqual([]);
      expect(problems.console).toEqual([expect.stringMatching(/status of 401 \(Unauthorized\)/)]);
      await page.close();
    } finally {
      await guarded.close();
    }
  }, 60_000);
});
