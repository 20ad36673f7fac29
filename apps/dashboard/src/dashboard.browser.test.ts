/**
 * The dashboard in Debian's Chromium (playwright-core) against a real `excite serve`: the API, its
 * worker and the dashboard as `npm start` runs them, on free ports with a fresh data folder and the
 * demo models of models/demo. It signs in with the link serve prints (an HTTP-only cookie), counts
 * the overview's requests to the API, launches a GA run and watches its preview change step by step
 * until the final image, finds stored data in the first HTML of a page, starts a comparison of the
 * demo models (GA and EGG) and finds its matrix, opens a neuron's page with the images of both
 * methods and their scores, cancels a sampling batch from its page, and checks that a read token
 * cannot launch, and runs the closed loop (GA, EGG and top natural images for two neurons of the demo
 * session, exported, "recorded" by `excite simulate-recording` with the V4 compact models as the
 * brain, imported through the SDK) to the recording's analysis page, its plots and its numbers.
 * A screenshot of every page goes to .cache/dashboard-screenshots (EXCITE_SCREENSHOTS=docs/screenshots
 * refreshes those of docs/dashboard.md).
 *
 * Needs /usr/bin/chromium (`apt-get install chromium`; .ci/run installs it): skipped without it.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type Browser, type Page, type Request, type WebSocket, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { readImageArchive } from '@excite/engine';
import { V4_DATA, writeSyntheticSession } from '@excite/engine/testing';
import { createClient } from '@excite/sdk';
import { exportImages, importResponsesFromFiles, readFolder } from '@excite/sdk/node';
import { initializedPglite, tempDir } from '@excite/api/src/testing/harness.ts';
import { neuronStats, parseNpyMatrix } from './lib/response-stats.ts';
import { EXCITE_BIN, type ExciteProcess, startExcite } from '@excite/api/src/testing/processes.ts';

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
  let apiPort: number;
  let token: string;
  const pageErrors: string[] = [];

  /**
   * The visible element of a test id: React reveals a streamed Suspense boundary a moment after
   * its content arrives (in a hidden div), so for an instant the page holds it twice.
   */
  const visible = (testId: string) => page.getByTestId(testId).filter({ visible: true });
  /** one visible element: while React streams a boundary in, it may hold the old and the revealed copy at once */
  const one = (testId: string) => visible(testId).first();
  const shot = (name: string) => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });

  beforeAll(async () => {
    data = await tempDir('dashboard');
    await initializedPglite(join(data, 'pglite'));
    await mkdir(SCREENSHOTS, { recursive: true });
    apiPort = await freePort();
    const dashboardPort = await freePort();
    // the first start builds the dashboard (when its build is missing or stale): minutes on a busy machine
    const started = await startExcite(
      ['serve', '--port', String(apiPort), '--dashboard-port', String(dashboardPort), '--host', '127.0.0.1', '--data', data],
      { DATABASE_URL: '' },
      /dashboard at (http:\/\/\S+)\/sign-in\?token=(exc_[\w-]+)/,
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

  /**
   * What the page asks the API for while `view` runs: HTTP requests to its /graphql (with their
   * variables) and WebSockets to it (with the operations they start).
   */
  async function apiTraffic(view: () => Promise<unknown>) {
    const requests: { query: string; variables: Record<string, unknown> }[] = [];
    const sockets: { url: string; sent: string[] }[] = [];
    const toApi = (url: string) => new URL(url).port === String(apiPort) && new URL(url).pathname === '/graphql';
    const onRequest = (r: Request) => {
      if (toApi(r.url()) && r.method() === 'POST') requests.push(r.postDataJSON() as { query: string; variables: Record<string, unknown> });
    };
    const onSocket = (ws: WebSocket) => {
      if (!toApi(ws.url().replace(/^ws/, 'http'))) return;
      const socket = { url: ws.url(), sent: [] as string[] };
      sockets.push(socket);
      ws.on('framesent', (f) => socket.sent.push(String(f.payload)));
    };
    page.on('request', onRequest);
    page.on('websocket', onSocket);
    try {
      await view();
    } finally {
      page.off('request', onRequest);
      page.off('websocket', onSocket);
    }
    return { requests, sockets };
  }

  it('signs in with the link excite serve printed and shows the demo models and the worker', async () => {
    await page.goto(`${dashboard}/sign-in?token=${token}`);
    await visible('models-table').waitFor();
    // the token left the address bar for an HTTP-only cookie that the page's scripts cannot read
    expect(new URL(page.url()).pathname).toBe('/');
    expect(page.url()).not.toContain('token=');
    const cookie = (await page.context().cookies()).find((c) => c.value === token);
    expect(cookie).toMatchObject({ name: 'excite_token', httpOnly: true, sameSite: 'Lax', path: '/' });
    expect(await page.evaluate('document.cookie')).not.toContain(token);
    expect(await page.evaluate('JSON.stringify(localStorage)')).not.toContain(token);
    await expect.poll(() => one('viewer').textContent()).toContain('admin');
    const models = await visible('models-table').textContent();
    expect(models).toContain('attention-train');
    expect(models).toMatch(/201025: 0\.\d\d/);
    expect(await visible('workers-table').textContent()).toContain('embedded');
    await shot('overview');
  });

  it('refuses a bad sign-in link and keeps the pages to signed-in browsers', async () => {
    const refused = await fetch(`${dashboard}/sign-in?token=exc_${'x'.repeat(43)}`, { redirect: 'manual' });
    expect(refused.status).toBe(303);
    expect(refused.headers.get('location')).toBe('/?signin=refused');
    expect(refused.headers.get('set-cookie')).toBeNull();
    // without the cookie a page holds the sign-in form and none of the stored data
    const anonymous = await (await fetch(`${dashboard}/`)).text();
    expect(anonymous).toContain('Sign in with a token');
    expect(anonymous).not.toContain('attention-train');
    expect((await fetch(`${dashboard}/files/${'0'.repeat(64)}`)).status).toBe(401);
  });

  it('views the overview with one socket to the API and no GraphQL request of its own, and does not poll', async () => {
    // the bound: at most 3 connections to the API's /graphql in one view, the status subscription's socket included; in fact no HTTP request at all
    const traffic = await apiTraffic(async () => {
      await page.goto(`${dashboard}/`);
      await visible('models-table').waitFor();
      // long enough for a poll of the old dashboard (every 3 s) to show
      await page.waitForTimeout(4_000);
    });
    expect(traffic.requests.length + traffic.sockets.length).toBeLessThanOrEqual(3);
    expect(traffic.requests).toEqual([]);
    expect(traffic.sockets).toHaveLength(1);
    const started = traffic.sockets.flatMap((s) => s.sent.map((f) => JSON.parse(f) as { type: string; payload?: { query?: string; variables?: Record<string, unknown> } })).filter((m) => m.type === 'subscribe');
    // one status subscription, no query, no list: nothing asks for rows
    expect(started).toHaveLength(1);
    expect(started.map((m) => m.payload?.query ?? '').every((q) => /^\s*subscription\b/.test(q) && q.includes('runStatusChanged'))).toBe(true);
    for (const r of [...traffic.requests.map((q) => q.variables ?? {}), ...started.map((m) => m.payload?.variables ?? {})]) expect(r.first ?? 0).toBeLessThanOrEqual(20);
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
    await one('preview').waitFor({ timeout: 120_000 });
    await expect.poll(async () => (await previews()).length, { timeout: 120_000 }).toBeGreaterThanOrEqual(3);
    await shot('run-live');
    await one('final-image').waitFor({ timeout: 300_000 });
    const shown = await previews();
    expect(new Set(shown).size).toBeGreaterThanOrEqual(3);
    expect(shown.every((p) => p.startsWith('data:image/png;base64,'))).toBe(true);
    await expect.poll(() => one('run-card').getAttribute('data-status')).toBe('SUCCEEDED');
    // the final image is the stored PNG, through the dashboard's /files route (the cookie's token)
    expect(await one('final-image').getAttribute('src')).toMatch(/^\/files\/[0-9a-f]{64}$/);
    await expect.poll(() => page.getByTestId('final-image').evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth)).toBeGreaterThan(0);
    await shot('run-done');
  });

  it('renders stored data on the server: the first HTML holds it, the browser asks the API for none', async () => {
    const batchPath = new URL(page.url()).pathname;
    // a reload: the response to the page's own request already holds the batch and the models
    let html = '';
    const traffic = await apiTraffic(async () => {
      const response = await page.reload();
      html = (await response!.text()) ?? '';
      // React may hold the streamed copy and the revealed one at once for a moment: any visible one will do
      await visible('final-image').first().waitFor();
    });
    expect(html).toContain('browser test');
    expect(html).toContain('attention-train');
    expect(html).toMatch(/data-testid="final-image"[^>]*src="\/files\/[0-9a-f]{64}"|src="\/files\/[0-9a-f]{64}"[^>]*data-testid="final-image"/);
    // a finished batch: nothing live, no request and no socket to the API
    expect(traffic.requests).toEqual([]);
    expect(traffic.sockets).toEqual([]);
    // the same HTML for anyone with the cookie: the overview lists the batch and the model, without a script
    const overview = await (await fetch(`${dashboard}/`, { headers: { cookie: `excite_token=${token}` } })).text();
    expect(overview).toContain('browser test');
    expect(overview).toContain('attention-train');
    const batch = await (await fetch(`${dashboard}${batchPath}`, { headers: { cookie: `excite_token=${token}` } })).text();
    expect(batch).toContain('SUCCEEDED');
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
    await expect.poll(() => one('comparison-progress').textContent(), { timeout: 300_000 }).toMatch(/(\d+) of \1 runs succeeded/);
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
    expect(await one('generalization-heatmap').textContent()).toContain('attention-train');
    await page.getByTestId('normalized-activation').locator('svg').waitFor();
    await shot('comparison');
  });

  it("shows the neuron's images with their scores, zooms and offers the files", async () => {
    await page.goto(`${dashboard}/neurons/201025/0`);
    await page.getByTestId('image-GA').first().waitFor();
    await page.getByTestId('image-EGG').first().waitFor();
    const scores = await one('neuron-scores').textContent();
    expect(scores).toContain('attention-train');
    expect(scores).toContain('●');
    await expect(page.getByRole('link', { name: 'PNG' }).first().isVisible()).resolves.toBe(true);
    const png = await fetch(new URL((await page.getByRole('link', { name: 'PNG' }).first().getAttribute('href'))!, dashboard), { headers: { cookie: `excite_token=${token}` } });
    expect(png.headers.get('content-type')).toBe('image/png');
    expect(png.headers.get('content-disposition')).toMatch(/^attachment; filename="ga_.*\.png"$/);
    await shot('neuron');
    await page.getByTestId('image-GA').first().click();
    await one('zoomed-image').waitFor();
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
    await one('preview').waitFor({ timeout: 120_000 });
    await page.getByRole('button', { name: 'Cancel the batch' }).click();
    await expect.poll(() => one('run-card').getAttribute('data-status'), { timeout: 60_000 }).toBe('CANCELLED');
    await expect.poll(() => one('batch-counts').textContent(), { timeout: 60_000 }).toContain('1 cancelled');
    await expect(page.getByRole('button', { name: 'Cancel the batch' }).count()).resolves.toBe(0);
  });

  it('lists an imported (ONNX) model with its own architecture and the op count of its graph', async () => {
    const client = createClient({ url: `${api}/graphql`, token });
    const model = await client.uploadModel(await readFolder(join(ROOT, 'packages/engine/fixtures/onnx/resnet')), { name: 'lab-resnet' });
    expect(model.kind).toBe('ONNX');
    await page.goto(`${dashboard}/`);
    await expect.poll(() => visible('models-table').textContent()).toMatch(/lab-resnet.*ResNet-18-like core.*\(ONNX, \d+ ops\)/);
  });

  // the demo models' neurons are those of V4 session 201025: its compact models are the brain, so without the V4 data there is no brain to record
  it.skipIf(!V4_DATA)(`runs the simulated closed loop and shows the recording's analysis with its plots${V4_DATA ? '' : ' (skipped: no V4 data at ../shared/data/v4; set EXCITE_V4_DATA)'}`, async () => {
    const client = createClient({ url: `${api}/graphql`, token });
    const loop = join(data, 'closed-loop');
    // the brain: the compact models of neurons 0 and 1 of session 201025 (the folder's name is the session), registered as the ground truth too
    const brain = join(loop, '201025');
    await mkdir(brain, { recursive: true });
    await Promise.all([0, 1].map((k) => copyFile(join(V4_DATA!, 'compact/201025', `neuron${k}.safetensors`), join(brain, `neuron${k}.safetensors`))));
    const truth = await client.uploadModel(await readFolder(brain), { name: 'brain-201025' });
    // the session's first 40 natural images, for the top natural images of each neuron (the baseline)
    const archive = await readImageArchive(join(V4_DATA!, 'sessions/201025/images.zip'));
    const natural = await client.uploadDataset(
      archive.names.slice(0, 40).map((name, k) => ({ path: `natural-201025/${basename(name)}`, data: archive.bytes(k) })),
      { name: 'natural-201025' },
    );

    // the night before: GA, EGG and the top natural images of neurons 0 and 1, exported for the rig
    const encoders = await client.encoders({ first: 100 });
    const generator = encoders.nodes.find((e) => e.name === 'attention-train')!;
    const neurons = [0, 1].map((index) => ({ session: '201025', index }));
    const batch = await client.startRuns({ input: { generator: generator.id, methods: ['GA', 'EGG', 'TOP_K'], neurons, seeds: [0], dataset: natural.id, settings: { steps: 20, k: 2 }, label: 'closed loop' } });
    await expect.poll(async () => (await client.batch({ id: batch.id }))?.done, { timeout: 300_000, interval: 1000 }).toBe(true);
    expect((await client.batch({ id: batch.id }))!.counts).toMatchObject({ succeeded: 6, failed: 0 });
    const { csv, images } = await exportImages(client, { batch: batch.id }, join(loop, 'night1'));
    expect(images).toHaveLength(2 * (1 + 1 + 2));

    // the rig: `excite simulate-recording` with the compact models as the brain, Poisson repeats
    const responses = join(loop, 'day1.npy');
    const { stdout } = await promisify(execFile)(process.execPath, [EXCITE_BIN, 'simulate-recording', '--stimuli', csv, '--compact', brain, '--repeats', '6', '--scale', '100', '--seed', '1', '--out', responses, '--json']);
    expect(JSON.parse(stdout)).toMatchObject({ session: '201025', neurons: [0, 1], stimuli: 8, repeats: 6 });

    // the morning after: imported through the SDK (the rows are neurons 0 and 1 of the session)
    const recording = await importResponsesFromFiles(client, { stimuli: csv, responses, neurons: [0, 1], repeats: true });
    const { analysis } = (await client.recording({ id: recording.id }))!;

    // the list, newest first, links to it from the nav bar
    await page.goto(`${dashboard}/`);
    await page.getByRole('navigation').getByRole('link', { name: 'Recordings' }).click();
    const list = page.getByTestId('recordings-table');
    await list.waitFor();
    expect((await list.locator('tbody tr').first().locator('td').allTextContents()).slice(0, 5)).toEqual(['day1', '201025', '8', '2', '6']);
    await list.getByRole('link', { name: 'day1' }).click();
    await page.waitForURL(`${dashboard}/recordings/${recording.id}`);
    expect(await one('recording-name').textContent()).toBe('day1');

    // the plots are drawn (SVG)
    for (const chart of ['relative-response-chart', 'paired-chart', 'evaluator-chart', 'noise-ceiling-chart']) await page.getByTestId(chart).locator('svg').waitFor();
    expect(await one('relative-response-chart').textContent()).toContain('best natural image (1.0)');
    expect(await one('evaluator-chart').textContent()).toContain('brain-201025');

    // the tables hold the API's numbers
    const value = async (cell: ReturnType<Page['locator']>) => Number(await cell.locator('[data-value]').first().getAttribute('data-value'));
    const perNeuron = page.getByTestId('per-neuron-table');
    expect(analysis.perNeuron.map((p) => `${p.neuron.index}${p.method}`)).toEqual(['0EGG', '0GA', '1EGG', '1GA']);
    for (const p of analysis.perNeuron) {
      const row = perNeuron.locator(`tr[data-neuron="${p.neuron.index}"]`);
      const cell = row.locator(`td[data-method="${p.method}"]`);
      expect(await value(cell.locator('[data-cell=response]'))).toBe(p.response);
      expect(await value(cell.locator('[data-cell=relative]'))).toBe(p.relativeToNatural);
      expect(await value(row.locator('[data-cell=best-natural]'))).toBe(p.bestNatural);
    }
    const pairs = page.getByTestId('method-pairs-table');
    expect(await pairs.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-pair')))).toEqual(['EGG-GA', 'EGG-natural', 'GA-natural']);
    for (const p of analysis.methodPairs) {
      const row = pairs.locator(`tr[data-pair="${p.a}-${p.b ?? 'natural'}"]`);
      expect(Number(await row.locator('[data-cell=neurons]').textContent())).toBe(p.neurons);
      expect(p.neurons).toBe(2);
      expect(await value(row.locator('[data-cell=p]'))).toBe(p.pValue);
      expect(await value(row.locator('[data-cell=effect-size]'))).toBe(p.effectSize);
      expect(await value(row.locator('[data-cell=w-plus]'))).toBe(p.wPlus);
      expect(await value(row.locator('[data-cell=median-difference]'))).toBe(p.medianDifference);
    }
    // the evaluators best first, the brain's own model first of all
    const evaluators = page.getByTestId('evaluators-table');
    expect(await evaluators.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-evaluator')))).toEqual(analysis.evaluators.map((e) => e.evaluator.name));
    expect(analysis.evaluators[0].evaluator.id).toBe(truth.id);
    expect(analysis.evaluators.map((e) => e.evaluator.name)).toEqual(expect.arrayContaining(['attention-train', 'brain-201025']));
    for (const e of analysis.evaluators) {
      const row = evaluators.locator(`tr[data-evaluator="${e.evaluator.name}"]`);
      expect(await value(row.locator('[data-cell=r]'))).toBe(e.r);
      expect(Number(await row.locator('[data-cell=pairs]').textContent())).toBe(e.pairs);
    }
    const noise = page.getByTestId('noise-table');
    for (const n of analysis.noiseCeiling.neurons) {
      const row = noise.locator(`tr[data-neuron="${n.neuron.index}"]`);
      expect(await value(row.locator('[data-cell=fev]'))).toBe(n.fev);
      expect(await value(row.locator('[data-cell=split-half]'))).toBe(n.splitHalfR);
    }
    expect(await value(page.getByTestId('noise-summary'))).toBe(analysis.noiseCeiling.meanFev);
    await shot('recording');

    // the neuron's page shows each image's recorded response beside its scores
    await page.goto(`${dashboard}/neurons/201025/0`);
    await page.getByTestId('neuron-recorded').first().waitFor();
    expect(await page.getByTestId('neuron-recorded').first().textContent()).toContain('day1');
    // ... and so does the batch's page under each final image
    await page.goto(`${dashboard}/batches/${batch.id}`);
    // each run card's images stream in on their own (Suspense): wait for all of them, not the first
    await expect.poll(() => page.getByTestId('image-recorded').count(), { timeout: 60_000 }).toBe(8);
  });

  it('uploads a recording, trains an encoder on it from the form, watches its curves grow and opens the model', async () => {
    // a tiny recording (training-suite.ts): 40 images of 32 x 32, 4 neurons; the demo preset trains it in seconds
    const folder = join(data, 'browser-lab');
    await writeSyntheticSession(folder, { images: 40, neurons: 4, seed: 5, size: 32 });
    await page.goto(`${dashboard}/sign-in?token=${token}&next=/datasets`);
    await page.getByRole('navigation').getByRole('link', { name: 'Datasets' }).click();
    await page.waitForURL(/\/datasets$/);
    const upload = page.getByRole('form', { name: 'upload a dataset' });
    // the zone's file input (what a drop or the picker fills)
    await upload.getByTestId('upload-input').setInputFiles([join(folder, 'images.zip'), join(folder, 'responses.npy')]);
    expect(await upload.getByTestId('upload-files').textContent()).toMatch(/images\.zip.*responses\.npy/);
    await upload.locator('input[name=name]').fill('browser-lab');
    await upload.getByRole('button', { name: /^Upload 2 files/ }).click();
    const done = upload.getByTestId('upload-done');
    await done.waitFor({ timeout: 60_000 });
    expect(await done.textContent()).toMatch(/browser-lab \(recording, 40 images, 4 neurons\)/);
    // the bar reached its end
    const bar = upload.locator('[data-testid=upload-progress] progress');
    expect(await bar.evaluate((p) => (p as unknown as { value: number; max: number }).value === (p as unknown as { max: number }).max)).toBe(true);
    await visible('datasets-table').locator('tr', { hasText: 'browser-lab' }).waitFor();
    expect(await visible('datasets-table').locator('tr', { hasText: 'browser-lab' }).textContent()).toMatch(/recording\s*40\s*4/);
    await shot('datasets');

    // the dataset's page: thumbnails out of its images.zip, each neuron's response statistics
    await done.getByRole('link', { name: 'browser-lab' }).click();
    await page.waitForURL(/\/datasets\/[0-9a-f-]+$/);
    const datasetId = new URL(page.url()).pathname.split('/').pop()!;
    const thumbs = page.getByTestId('thumbnails').locator('img');
    await expect.poll(() => thumbs.count(), { timeout: 30_000 }).toBe(24);
    await expect.poll(() => thumbs.evaluateAll((imgs) => imgs.filter((i) => (i as unknown as { naturalWidth: number }).naturalWidth === 32).length), { timeout: 30_000 }).toBe(24);
    const expected = neuronStats(parseNpyMatrix(new Uint8Array(await readFile(join(folder, 'responses.npy')))));
    const stats = visible('response-stats');
    await stats.waitFor();
    for (const n of expected) {
      const row = stats.locator(`tr[data-neuron="${n.neuron}"]`);
      expect(Number(await row.locator('td').nth(1).getAttribute('data-value'))).toBeCloseTo(n.mean, 9);
      expect(Number(await row.locator('td').nth(2).getAttribute('data-value'))).toBeCloseTo(n.sd, 9);
    }
    await page.getByTestId('response-chart').locator('svg').waitFor();
    await shot('dataset');

    // the form: a refusal shows the service's code, then a tiny recipe starts
    await page.getByRole('link', { name: 'train an encoder on it' }).click();
    const form = page.getByRole('form', { name: 'start a training' });
    await form.waitFor();
    expect(await form.locator(`input[name=datasets][value="${datasetId}"]`).isChecked()).toBe(true);
    await form.locator('input[name=range]').fill('10:5');
    await form.getByRole('button', { name: 'Start the training' }).click();
    await expect.poll(() => form.getByRole('alert').textContent()).toContain('INVALID_SETTINGS');
    await form.locator('input[name=range]').fill('');
    await form.locator('select[name=preset]').selectOption('demo');
    await form.locator('input[name=maxEpochs]').fill('10');
    await form.locator('input[name=batchSize]').fill('4');
    await form.locator('input[name=seed]').fill('3');
    await form.locator('input[name=name]').fill('browser-lab twin');
    await shot('training-new');
    // every batch count the loss chart reports, recorded in the page as it changes
    await page.evaluate(`{
      const seen = (window.batchCounts = []);
      new MutationObserver(() => {
        const n = document.querySelector('[data-testid=training-curves]')?.getAttribute('data-batches');
        if (n !== undefined && n !== null && seen.at(-1) !== Number(n)) seen.push(Number(n));
      }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-batches'] });
    }`);
    await form.getByRole('button', { name: 'Start the training' }).click();
    await page.waitForURL(/\/trainings\/[0-9a-f-]+$/);
    const trainingId = new URL(page.url()).pathname.split('/').pop()!;
    const curves = page.getByTestId('training-curves');
    const batches = async () => Number(await curves.getAttribute('data-batches'));
    await expect.poll(batches, { timeout: 120_000 }).toBeGreaterThan(0);
    await page.getByTestId('loss-chart').locator('svg').waitFor();
    await shot('training-live');
    await expect.poll(() => one('training-status').getAttribute('data-status'), { timeout: 180_000 }).toBe('SUCCEEDED');
    // the curve grew while the page watched: several counts, each larger than the last
    const counts = await page.evaluate<number[]>('window.batchCounts');
    const growing = counts.filter((n) => n > 0);
    expect(growing.length).toBeGreaterThanOrEqual(3);
    expect(growing.every((n, i) => i === 0 || n > growing[i - 1])).toBe(true);
    // ... to every batch and epoch the training made (36 training images in batches of 4: 9 batches an epoch)
    const client = createClient({ url: `${api}/graphql`, token });
    const training = (await client.training({ id: trainingId }))!;
    await client.close();
    expect(training).toMatchObject({ status: 'SUCCEEDED', steps: 9, model: { name: 'browser-lab twin', sessions: ['browser-lab'], neuronCount: 4 } });
    await expect.poll(batches).toBe(training.history.length * training.steps);
    expect(Number(await curves.getAttribute('data-epochs'))).toBe(training.history.length);
    const model = page.getByTestId('trained-model');
    await model.waitFor();
    expect(await model.getAttribute('data-model')).toBe(training.model!.id);
    await visible('model-metrics').waitFor();
    expect(await visible('model-metrics').textContent()).toContain('browser-lab');
    // the trainer states each neuron's held-out r: the page draws their histogram
    await visible('r-histogram').waitFor();
    await shot('training-done');

    // the listing, then the launch form for the new model's neurons
    await page.getByRole('navigation').getByRole('link', { name: 'Trainings' }).click();
    expect(await visible('trainings-table').locator('tr').nth(1).textContent()).toContain('browser-lab twin');
    await page.goto(`${dashboard}/trainings/${trainingId}`);
    await one('launch-link').click();
    await page.waitForURL(/\/runs\/new\?generator=/);
    const launch = page.getByRole('form', { name: 'launch runs' });
    await launch.waitFor();
    expect(await launch.locator('select[name=generator]').inputValue()).toBe(training.model!.id);
    expect(pageErrors).toEqual([]);
  });

  it('keeps a read token away from launching', async () => {
    const res = await fetch(`${api}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: 'mutation { createToken(input: { role: READ, name: "viewer" }) { token } }' }),
    });
    const reader = ((await res.json()) as { data: { createToken: { token: string } } }).data.createToken.token;
    await page.goto(`${dashboard}/sign-in?token=${reader}&next=/runs/new`);
    expect(new URL(page.url()).pathname).toBe('/runs/new');
    await expect.poll(() => page.locator('.role-notice').textContent()).toContain('needs a token with the run role');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('form', { name: 'sign in' }).waitFor();
    await shot('sign-in');
    expect(pageErrors).toEqual([]);
  });
});
