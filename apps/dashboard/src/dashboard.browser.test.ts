/**
 * The dashboard in Debian's Chromium (playwright-core) against a real `excite serve`: the API, its
 * worker and the dashboard as `npm start` runs them, on free ports with a fresh data folder and the
 * demo models of models/demo. It signs in with the link serve prints, launches a GA run and
 * watches its preview change step by step until the final image, starts a comparison of the demo
 * models (GA and EGG) and finds its matrix, opens a neuron's page with the images of both methods
 * and their scores, cancels a sampling batch from its page, and checks that a read token cannot
 * launch.
 * A screenshot of every page goes to .cache/dashboard-screenshots (EXCITE_SCREENSHOTS=docs/screenshots
 * refreshes those of docs/dashboard.md).
 *
 * Needs /usr/bin/chromium (`apt-get install chromium`; .ci/run installs it): skipped without it.
 */
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type Page, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { initializedPglite, tempDir } from '@excite/api/src/testing/harness.ts';
import { type ExciteProcess, startExcite } from '@excite/api/src/testing/processes.ts';

// this suite's time limit: builds and serves the dashboard and drives Chromium through whole runs (its own waits go to 300 s)
vi.setConfig({ testTimeout: 600_000, hookTimeout: 600_000 });

const CHROMIUM = '/usr/bin/chromium';
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SCREENSHOTS = resolve(ROOT, process.env.EXCITE_SCREENSHOTS ?? '.cache/dashboard-screenshots');
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`dashboard browser tests skipped: ${CHROMIUM} is absent (apt-get install -y chromium; .ci/run installs it)`);

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

