/**
 * The client against a real service (tiny models, a few steps): every method of the SDK, the
 * subscriptions (runProgress ends with its run), errors as ExciteError with the service's codes,
 * retries of queries only, the bearer token on HTTP and WebSocket.
 */
import { join } from 'node:path';
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeNpy } from '@excite/engine';
import { writeFixtureFolders } from '@excite/api/src/testing/fixtures.ts';
import { tempDir } from '@excite/api/src/testing/harness.ts';
import { ExciteError, isExciteError } from './errors.ts';
import { HealthDocument, type ProgressEventFieldsFragment, RunProgressDocument, type RunStatusEventFieldsFragment } from './generated/graphql.ts';
import { readFolder } from './node/folder.ts';
import { type SdkTestService, startSdkTestService } from './testing/service.ts';

const neurons = [
  { session: 's1', index: 1 },
  { session: 's1', index: 2 },
];

describe('the excite client against a running service', () => {
  let s: SdkTestService;
  let folders: string;
  const ids = {} as Record<'ensemble' | 'encoder' | 'prior' | 'compact' | 'dataset' | 'batch', string>;

  beforeAll(async () => {
    folders = await tempDir('sdk-fixtures');
    await writeFixtureFolders(folders);
    s = await startSdkTestService({ limits: { maxBatchRuns: 40, maxRunsPerJob: 4, maxUploadFileBytes: 4 << 20 } });
  });

  afterAll(async () => {
    await s?.stop();
    await rm(folders, { recursive: true, force: true });
  });

  it('uploads model folders and an image set (uploadModel, uploadDataset)', async () => {
    const ensemble = await s.client.uploadModel(await readFolder(join(folders, 'tiny-ensemble')));
    expect(ensemble).toMatchObject({ name: 'tiny-ensemble', kind: 'ENSEMBLE', neurons: 3, created: true });
    // the same files register once
    expect(await s.client.uploadModel(await readFolder(join(folders, 'tiny-ensemble')))).toEqual({ ...ensemble, created: false });
    ids.ensemble = ensemble.id;
    ids.encoder = (await s.client.uploadModel(await readFolder(join(folders, 'tiny-encoder')), { name: 'tiny-encoder' })).id;
    const prior = await s.client.uploadModel(await readFolder(join(folders, 'tiny-prior')));
    expect(prior).toMatchObject({ kind: 'PRIOR', neurons: 0 });
    ids.prior = prior.id;
    // a compact model's session is its folder's name
    const compact = await s.client.uploadModel(await readFolder(join(folders, 's1')));
    expect(compact).toMatchObject({ kind: 'COMPACT', name: 'compact s1', neurons: 2 });
    ids.compact = compact.id;
    const dataset = await s.client.uploadDataset(await readFolder(join(folders, 'images')), { name: 'noise' });
    expect(dataset).toMatchObject({ name: 'noise', kind: 'IMAGES', images: 6, created: true });
    ids.dataset = dataset.id;

    // refused uploads are ExciteErrors with the service's code and HTTP status
    const junk = await s.client.uploadModel([{ path: 'notes.txt', data: new Uint8Array([1, 2, 3]) }]).catch((e) => e);
    expect(junk).toBeInstanceOf(ExciteError);
    expect(junk).toMatchObject({ code: 'INVALID_UPLOAD', status: 400, operation: 'upload/model' });
    const tooLarge = await s.client.uploadModel([{ path: 'weights.safetensors', data: new Uint8Array(5 << 20) }]).catch((e) => e);
    expect(tooLarge).toMatchObject({ code: 'UPLOAD_TOO_LARGE', status: 413 });
  });

  it('queries models, neurons and datasets, and pages through lists', async () => {
    const c = s.client;
    expect(await c.health()).toBe('ok');
    // any typed document
    expect(await c.request(HealthDocument)).toEqual({ health: 'ok' });
    expect(await c.viewer()).toMatchObject({ role: 'ADMIN', revokedAt: null });
    expect((await c.tokens()).map((t) => t.role)).toContain('ADMIN');

    const encoders = await c.encoders();
    expect(encoders.totalCount).toBe(3);
    expect(encoders.nodes.map((e) => e.kind).sort()).toEqual(['COMPACT', 'ENCODER', 'ENSEMBLE']);
    expect((await c.encoders({ filter: { kind: ['ENSEMBLE'] } })).nodes.map((e) => e.id)).toEqual([ids.ensemble]);
    const paged = [];
    for await (const e of c.paginate('encoders', {}, { pageSize: 1 })) paged.push(e.id);
    expect(paged.sort()).toEqual([ids.ensemble, ids.encoder, ids.compact].sort());

    const ensemble = await c.encoder({ id: ids.ensemble, neuronsFirst: 2 });
    expect(ensemble).toMatchObject({ name: 'tiny-ensemble', members: 2, sessions: ['s1'], neuronCount: 3, readout: 'attention', input: { channels: 1, height: 12, width: 12 } });
    expect(ensemble!.neurons).toMatchObject({ totalCount: 3, nodes: [{ index: 0 }, { index: 1 }], pageInfo: { hasNextPage: true } });
    expect(ensemble!.files.map((f) => f.path)).toContain('member-0/weights.safetensors');
    expect(await c.encoder({ id: ids.prior })).toBeNull();

    expect((await c.priors()).nodes).toMatchObject([{ id: ids.prior, imageSize: 8, channels: 1 }]);
    expect(await c.prior({ id: ids.prior })).toMatchObject({ name: 'tiny-prior', source: 'UPLOAD' });
    const s1 = await c.neurons({ filter: { session: 's1' } });
    expect(s1.nodes.map((n) => n.index)).toEqual([0, 1, 2]);
    expect((await c.neuron({ session: 's1', index: 1 }))!.encoders.map((e) => e.name)).toEqual(['tiny-ensemble', 'tiny-encoder', 'compact s1']);
    expect(await c.neuron({ session: 's1', index: 99 })).toBeNull();
    expect((await c.datasets()).nodes).toMatchObject([{ id: ids.dataset, name: 'noise', imageCount: 6 }]);
    expect(await c.dataset({ id: ids.dataset })).toMatchObject({ kind: 'IMAGES', neuronCount: null });

    // a blob's bytes
    const weights = ensemble!.files.find((f) => f.path === 'member-0/weights.safetensors')!.blob;
    expect((await c.download(weights)).byteLength).toBe(weights.size);
  });

  it('starts runs and streams their steps; runProgress ends when its run ends', async () => {
    const c = s.client;
    const steps = 4;
    const batch = await c.startRuns({ input: { generator: ids.ensemble, methods: ['GA', 'EGG'], neurons, seeds: [0, 1], settings: { steps }, label: 'sdk' } });
    ids.batch = batch.id;
    expect(batch).toMatchObject({ label: 'sdk', runCount: 8, done: false });
    const runs = batch.runs.nodes;
    expect(runs.map((r) => r.method)).toEqual(['GA', 'GA', 'GA', 'GA', 'EGG', 'EGG', 'EGG', 'EGG']);

    // status changes of the batch (this stream does not end by itself: leave it when all succeeded)
    const statuses: RunStatusEventFieldsFragment[] = [];
    const watching = (async () => {
      for await (const event of c.runStatusChanged({ batch: batch.id })) {
        statuses.push(event);
        if (statuses.filter((e) => e.status === 'SUCCEEDED').length === runs.length) break;
      }
    })();

    // one run's steps: the loop ends because the service completes the stream with the run
    const oneRun = (async () => {
      const events: ProgressEventFieldsFragment[] = [];
      for await (const event of c.runProgress({ run: runs[4].id })) events.push(event);
      return events;
    })();

    // every run followed to its end (late subscribers get the steps they missed first)
    const seen = new Map<string, number[]>();
    const finished: string[] = [];
    const final = await c.followRuns(runs, {
      concurrency: 3,
      onProgress: (e, run) => seen.set(run.id, [...(seen.get(run.id) ?? []), e.step]),
      onFinished: (run) => finished.push(run.id),
    });
    expect(final.map((r) => r.status)).toEqual(Array(8).fill('SUCCEEDED'));
    expect(final.every((r) => r.images.length === 1 && r.trajectory !== null)).toBe(true);
    expect(finished.sort()).toEqual(runs.map((r) => r.id).sort());
    for (const run of runs) expect(seen.get(run.id)).toEqual([1, 2, 3, 4]);

    const events = await oneRun;
    expect(events.map((e) => e.step)).toEqual([1, 2, 3, 4]);
    expect(events.every((e) => e.runId === runs[4].id && e.steps === steps && Number.isFinite(e.activation))).toBe(true);
    expect(events.at(-1)!.preview!.dataUrl).toMatch(/^data:image\/png;base64,/);
    expect((await c.run({ id: runs[4].id }))!.status).toBe('SUCCEEDED');

    await watching;
    expect(new Set(statuses.filter((e) => e.status === 'SUCCEEDED').map((e) => e.runId))).toEqual(new Set(runs.map((r) => r.id)));
    expect(statuses.every((e) => e.batchId === batch.id && e.run.id === e.runId)).toBe(true);

    // a finished batch: followBatch gives the final states without streams
    const again: string[] = [];
    const done = await c.followBatch(batch.id, { onProgress: (e) => again.push(e.runId) });
    expect(done.map((r) => r.id).sort()).toEqual(runs.map((r) => r.id).sort());
    expect(again).toEqual([]);
  });

  it('reads batches, runs and images, and downloads their files', async () => {
    const c = s.client;
    const batches = await c.batches();
    expect(batches.nodes.map((b) => b.id)).toContain(ids.batch);
    const batch = await c.batch({ id: ids.batch, runsFilter: { method: ['EGG'] }, runsFirst: 2 });
    expect(batch).toMatchObject({ done: true, counts: { succeeded: 8, failed: 0 } });
    expect(batch!.runs).toMatchObject({ totalCount: 4, pageInfo: { hasNextPage: true } });
    expect(batch!.runs.nodes.every((r) => r.method === 'EGG')).toBe(true);

    const runs = await c.runs({ filter: { batch: ids.batch, neuron: neurons[1] } });
    expect(runs.totalCount).toBe(4);
    const run = await c.run({ id: runs.nodes[0].id });
    expect(run).toMatchObject({ status: 'SUCCEEDED', device: 'cpu', attempts: 1, neuron: neurons[1], settings: { steps: 4 } });
    const trace = decodeNpy(await c.download(run!.trajectory!.energy));
    expect(trace.shape).toEqual([4]);
    // a finished run's steps, replayed, through a typed subscription document
    const replayed: number[] = [];
    for await (const result of c.subscribe(RunProgressDocument, { run: run!.id })) replayed.push(result.runProgress.step);
    expect(replayed).toEqual([1, 2, 3, 4]);

    const images = [];
    for await (const image of c.paginate('images', { filter: { batch: ids.batch } }, { pageSize: 3 })) images.push(image);
    expect(images).toHaveLength(8);
    const image = (await c.image({ id: images.find((i) => i.method === 'GA')!.id }))!;
    expect(image).toMatchObject({ kind: 'MEI', method: 'GA', space: 'PIXELS', width: 12, height: 12 });
    expect(image.scores.map((x) => x.evaluator.id).sort()).toEqual([ids.ensemble, ids.encoder, ids.compact].sort());
    expect(image.scores.find((x) => x.generator)!.evaluator.id).toBe(ids.ensemble);
    expect([...(await c.download(image.png)).subarray(0, 4)]).toEqual([0x89, 0x50, 0x4e, 0x47]);
    expect(decodeNpy(await c.download(image.array.url)).shape).toEqual([1, 12, 12]);
    expect(await c.image({ id: '00000000-0000-0000-0000-000000000000' })).toBeNull();
  });

  it('cancels a run and a batch', async () => {
    const c = s.client;
    const batch = await c.startRuns({ input: { generator: ids.encoder, methods: ['GA'], neurons: [neurons[0]], settings: { steps: 5000 } } });
    const [run] = batch.runs.nodes;
    let cancelled: Promise<unknown> | undefined;
    let steps = 0;
    for await (const event of c.runProgress({ run: run.id })) {
      steps = event.step;
      if (event.step === 2) cancelled = c.cancelRun({ id: run.id });
    }
    expect(await cancelled).toMatchObject({ id: run.id, status: 'CANCELLED' });
    expect(steps).toBeLessThan(5000);
    const queued = await c.startRuns({ input: { generator: ids.encoder, methods: ['GA'], neurons, seeds: [5, 6], settings: { steps: 5000 } } });
    expect(await c.cancelBatch({ id: queued.id })).toMatchObject({ done: true, counts: { cancelled: 4 } });
  });

  it('starts a comparison and reads its cells', async () => {
    const c = s.client;
    const started = await c.startComparison({ input: { name: 'transfer', generators: [ids.ensemble, ids.encoder], methods: ['GA'], neurons, settings: { steps: 3 } } });
    expect(started).toMatchObject({ name: 'transfer', methods: ['GA'], batch: { runCount: 4 } });
    await c.followBatch(started.batch.id);
    const comparison = (await c.comparison({ id: started.id }))!;
    expect(comparison.cells).toHaveLength(2 * 3);
    expect(comparison.cells.every((cell) => cell.count === 2 && Number.isFinite(cell.mean))).toBe(true);
    expect((await c.comparisons()).nodes.map((x) => x.id)).toEqual([started.id]);
  });

  it('creates and revokes tokens; the token travels on HTTP and WebSocket', async () => {
    const created = await s.client.createToken({ input: { role: 'READ', name: 'sdk reader' } });
    expect(created.token).toMatch(/^exc_/);
    expect(created.info).toMatchObject({ role: 'READ', name: 'sdk reader', revokedAt: null });
    const reader = s.connect({ token: created.token });
    expect(await reader.viewer()).toMatchObject({ id: created.info.id, role: 'READ' });
    // a subscription on the reader's WebSocket
    const [run] = (await reader.runs({ filter: { batch: ids.batch }, first: 1 })).nodes;
    const replayed = [];
    for await (const e of reader.runProgress({ run: run.id })) replayed.push(e.step);
    expect(replayed.at(-1)).toBe(4);
    // a read token may not start runs
    const forbidden = await reader.startRuns({ input: { generator: ids.encoder, methods: ['GA'], neurons } }).catch((e) => e);
    expect(forbidden).toMatchObject({ name: 'ExciteError', code: 'FORBIDDEN', status: 403 });

    expect(await s.client.revokeToken({ id: created.info.id })).toMatchObject({ id: created.info.id, revokedAt: expect.any(String) });
    await expect(reader.viewer()).rejects.toMatchObject({ code: 'UNAUTHENTICATED', status: 401 });
    await expect(s.connect({ token: undefined }).health()).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    const anonymous = s.connect({ token: undefined });
    await expect(anonymous.runProgress({ run: run.id }).next()).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('throws ExciteErrors with the service codes and their details', async () => {
    const c = s.client;
    const unknown = await c.startRuns({ input: { generator: ids.ensemble, methods: ['GA'], neurons: [{ session: 's1', index: 99 }] } }).catch((e) => e);
    expect(isExciteError(unknown, 'UNKNOWN_NEURON')).toBe(true);
    expect(unknown.details).toMatchObject({ neurons: [{ session: 's1', index: 99 }] });
    expect(unknown.operation).toBe('StartRuns');
    const tooMany = await c.startRuns({ input: { generator: ids.ensemble, methods: ['GA'], neurons, seeds: Array.from({ length: 21 }, (_, i) => i) } }).catch((e) => e);
    expect(tooMany).toMatchObject({ code: 'BATCH_TOO_LARGE', details: { runs: 42, limit: 40 } });
    await expect(c.startRuns({ input: { generator: ids.ensemble, methods: ['EGG'], neurons, settings: { steps: 1 } } })).rejects.toMatchObject({ code: 'INVALID_SETTINGS' });
    await expect(c.startRuns({ input: { generator: ids.prior, methods: ['GA'], neurons } })).rejects.toMatchObject({ code: 'WRONG_MODEL_KIND' });
    await expect(c.cancelRun({ id: 'nope' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(c.runs({ after: 'not-a-cursor' })).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    // a subscription's error
    await expect(c.runProgress({ run: '00000000-0000-0000-0000-000000000000' }).next()).rejects.toMatchObject({ name: 'ExciteError', code: 'NOT_FOUND' });
    // no service there
    const nobody = s.connect({ url: 'http://127.0.0.1:1/graphql', retry: false });
    await expect(nobody.health()).rejects.toMatchObject({ code: 'NETWORK_ERROR' });
    await expect(nobody.download('/blobs/x')).rejects.toMatchObject({ code: 'NETWORK_ERROR' });
  });

  it('retries queries with backoff, never mutations', async () => {
    let calls = 0;
    let failures = 0;
    // the first two calls of each operation find no service; 503s without a GraphQL body are retried too
    const flaky: typeof fetch = async (input, init) => {
      calls++;
      if (failures < 2) {
        failures++;
        throw new TypeError('fetch failed', { cause: { code: 'ECONNRESET' } });
      }
      return fetch(input, init);
    };
    const c = s.connect({ fetch: flaky, retry: { retries: 3, minDelayMs: 5, maxDelayMs: 20 } });
    expect(await c.health()).toBe('ok');
    expect(calls).toBe(3);

    calls = failures = 0;
    const started = Date.now();
    await expect(c.cancelRun({ id: 'nope' })).rejects.toMatchObject({ code: 'NETWORK_ERROR', operation: 'CancelRun' });
    expect(calls).toBe(1);
    expect(Date.now() - started).toBeLessThan(1000);

    // a refusal with a code of its own is not retried
    calls = 0;
    failures = 2;
    await expect(c.runs({ after: 'not-a-cursor' })).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    expect(calls).toBe(1);

    let unavailable = 2;
    const overloaded: typeof fetch = async (input, init) => (unavailable-- > 0 ? new Response('busy', { status: 503, headers: { 'retry-after': '0' } }) : fetch(input, init));
    expect(await s.connect({ fetch: overloaded, retry: { minDelayMs: 5 } }).health()).toBe('ok');
    unavailable = 1;
    await expect(s.connect({ fetch: overloaded, retry: false }).health()).rejects.toMatchObject({ code: 'HTTP_ERROR', status: 503 });
  });
});
