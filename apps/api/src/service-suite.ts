/**
 * The service end to end, the same for PGlite (service.test.ts) and PostgreSQL
 * (service.postgres.test.ts): a real server on a free port, uploads over HTTP, queries and
 * mutations over HTTP, subscriptions over graphql-ws. Tiny models (testing/fixtures.ts) and a few
 * steps keep it fast.
 */
import { join } from 'node:path';
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeNpy } from '@excite/engine';
import { writeFixtureFolders } from './testing/fixtures.ts';
import { type Backend, type TestService, folderFiles, startTestService, tempDir } from './testing/harness.ts';

const RUN_FIELDS = 'id method status seed attempts device worker seconds neuron { session index } progress { step steps fraction } error { code message }';

const START = `mutation($input: StartRunsInput!) { startRuns(input: $input) { id runCount runs(first: 100) { nodes { ${RUN_FIELDS} } } } }`;
const PROGRESS = 'subscription($run: ID!) { runProgress(run: $run) { runId attempt step steps timestep energy activation preview { width height channels dataUrl } } }';
const BATCH_DONE = 'query($id: ID!) { batch(id: $id) { done counts { queued running succeeded failed cancelled } } }';

interface Ids {
  ensemble: string;
  encoder: string;
  prior: string;
  compact: string;
  dataset: string;
}