describe.skipIf(!hasChromium)('the dashboard in Chromium against excite serve', () => {
  let data: string;
  let serve: ExciteProcess;
  let browser: Browser;
  let page: Page;
  let dashboard: string;
  let api: string;
  let token: string;
  const pageErrors: string[] = [];

  const shot = (name: string) => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });

  beforeAll(async () => {
    data = await tempDir('dashboard');
    await initializedPglite(join(data, 'pglite'));
    await mkdir(SCREENSHOTS, { recursive: true });
    const [apiPort, dashboardPort] = [await freePort(), await freePort()];
    // the first start builds the dashboard (when its build is missing or stale): minutes on a busy machine
    const started = await startExcite(
      ['serve', '--port', String(apiPort), '--dashboard-port', String(dashboardPort), '--host', '127.0.0.1', '--data', data],
      { DATABASE_URL: '' },
      /dashboard at (http:\/\/\S+)\/\?token=(exc_[\w-]+)/,
      540_000,
    );
    serve = started;
    [, dashboard, token] = started.match;
    api = `http://127.0.0.1:${apiPort}`;
    browser = await chromium.launch({ executablePath: CHROMIUM });
    page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    page.on('pageerror', (e) => pageErrors.push(e.message));
  });

  afterAll(async () => {
    await browser?.close();
    await serve?.stop();
    if (data) await rm(data, { recursive: true, force: true });
  });

  it('signs in with the link excite serve printed and shows the demo models and the worker', async () => {
    await page.goto(`${dashboard}/?token=${token}`);
    await page.getByTestId('models-table').waitFor();
    // the token left the address bar for localStorage
    expect(page.url()).not.toContain('token=');
    await expect.poll(() => page.getByTestId('viewer').textContent()).toContain('admin');
    const models = await page.getByTestId('models-table').textContent();
    expect(models).toContain('attention-train');
    expect(models).toMatch(/201025: 0\.\d\d/);
    expect(await page.getByTestId('workers-table').textContent()).toContain('embedded');
    await shot('overview');
  });

  it('launches a GA run, shows its preview change step by step, then its final image', async () => {
    await page.getByRole('navigation').getByRole('link', { name: 'Launch' }).click();
    const form = page.getByRole('form', { name: 'launch runs' });
    await form.waitFor();
    const generator = await form.locator('select[name=generator] option', { hasText: 'attention-train' }).getAttribute('value');
    await form.locator('select[name=generator]').selectOption(generator!);
    await form.locator('input[name=neurons]').fill('0');
    await form.locator('input[name=steps]').fill('250');
    await form.locator('input[name=label]').fill('browser test');
    await shot('launch');
    // every preview the page shows, recorded in the page as it changes
    await page.evaluate(`{
      const seen = (window.previews = []);
      new MutationObserver(() => {
        const src = document.querySelector('img[data-testid=preview]')?.src;
        if (src && seen.at(-1) !== src) seen.push(src);
      }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['src'] });
    }`);
    const previews = () => page.evaluate<string[]>('window.previews');
    await form.getByRole('button', { name: 'Start runs' }).click();
    await page.waitForURL(/\/batches\/[0-9a-f-]+$/);
    await page.getByTestId('preview').waitFor({ timeout: 120_000 });
    await expect.poll(async () => (await previews()).length, { timeout: 120_000 }).toBeGreaterThanOrEqual(3);
    await shot('run-live');
    await page.getByTestId('final-image').waitFor({ timeout: 300_000 });
    const shown = await previews();
    expect(new Set(shown).size).toBeGreaterThanOrEqual(3);
    expect(shown.every((p) => p.startsWith('data:image/png;base64,'))).toBe(true);
    await expect.poll(() => page.getByTestId('run-card').getAttribute('data-status')).toBe('SUCCEEDED');
    // the final image is the stored PNG (an object URL of the blob fetched with the token)
    expect(await page.getByTestId('final-image').getAttribute('src')).toMatch(/^blob:/);
    await shot('run-done');
  });

  it('starts a comparison of the demo models and shows the generalization matrix', async () => {
    await page.goto(`${dashboard}/comparisons`);
    const form = page.getByRole('form', { name: 'start a comparison' });
    await form.waitFor();
    await form.locator('input[name=neurons]').fill('0-1');
    await form.locator('input[name=steps]').fill('30');
    await form.locator('input[name=name]').fill('demo models, GA and EGG');
    await form.getByRole('button', { name: 'Start the comparison' }).click();
    await page.waitForURL(/\/comparisons\/[0-9a-f-]+$/);
    await expect.poll(() => page.getByTestId('comparison-progress').textContent(), { timeout: 300_000 }).toMatch(/(\d+) of \1 runs succeeded/);
    const matrix = page.getByTestId('generalization-matrix');
    await matrix.waitFor();
    const generators = await matrix.locator('tbody th').allTextContents();
    const evaluators = await Promise.all((await matrix.locator('thead th[data-evaluator]').all()).map((th) => th.getAttribute('data-evaluator')));
    expect(generators).toEqual(expect.arrayContaining(['attention-train · GA', 'attention-train · EGG']));
    expect(evaluators).toEqual(expect.arrayContaining(['attention-train']));
    // every generator scores the others' images too
    expect(evaluators).toEqual(expect.arrayContaining([...new Set(generators.map((row) => row.split(' · ')[0]))]));
    // every cell scored: a mean in each
    expect(await matrix.locator('tbody td').allTextContents()).not.toContainEqual(expect.stringMatching(/^— \(—\)/));
    // the heatmap is drawn with the models' names on its axes
    expect(await page.getByTestId('generalization-heatmap').textContent()).toContain('attention-train');
    await page.getByTestId('normalized-activation').locator('svg').waitFor();
    await shot('comparison');
  });

  it("shows the neuron's images with their scores, zooms and offers the files", async () => {
    await page.goto(`${dashboard}/neurons/201025/0`);
    await page.getByTestId('image-GA').first().waitFor();
    await page.getByTestId('image-EGG').first().waitFor();
    const scores = await page.getByTestId('neuron-scores').textContent();
    expect(scores).toContain('attention-train');
    expect(scores).toContain('●');
    await expect(page.getByRole('button', { name: 'PNG' }).first().isVisible()).resolves.toBe(true);
    await shot('neuron');
    await page.getByTestId('image-GA').first().click();
    await page.getByTestId('zoomed-image').waitFor();
    await shot('neuron-zoom');
    await page.keyboard.press('Escape');
  });

  it('cancels a batch while its run samples', async () => {
    await page.goto(`${dashboard}/runs/new`);
    const form = page.getByRole('form', { name: 'launch runs' });
    await form.waitFor();
    const generator = await form.locator('select[name=generator] option', { hasText: 'attention-train' }).getAttribute('value');
    await form.locator('select[name=generator]').selectOption(generator!);
    await form.locator('input[name=neurons]').fill('1');
    await form.locator('input[name=steps]').fill('5000');
    await form.locator('input[name=label]').fill('to be cancelled');
    await form.getByRole('button', { name: 'Start runs' }).click();
    await page.waitForURL(/\/batches\/[0-9a-f-]+$/);
    // sampling: a preview arrived, then the batch is cancelled from the page
    await page.getByTestId('preview').waitFor({ timeout: 120_000 });
    await page.getByRole('button', { name: 'Cancel the batch' }).click();
    await expect.poll(() => page.getByTestId('run-card').getAttribute('data-status'), { timeout: 60_000 }).toBe('CANCELLED');
    await expect.poll(() => page.getByTestId('batch-counts').textContent(), { timeout: 60_000 }).toContain('1 cancelled');
    await expect(page.getByRole('button', { name: 'Cancel the batch' }).count()).resolves.toBe(0);
  });

  it('keeps a read token away from launching', async () => {
    const res = await fetch(`${api}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: 'mutation { createToken(input: { role: READ, name: "viewer" }) { token } }' }),
    });
    const reader = ((await res.json()) as { data: { createToken: { token: string } } }).data.createToken.token;
    await page.goto(`${dashboard}/runs/new?token=${reader}`);
    await expect.poll(() => page.locator('.role-notice').textContent()).toContain('needs a token with the run role');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('form', { name: 'sign in' }).waitFor();
    await shot('sign-in');
    expect(pageErrors).toEqual([]);
  });
});