export function serviceSuite(backend: Backend): void {
  describe(`the service on ${backend}`, () => {
    let t: TestService;
    let folders: string;
    const ids = {} as Ids;
    let uploads: Record<'ensemble' | 'encoder' | 'prior' | 'compact' | 'images', { status: number; body: any }>;

    /** Waits until every run of the batch has finished (the worker runs in the service's process; the test's time limit bounds the wait). */
    async function finished(batchId: string) {
      for (;;) {
        const { batch } = await t.ok<{ batch: { done: boolean; counts: Record<string, number> } }>(BATCH_DONE, { id: batchId });
        if (batch.done) return batch.counts;
        await new Promise((r) => setTimeout(r, 100));
      }
    }

    beforeAll(async () => {
      folders = await tempDir('fixtures');
      await writeFixtureFolders(folders);
      t = await startTestService(backend, { limits: { maxBatchRuns: 40, maxRunsPerJob: 4, maxUploadFileBytes: 4 << 20 } });
      // every test starts from these models and images, whichever runs first or alone
      uploads = {
        ensemble: await t.upload('/upload/model', await folderFiles(join(folders, 'tiny-ensemble'), 'tiny-ensemble')),
        encoder: await t.upload('/upload/model', await folderFiles(join(folders, 'tiny-encoder')), { name: 'tiny-encoder' }),
        prior: await t.upload('/upload/model', await folderFiles(join(folders, 'tiny-prior'), 'tiny-prior')),
        compact: await t.upload('/upload/model', await folderFiles(join(folders, 's1'), 's1')),
        images: await t.upload('/upload/dataset', await folderFiles(join(folders, 'images')), { name: 'noise' }),
      };
      Object.assign(ids, { ensemble: uploads.ensemble.body.model.id, encoder: uploads.encoder.body.model.id, prior: uploads.prior.body.model.id, compact: uploads.compact.body.model.id, dataset: uploads.images.body.dataset.id });
    });

    afterAll(async () => {
      await t?.stop();
      await rm(folders, { recursive: true, force: true });
    });

    it('registers model folders and an image set through the upload endpoint', async () => {
      expect(uploads.ensemble.status).toBe(201);
      expect(uploads.ensemble.body.model).toMatchObject({ name: 'tiny-ensemble', kind: 'ENSEMBLE', neurons: 3, created: true });
      // the same files register once
      const again = await t.upload('/upload/model', await folderFiles(join(folders, 'tiny-ensemble'), 'tiny-ensemble'));
      expect(again).toMatchObject({ status: 200, body: { model: { id: ids.ensemble, created: false } } });
      expect(uploads.encoder.body.model).toMatchObject({ kind: 'ENCODER', neurons: 3 });
      expect(uploads.prior.body.model).toMatchObject({ kind: 'PRIOR', neurons: 0 });
      // a compact folder's name is its session
      expect(uploads.compact.body.model).toMatchObject({ kind: 'COMPACT', neurons: 2, name: 'compact s1' });
      expect(uploads.images.body.dataset).toMatchObject({ name: 'noise', kind: 'IMAGES', images: 6, created: true });

      const data = await t.ok(`{
        encoders { totalCount nodes { id name kind members sessions neuronCount readout input { channels height width } files { path blob { size mediaType url } } } }
        priors { nodes { id imageSize channels } }
        neuron(session: "s1", index: 1) { encoders { name } }
        datasets { nodes { name imageCount kind } }
      }`);
      expect(data.encoders.totalCount).toBe(3);
      const ens = data.encoders.nodes.find((e: { id: string }) => e.id === ids.ensemble);
      expect(ens).toMatchObject({ kind: 'ENSEMBLE', members: 2, sessions: ['s1'], neuronCount: 3, readout: 'attention', input: { channels: 1, height: 12, width: 12 } });
      expect(ens.files.map((f: { path: string }) => f.path)).toEqual(['member-0/model.json', 'member-0/weights.safetensors', 'member-1/model.json', 'member-1/weights.safetensors', 'model.json']);
      const blob = await t.fetch(`${ens.files[1].blob.url}`);
      expect(blob.status).toBe(200);
      expect((await blob.arrayBuffer()).byteLength).toBe(ens.files[1].blob.size);
      expect(data.priors.nodes).toEqual([{ id: ids.prior, imageSize: 8, channels: 1 }]);
      expect(data.neuron.encoders.map((e: { name: string }) => e.name)).toEqual(['tiny-ensemble', 'tiny-encoder', 'compact s1']);
      expect(data.datasets.nodes).toEqual([{ name: 'noise', imageCount: 6, kind: 'IMAGES' }]);
      // an encoder's neurons, in output-column order, a page at a time
      const page = 'query($id: ID!, $after: String) { encoder(id: $id) { neurons(first: 2, after: $after) { totalCount nodes { index } pageInfo { endCursor hasNextPage } } } }';
      const first = (await t.ok(page, { id: ids.ensemble })).encoder.neurons;
      expect(first).toMatchObject({ totalCount: 3, nodes: [{ index: 0 }, { index: 1 }], pageInfo: { hasNextPage: true } });
      const second = (await t.ok(page, { id: ids.ensemble, after: first.pageInfo.endCursor })).encoder.neurons;
      expect(second).toMatchObject({ nodes: [{ index: 2 }], pageInfo: { hasNextPage: false } });
    });

    it('starts a batch of runs and streams every step of every run in order', async () => {
      const steps = 4;
      const input = { generator: ids.ensemble, methods: ['GA', 'EGG'], neurons: [{ session: 's1', index: 1 }, { session: 's1', index: 2 }], seeds: [0, 1], settings: { steps } };
      const { startRuns } = await t.ok(START, { input });
      expect(startRuns.runCount).toBe(8);
      const runs = startRuns.runs.nodes as { id: string; method: string }[];
      expect(runs.map((r) => r.method)).toEqual(['GA', 'GA', 'GA', 'GA', 'EGG', 'EGG', 'EGG', 'EGG']);
      const statuses: { runId: string; status: string }[] = [];
      const statusStream = t.ws.iterate({ query: `subscription($b: ID!) { runStatusChanged(batch: $b) { runId status run { id status } } }`, variables: { b: startRuns.id } });
      const statusDone = (async () => {
        for await (const e of statusStream) {
          statuses.push((e.data as { runStatusChanged: { runId: string; status: string } }).runStatusChanged);
          if (statuses.filter((s) => s.status === 'SUCCEEDED').length === runs.length) break;
        }
      })();
      // one subscription per run; each replays what it missed and ends with its run
      const streams = await Promise.all(runs.map((r) => t.collect<{ runProgress: Record<string, any> }>(PROGRESS, { run: r.id })));
      for (const [i, events] of streams.entries()) {
        expect(events.map((e) => e.runProgress.step)).toEqual([1, 2, 3, 4]);
        expect(events.every((e) => e.runProgress.runId === runs[i].id && e.runProgress.steps === steps && e.runProgress.attempt === 1)).toBe(true);
        expect(events.every((e) => Number.isFinite(e.runProgress.energy) && Number.isFinite(e.runProgress.activation))).toBe(true);
        const last = events.at(-1)!.runProgress;
        expect(last.preview.dataUrl).toMatch(/^data:image\/png;base64,/);
        expect(last.preview.width).toBeLessThanOrEqual(32);
        if (runs[i].method === 'EGG') expect(events.map((e) => e.runProgress.timestep)).toEqual([...events.map((e) => e.runProgress.timestep)].sort((a, b) => b - a));
      }
      await statusDone;
      expect(statuses.filter((s) => s.status === 'SUCCEEDED').map((s) => s.runId).sort()).toEqual(runs.map((r) => r.id).sort());

      const { images } = await t.ok(
        `query($b: ID!) { images(filter: { batch: $b }, first: 50) { totalCount nodes {
          kind method seed index width height channels space activation energy neuron { index }
          png { url mediaType } array { url } run { id status seconds device worker attempts trajectory { energy { url } activation { url } } }
          scores { value generator evaluator { id kind } } } } }`,
        { b: startRuns.id },
      );
      expect(images.totalCount).toBe(8);
      for (const image of images.nodes) {
        expect(image.kind).toBe('MEI');
        expect(image.run).toMatchObject({ status: 'SUCCEEDED', device: 'cpu', attempts: 1 });
        expect(image.run.seconds).toBeGreaterThan(0);
        expect(image.run.worker).toMatch(/:\d+$/);
        // every method's image is the stimulus at the generator's 12x12 input (EGG ran in the prior's 8x8)
        expect([image.space, image.width, image.height]).toEqual(['PIXELS', 12, 12]);
        // the generator, the other encoder and the compact model all predict s1's neurons 1 and 2
        expect(image.scores.map((s: { evaluator: { id: string } }) => s.evaluator.id).sort()).toEqual([ids.ensemble, ids.encoder, ids.compact].sort());
        expect(image.scores.find((s: { generator: boolean }) => s.generator).evaluator.id).toBe(ids.ensemble);
        expect(image.scores.every((s: { value: number }) => Number.isFinite(s.value))).toBe(true);
      }
      const png = await t.fetch(`${images.nodes[0].png.url}`);
      expect(png.headers.get('content-type')).toBe('image/png');
      expect([...new Uint8Array(await png.arrayBuffer()).subarray(0, 4)]).toEqual([0x89, 0x50, 0x4e, 0x47]);
      const array = decodeNpy(new Uint8Array(await (await t.fetch(`${images.nodes[0].array.url}`)).arrayBuffer()));
      expect(array.shape).toEqual([1, images.nodes[0].height, images.nodes[0].width]);
      const trace = decodeNpy(new Uint8Array(await (await t.fetch(`${images.nodes[0].run.trajectory.energy.url}`)).arrayBuffer()));
      expect(trace.shape).toEqual([steps]);
    });

    it('paginates runs and images with cursors', async () => {
      // a batch of its own: 2 methods x 2 neurons x 2 seeds
      const { startRuns } = await t.ok(START, { input: { generator: ids.ensemble, methods: ['GA', 'EGG'], neurons: [{ session: 's1', index: 1 }, { session: 's1', index: 2 }], seeds: [0, 1], settings: { steps: 2 } } });
      expect(await finished(startRuns.id)).toMatchObject({ succeeded: 8 });
      const seen: string[] = [];
      let after: string | null = null;
      for (let page = 0; page < 10; page++) {
        const { runs }: { runs: { totalCount: number; nodes: { id: string }[]; pageInfo: { endCursor: string; hasNextPage: boolean } } } = await t.ok(
          'query($after: String, $b: ID!) { runs(first: 3, after: $after, filter: { batch: $b, method: [GA, EGG] }) { totalCount nodes { id } pageInfo { endCursor hasNextPage } } }',
          { after, b: startRuns.id },
        );
        expect(runs.totalCount).toBe(8);
        seen.push(...runs.nodes.map((n) => n.id));
        if (!runs.pageInfo.hasNextPage) break;
        after = runs.pageInfo.endCursor;
      }
      expect(seen).toHaveLength(8);
      expect(new Set(seen).size).toBe(8);
      const egg = await t.ok('query($b: ID!) { images(first: 2, filter: { batch: $b, method: [EGG], neuron: { session: "s1", index: 2 } }) { totalCount nodes { method neuron { index } } pageInfo { hasNextPage } } }', { b: startRuns.id });
      expect(egg.images).toMatchObject({ totalCount: 2, pageInfo: { hasNextPage: false } });
      expect(egg.images.nodes.every((n: { method: string; neuron: { index: number } }) => n.method === 'EGG' && n.neuron.index === 2)).toBe(true);
      const bad = await t.gql('{ runs(after: "not-a-cursor") { totalCount } }');
      expect(bad.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
      const tooMany = await t.gql('{ runs(first: 100000) { totalCount } }');
      expect(tooMany.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    });

    it('lists batches, runs, images and comparisons newest first unless told otherwise, pages both ways, and counts them', async () => {
      const OVERVIEW = '{ overview { runs { queued running succeeded failed cancelled } batches comparisons encoders priors datasets } }';
      const before = (await t.ok(OVERVIEW)).overview;
      const input = { generator: ids.encoder, methods: ['GA'], neurons: [{ session: 's1', index: 1 }, { session: 's1', index: 2 }], seeds: [0, 1, 2], settings: { steps: 2 } };
      const a = (await t.ok(START, { input })).startRuns;
      const b = (await t.ok(START, { input })).startRuns;
      const COMPARE = 'mutation($input: StartComparisonInput!) { startComparison(input: $input) { id batch { id } } }';
      const compare = { generators: [ids.encoder], methods: ['GA'], neurons: [{ session: 's1', index: 1 }], settings: { steps: 2 } };
      const c1 = (await t.ok(COMPARE, { input: { ...compare, name: 'first' } })).startComparison;
      const c2 = (await t.ok(COMPARE, { input: { ...compare, name: 'second' } })).startComparison;
      for (const batch of [a.id, b.id, c1.batch.id, c2.batch.id]) expect(await finished(batch)).toMatchObject({ succeeded: expect.any(Number), failed: 0 });

      /** Every node of a list, a page of `first` at a time, in `order` (none: the list's default). */
      async function walk(field: string, order: string | null, first: number, args = '') {
        const ids: string[] = [];
        let after: string | null = null;
        const totals = new Set<number>();
        for (let page = 0; page < 100; page++) {
          const orderArg = order ? `order: ${order}, ` : '';
          const data: any = await t.ok(`query($after: String) { ${field}(${orderArg}${args}first: ${first}, after: $after) { totalCount nodes { id } pageInfo { endCursor hasNextPage } } }`, { after });
          const connection = data[field];
          expect(connection.nodes.length).toBeLessThanOrEqual(first);
          totals.add(connection.totalCount);
          ids.push(...connection.nodes.map((n: { id: string }) => n.id));
          if (!connection.pageInfo.hasNextPage) break;
          after = connection.pageInfo.endCursor;
        }
        expect(totals.size).toBe(1);
        expect(new Set(ids).size).toBe(ids.length);
        expect(ids).toHaveLength([...totals][0]);
        return ids;
      }

      // batches: the newest first (the comparisons' batches are the newest), a page of one at a time
      const batchesNewest = await walk('batches', null, 1);
      expect(batchesNewest.slice(0, 4)).toEqual([c2.batch.id, c1.batch.id, b.id, a.id]);
      expect(await walk('batches', 'NEWEST_FIRST', 3)).toEqual(batchesNewest);
      expect(await walk('batches', 'OLDEST_FIRST', 3)).toEqual([...batchesNewest].reverse());

      // runs: newest first across pages of 5; a batch's runs (Batch.runs) stay in the order they were queued
      const batchRuns = (id: string) => t.ok('query($id: ID!) { batch(id: $id) { runs(first: 50) { nodes { id } } } }', { id }).then((d) => d.batch.runs.nodes.map((n: { id: string }) => n.id) as string[]);
      const [runsA, runsB, runsC1, runsC2] = await Promise.all([a.id, b.id, c1.batch.id, c2.batch.id].map(batchRuns));
      expect(runsA).toEqual(a.runs.nodes.map((r: { id: string }) => r.id));
      const newestOfA = await t.ok('query($id: ID!) { batch(id: $id) { runs(order: NEWEST_FIRST, first: 4) { nodes { id } } } }', { id: a.id });
      expect(newestOfA.batch.runs.nodes.map((n: { id: string }) => n.id)).toEqual([...runsA].reverse().slice(0, 4));
      const runsNewest = await walk('runs', null, 5);
      expect(runsNewest.slice(0, 14)).toEqual([...runsC2, ...runsC1, ...[...runsB].reverse(), ...[...runsA].reverse()]);
      expect(await walk('runs', 'OLDEST_FIRST', 5)).toEqual([...runsNewest].reverse());
      // a filter and an order together
      expect(await walk('runs', 'NEWEST_FIRST', 4, `filter: { batch: "${b.id}" }, `)).toEqual([...runsB].reverse());
      expect(await walk('runs', 'OLDEST_FIRST', 4, `filter: { batch: "${b.id}" }, `)).toEqual(runsB);

      // images of batch b: 6, newest first across pages of 4, the reverse of oldest first
      const imagesNewest = await walk('images', null, 4, `filter: { batch: "${b.id}" }, `);
      expect(imagesNewest).toHaveLength(6);
      expect(await walk('images', 'OLDEST_FIRST', 4, `filter: { batch: "${b.id}" }, `)).toEqual([...imagesNewest].reverse());

      // comparisons
      const comparisonsNewest = await walk('comparisons', null, 1);
      expect(comparisonsNewest.slice(0, 2)).toEqual([c2.id, c1.id]);
      expect(await walk('comparisons', 'OLDEST_FIRST', 1)).toEqual([...comparisonsNewest].reverse());

      // the counts: what the lists' totals say, in one query
      const { overview } = await t.ok(OVERVIEW);
      expect(overview).toMatchObject({ encoders: 3, priors: 1, datasets: 1, batches: before.batches + 4, comparisons: before.comparisons + 2 });
      expect(overview.runs).toEqual({ ...before.runs, succeeded: before.runs.succeeded + 14 });
      const totals = await t.ok(`{
        batches(first: 0) { totalCount } comparisons(first: 0) { totalCount } runs(first: 0) { totalCount }
        succeeded: runs(first: 0, filter: { status: [SUCCEEDED] }) { totalCount } encoders(first: 0) { totalCount } priors(first: 0) { totalCount } datasets(first: 0) { totalCount } }`);
      expect(overview).toMatchObject({ batches: totals.batches.totalCount, comparisons: totals.comparisons.totalCount, encoders: totals.encoders.totalCount, priors: totals.priors.totalCount, datasets: totals.datasets.totalCount });
      expect(overview.runs.succeeded).toBe(totals.succeeded.totalCount);
      expect(Object.values(overview.runs as Record<string, number>).reduce((x, y) => x + y, 0)).toBe(totals.runs.totalCount);
    });

    it('cancels a running run: its stream ends, it stores nothing', async () => {
      const { startRuns } = await t.ok(START, { input: { generator: ids.encoder, methods: ['GA'], neurons: [{ session: 's1', index: 1 }], settings: { steps: 5000 } } });
      const run = startRuns.runs.nodes[0].id;
      let cancelled: Promise<unknown> | undefined;
      const events = await t.collect<{ runProgress: { step: number } }>(PROGRESS, { run }, (e) => {
        if (e.runProgress.step === 3) cancelled = t.ok('mutation($id: ID!) { cancelRun(id: $id) { id status } }', { id: run });
      });
      expect(await cancelled).toEqual({ cancelRun: { id: run, status: 'CANCELLED' } });
      expect(events.length).toBeGreaterThanOrEqual(3);
      expect(events.length).toBeLessThan(5000);
      const after = await t.ok(`query($id: ID!) { run(id: $id) { status images { id } finishedAt } }`, { id: run });
      expect(after.run).toMatchObject({ status: 'CANCELLED', images: [] });
      // cancelling again changes nothing
      expect(await t.ok('mutation($id: ID!) { cancelRun(id: $id) { status } }', { id: run })).toEqual({ cancelRun: { status: 'CANCELLED' } });

      // a whole batch, its runs still queued or running
      const queued = await t.ok(START, { input: { generator: ids.encoder, methods: ['GA'], neurons: [{ session: 's1', index: 1 }, { session: 's1', index: 2 }], seeds: [5, 6], settings: { steps: 5000 } } });
      const cancelledBatch = await t.ok(`mutation($id: ID!) { cancelBatch(id: $id) { done counts { cancelled } } }`, { id: queued.startRuns.id });
      expect(cancelledBatch.cancelBatch).toEqual({ done: true, counts: { cancelled: 4 } });
      expect(await t.count(`images WHERE run_id IN (SELECT id FROM runs WHERE batch_id = '${queued.startRuns.id}')`)).toBe(0);
    });

    it('runs every other method, and tabulates a comparison of generators x evaluators x methods', async () => {
      const neurons = [{ session: 's1', index: 1 }, { session: 's1', index: 2 }];
      const others = await t.ok(START, { input: { generator: ids.ensemble, methods: ['EGG_X0', 'MENI', 'TOP_K'], neurons, dataset: ids.dataset, settings: { steps: 3, k: 3 } } });
      const diverse = await t.ok(START, { input: { generator: ids.ensemble, methods: ['DIVERSE'], neurons: [neurons[0]], settings: { steps: 3, setSize: 2 } } });
      const recon = await t.ok(START, { input: { generator: ids.ensemble, methods: ['RECONSTRUCTION'], targetImages: [0, 4], dataset: ids.dataset, settings: { steps: 3 } } });
      const { startComparison } = await t.ok(
        `mutation($input: StartComparisonInput!) { startComparison(input: $input) { id batch { id runCount } generators { id } evaluators { id } } }`,
        { input: { name: 'transfer', generators: [ids.ensemble, ids.encoder], methods: ['GA', 'EGG_X0'], neurons, settings: { steps: 3 } } },
      );
      expect(startComparison.batch.runCount).toBe(8);
      expect(startComparison.evaluators.map((e: { id: string }) => e.id)).toEqual([ids.ensemble, ids.encoder, ids.compact]);
      for (const batch of [others.startRuns.id, diverse.startRuns.id, recon.startRuns.id, startComparison.batch.id]) expect(await finished(batch)).toMatchObject({ succeeded: expect.any(Number), failed: 0 });

      const { runs } = await t.ok(`query($b: ID!) { runs(filter: { batch: $b }) { nodes { method status images { kind index seed sourceIndex space } } } }`, { b: others.startRuns.id });
      const byMethod = (m: string) => runs.nodes.filter((r: { method: string }) => r.method === m);
      expect(byMethod('TOP_K').map((r: { images: unknown[] }) => r.images.length)).toEqual([3, 3]);
      expect(byMethod('TOP_K')[0].images.every((i: { kind: string; space: string }) => i.kind === 'NATURAL' && i.space === 'PIXELS')).toBe(true);
      const set = await t.ok(`query($b: ID!) { runs(filter: { batch: $b }) { nodes { images { kind seed } trajectory { activation { url } } } } }`, { b: diverse.startRuns.id });
      expect(set.runs.nodes[0].images).toEqual([{ kind: 'DIVERSE', seed: 0 }, { kind: 'DIVERSE', seed: 1 }]);
      // a set's trajectory has one column per image
      const trace = decodeNpy(new Uint8Array(await (await t.fetch(`${set.runs.nodes[0].trajectory.activation.url}`)).arrayBuffer()));
      expect(trace.shape).toEqual([3, 2]);
      expect(byMethod('MENI')[0].images[0].kind).toBe('MENI');
      const reconRuns = await t.ok(`query($b: ID!) { runs(filter: { batch: $b }, order: OLDEST_FIRST) { nodes { neuron { index } images { kind sourceIndex scores { value } } } } }`, { b: recon.startRuns.id });
      expect(reconRuns.runs.nodes.map((r: { images: { sourceIndex: number }[] }) => r.images[0].sourceIndex)).toEqual([0, 4]);
      expect(reconRuns.runs.nodes[0]).toMatchObject({ neuron: null, images: [{ kind: 'RECONSTRUCTION', scores: [] }] });

      const { comparison } = await t.ok(`query($id: ID!) { comparison(id: $id) { name methods cells { generator { id } evaluator { id } method mean median count } } }`, { id: startComparison.id });
      expect(comparison.methods).toEqual(['GA', 'EGG_X0']);
      expect(comparison.cells).toHaveLength(2 * 3 * 2);
      // each cell: the 2 neurons' images (one seed) scored by that evaluator
      expect(comparison.cells.every((c: { count: number; mean: number }) => c.count === 2 && Number.isFinite(c.mean))).toBe(true);
    });

    it('refuses bad input with stable codes and leaves no partial rows', async () => {
      const tables = ['batches', 'runs', 'images', 'scores', 'models', 'model_files', 'blobs', 'neurons', 'datasets', 'comparisons', 'pgboss.job'];
      const counts = async () => Object.fromEntries(await Promise.all(tables.map(async (table) => [table, await t.count(table)])));
      const before = await counts();
      const neurons = [{ session: 's1', index: 1 }];

      // malformed variables: caught before any resolver runs
      const malformed = await t.gql(START, { input: { generator: ids.ensemble, methods: ['GA'], neurons, seeds: ['zero'] } });
      expect(malformed.status).toBe(400);
      expect(malformed.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
      const unknownMethod = await t.gql(START, { input: { generator: ids.ensemble, methods: ['GRADIENT'], neurons } });
      expect(unknownMethod.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');

      const unknownNeuron = await t.gql(START, { input: { generator: ids.ensemble, methods: ['GA', 'EGG'], neurons: [{ session: 's1', index: 1 }, { session: 's1', index: 99 }] } });
      expect(unknownNeuron.errors?.[0]).toMatchObject({ extensions: { code: 'UNKNOWN_NEURON', neurons: [{ session: 's1', index: 99 }] } });
      expect(unknownNeuron.errors?.[0].message).toMatch(/tiny-ensemble does not predict neuron s1:99/);

      const oversized = await t.gql(START, { input: { generator: ids.ensemble, methods: ['GA'], neurons: [{ session: 's1', index: 1 }, { session: 's1', index: 2 }], seeds: Array.from({ length: 21 }, (_, i) => i) } });
      expect(oversized.errors?.[0]).toMatchObject({ extensions: { code: 'BATCH_TOO_LARGE', runs: 42, limit: 40 } });

      const badSteps = await t.gql(START, { input: { generator: ids.ensemble, methods: ['EGG'], neurons, settings: { steps: 1 } } });
      expect(badSteps.errors?.[0].extensions?.code).toBe('INVALID_SETTINGS');
      const unusedSetting = await t.gql(START, { input: { generator: ids.ensemble, methods: ['GA'], neurons, settings: { k: 3 } } });
      expect(unusedSetting.errors?.[0]).toMatchObject({ extensions: { code: 'INVALID_SETTINGS', setting: 'k' } });
      const noDataset = await t.gql(START, { input: { generator: ids.ensemble, methods: ['TOP_K'], neurons } });
      expect(noDataset.errors?.[0].extensions?.code).toBe('DATASET_REQUIRED');
      const priorAsGenerator = await t.gql(START, { input: { generator: ids.prior, methods: ['GA'], neurons } });
      expect(priorAsGenerator.errors?.[0].extensions?.code).toBe('WRONG_MODEL_KIND');
      const missing = await t.gql(START, { input: { generator: '00000000-0000-0000-0000-000000000000', methods: ['GA'], neurons } });
      expect(missing.errors?.[0].extensions?.code).toBe('NOT_FOUND');
      expect((await t.gql('mutation { cancelRun(id: "nope") { id } }')).errors?.[0].extensions?.code).toBe('NOT_FOUND');

      // corrupt uploads: a truncated weights file, a misshapen tensor, junk, too large
      const files = await folderFiles(join(folders, 'tiny-encoder'));
      const weights = files.find((f) => f.path === 'weights.safetensors')!;
      const truncated = await t.upload('/upload/model', files.map((f) => (f === weights ? { ...f, bytes: f.bytes.subarray(0, f.bytes.length - 100) } : f)));
      expect(truncated.status).toBe(400);
      expect(truncated.body.error.code).toBe('INVALID_UPLOAD');
      expect(truncated.body.error.message).toMatch(/^weights\.safetensors: /);
      const json = JSON.parse(new TextDecoder().decode(files.find((f) => f.path === 'model.json')!.bytes));
      json.sessions[0].neurons = [0, 1, 2, 3];
      const misshapen = await t.upload('/upload/model', files.map((f) => (f.path === 'model.json' ? { ...f, bytes: new TextEncoder().encode(JSON.stringify(json)) } : f)));
      expect(misshapen.body.error).toMatchObject({ code: 'INVALID_UPLOAD', message: expect.stringMatching(/has shape \[.*\], the model expects/) });
      const junk = await t.upload('/upload/model', [{ path: 'notes.txt', bytes: new Uint8Array([1, 2, 3]) }]);
      expect(junk.body.error.code).toBe('INVALID_UPLOAD');
      const escape = await t.upload('/upload/model', [{ path: '../model.json', bytes: new Uint8Array([1]) }]);
      expect(escape.body.error).toMatchObject({ code: 'INVALID_UPLOAD', message: expect.stringMatching(/not a relative path/) });
      const tooLarge = await t.upload('/upload/model', [{ path: 'weights.safetensors', bytes: new Uint8Array(5 << 20) }]);
      expect(tooLarge).toMatchObject({ status: 413, body: { error: { code: 'UPLOAD_TOO_LARGE' } } });
      const badImage = await t.upload('/upload/dataset', [{ path: 'img0.png', bytes: new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]) }]);
      expect(badImage.body.error).toMatchObject({ code: 'INVALID_UPLOAD', message: expect.stringMatching(/cannot decode/) });

      expect(await counts()).toEqual(before);

      // a subscription to a run that does not exist
      await expect(t.collect(PROGRESS, { run: '00000000-0000-0000-0000-000000000000' })).rejects.toMatchObject({ errors: [{ extensions: { code: 'NOT_FOUND' } }] });
    });
  });
}
