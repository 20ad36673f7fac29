/**
 * Trainings end to end, the same for PGlite (training.test.ts) and PostgreSQL
 * (training.postgres.test.ts): tiny synthetic recordings (written by the test, so it always runs)
 * uploaded as datasets, an ENCODER training streamed batch by batch over graphql-ws, the model it
 * registers used as a GA generator, READOUT on its frozen core, a cancel, and the refusals of bad
 * input with nothing written. The demo preset on 40 images and a few epochs keeps it to seconds.
 */
import { join } from 'node:path';
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSyntheticSession } from '@excite/engine/testing';
import { writeImages, writeTinyPrior } from './testing/fixtures.ts';
import { type Backend, type TestService, folderFiles, startTestService, tempDir } from './testing/harness.ts';

const START = `mutation($input: StartTrainingInput!) { startTraining(input: $input) { id name kind status attempts recipe { architecture preset members seed maxEpochs batchSize lr validationFraction } datasets { name } } }`;
const EVENTS = `subscription($id: ID!) { trainingProgress(training: $id) { trainingId kind attempt member epoch batch batches loss valLoss valCorrelation lr status error { code } } }`;
const TRAINING = `query($id: ID!) { training(id: $id) {
  id status kind attempts attempt member members epoch maxEpochs step steps bestValLoss lastValLoss bestValCorrelation lastValCorrelation
  elapsedSeconds remainingSeconds worker device error { code message } createdAt startedAt finishedAt updatedAt
  model { id name kind source sessions neuronCount readout members training metrics }
  history { member epoch trainLoss valLoss valCorrelation lr improved action seconds }
  datasets { id name } core { id } } }`;

export interface TrainingEvent {
  trainingId: string;
  kind: 'BATCH' | 'EPOCH' | 'STATUS';
  attempt: number;
  member: number;
  epoch: number;
  batch: number | null;
  batches: number | null;
  loss: number | null;
  valLoss: number | null;
  valCorrelation: number | null;
  lr: number | null;
  status: string;
  error: { code: string } | null;
}

/** Batch and epoch events of one attempt, in the order a training makes them: 1..n batches, then the epoch. */
export function expectOrdered(events: readonly TrainingEvent[], members: number, epochs: number): void {
  const progress = events.filter((e) => e.kind !== 'STATUS');
  let i = 0;
  for (let member = 0; member < members; member++) {
    for (let epoch = 1; epoch <= epochs; epoch++) {
      const batches = progress[i].batches!;
      expect(batches).toBeGreaterThan(0);
      for (let b = 1; b <= batches; b++, i++) {
        expect(progress[i]).toMatchObject({ kind: 'BATCH', member, epoch, batch: b, batches });
        expect(Number.isFinite(progress[i].loss)).toBe(true);
      }
      expect(progress[i]).toMatchObject({ kind: 'EPOCH', member, epoch });
      expect(Number.isFinite(progress[i].valLoss) && Number.isFinite(progress[i].valCorrelation) && progress[i].lr! > 0).toBe(true);
      i++;
    }
  }
  expect(i).toBe(progress.length);
}

export function trainingSuite(backend: Backend): void {
  describe(`trainings on ${backend}`, () => {
    let t: TestService;
    let folders: string;
    const ids: Record<'labA' | 'labB' | 'small' | 'images', string> = { labA: '', labB: '', small: '', images: '' };
    let encoderId = '';
    let priorId = '';

    const start = (input: Record<string, unknown>) => t.gql<{ startTraining: { id: string } }>(START, { input });

    beforeAll(async () => {
      folders = await tempDir('training');
      await Promise.all([
        writeSyntheticSession(join(folders, 'lab-a'), { images: 40, neurons: 4, seed: 1, size: 32 }),
        writeSyntheticSession(join(folders, 'lab-b'), { images: 30, neurons: 3, seed: 2, size: 32 }),
        writeSyntheticSession(join(folders, 'small'), { images: 20, neurons: 3, seed: 3, size: 24 }),
        writeImages(join(folders, 'images')),
        writeTinyPrior(join(folders, 'prior')),
      ]);
      t = await startTestService(backend, { demoModels: false });
      for (const [key, dir, name] of [['labA', 'lab-a', 'lab-a'], ['labB', 'lab-b', 'lab-b'], ['small', 'small', 'small'], ['images', 'images', 'noise']] as const) {
        const up = await t.upload('/upload/dataset', await folderFiles(join(folders, dir)), { name });
        expect(up.status).toBe(201);
        ids[key] = up.body.dataset.id;
      }
      priorId = (await t.upload('/upload/model', await folderFiles(join(folders, 'prior'), 'prior'))).body.model.id;
    });

    afterAll(async () => {
      await t?.stop();
      await rm(folders, { recursive: true, force: true });
    });

    it('refuses bad input with its code and writes nothing', async () => {
      const before = { trainings: await t.count('trainings'), jobs: await t.count('pgboss.job') };
      const encoder = await t.ok<{ encoders: { nodes: { id: string }[] } }>('{ encoders { nodes { id } } }');
      expect(encoder.encoders.nodes).toEqual([]);
      const cases: [Record<string, unknown>, string][] = [
        [{ kind: 'ENCODER', datasets: [] }, 'BAD_USER_INPUT'],
        [{ kind: 'ENCODER', datasets: ['3f2b8a4e-0000-4000-8000-000000000000'] }, 'NOT_FOUND'],
        [{ kind: 'ENCODER', datasets: ['not-an-id'] }, 'NOT_FOUND'],
        [{ kind: 'ENCODER', datasets: [ids.labA, ids.labA] }, 'BAD_USER_INPUT'],
        [{ kind: 'ENCODER', datasets: [ids.images] }, 'DATASET_WITHOUT_RESPONSES'],
        [{ kind: 'ENCODER', datasets: [ids.labA, ids.small] }, 'IMAGE_SIZE_MISMATCH'],
        [{ kind: 'READOUT', datasets: [ids.labB] }, 'CORE_REQUIRED'],
        [{ kind: 'READOUT', datasets: [ids.labB], core: priorId }, 'WRONG_MODEL_KIND'],
        [{ kind: 'READOUT', datasets: [ids.labB], core: ids.labA }, 'NOT_FOUND'],
        [{ kind: 'ENCODER', datasets: [ids.labB], core: priorId }, 'INVALID_SETTINGS'],
        [{ kind: 'PRIOR', datasets: [ids.images] }, 'NOT_YET_SUPPORTED'],
        [{ kind: 'ENCODER', datasets: [ids.labA], maxEpochs: 0 }, 'INVALID_SETTINGS'],
        [{ kind: 'ENCODER', datasets: [ids.labA], maxEpochs: 1001 }, 'INVALID_SETTINGS'],
        [{ kind: 'ENCODER', datasets: [ids.labA], members: 9 }, 'INVALID_SETTINGS'],
        [{ kind: 'ENCODER', datasets: [ids.labA], settings: { lr: 0 } }, 'INVALID_SETTINGS'],
        [{ kind: 'ENCODER', datasets: [ids.labA], settings: { batchSize: 513 } }, 'INVALID_SETTINGS'],
        [{ kind: 'ENCODER', datasets: [ids.labA], settings: { decayFactor: 1 } }, 'INVALID_SETTINGS'],
        [{ kind: 'ENCODER', datasets: [ids.labA], images: { validationFraction: 0.9 } }, 'INVALID_SETTINGS'],
        [{ kind: 'ENCODER', datasets: [ids.labA], images: { range: '10:5' } }, 'INVALID_SETTINGS'],
        [{ kind: 'ENCODER', datasets: [ids.labA], images: { range: '0:41' } }, 'INVALID_SETTINGS'],
        [{ kind: 'ENCODER', datasets: [ids.labA], preset: 'huge' }, 'INVALID_SETTINGS'],
        [{ kind: 'ENCODER', datasets: [ids.labA], seed: -1 }, 'BAD_USER_INPUT'],
      ];
      for (const [input, code] of cases) {
        const r = await start(input);
        expect(r.errors?.[0]?.extensions?.code, JSON.stringify(input)).toBe(code);
      }
      expect({ trainings: await t.count('trainings'), jobs: await t.count('pgboss.job') }).toEqual(before);

      // the ranges enforced are the ones a form reads
      const { trainingOptions } = await t.ok('{ trainingOptions { kinds architectures defaultPreset maxDatasets presets { name inputHeight channels } settings { name integer default min minExclusive max maxExclusive } } }');
      expect(trainingOptions).toMatchObject({ kinds: ['ENCODER', 'READOUT'], architectures: ['ATTENTION', 'GAUSSIAN'], defaultPreset: 'demo', maxDatasets: 32 });
      expect(trainingOptions.presets.map((p: { name: string }) => p.name).sort()).toEqual(['demo', 'demo-alt', 'paper']);
      const setting = (name: string) => trainingOptions.settings.find((x: { name: string }) => x.name === name);
      expect(setting('maxEpochs')).toEqual({ name: 'maxEpochs', integer: true, default: 200, min: 1, minExclusive: false, max: 1000, maxExclusive: false });
      expect(setting('decayFactor')).toMatchObject({ min: 0, minExclusive: true, max: 1, maxExclusive: true, default: 0.3 });
      expect(setting('lr')).toMatchObject({ minExclusive: true, max: 0.1, default: 0.003 });
      expect(trainingOptions.settings.map((x: { name: string }) => x.name).sort()).toEqual(['batchSize', 'decayFactor', 'lr', 'maxDecays', 'maxEpochs', 'members', 'minLr', 'patience', 'seed', 'validationFraction']);
    });

    it('trains an encoder, streams every batch and epoch in order, registers the model and generates with it', async () => {
      const { startTraining } = await t.ok(START, { input: { kind: 'ENCODER', datasets: [ids.labA], architecture: 'ATTENTION', preset: 'demo', maxEpochs: 2, seed: 3, settings: { batchSize: 16 }, name: 'lab-a twin' } });
      expect(startTraining).toMatchObject({ name: 'lab-a twin', kind: 'ENCODER', status: 'QUEUED', attempts: 0, recipe: { architecture: 'ATTENTION', preset: 'demo', members: 1, seed: 3, maxEpochs: 2, batchSize: 16, lr: 0.003, validationFraction: 0.1 }, datasets: [{ name: 'lab-a' }] });
      const events = (await t.collect<{ trainingProgress: TrainingEvent }>(EVENTS, { id: startTraining.id })).map((e) => e.trainingProgress);
      expect(events.at(-1)).toMatchObject({ kind: 'STATUS', status: 'SUCCEEDED' });
      expect(events.every((e) => e.trainingId === startTraining.id && (e.kind === 'STATUS' || e.attempt === 1))).toBe(true);
      // 36 training images in batches of 16: 3 batches an epoch
      expectOrdered(events, 1, 2);
      expect(events.find((e) => e.kind === 'BATCH')!.batches).toBe(3);

      const { training } = await t.ok(TRAINING, { id: startTraining.id });
      expect(training).toMatchObject({ status: 'SUCCEEDED', attempts: 1, attempt: 1, member: 0, members: 1, epoch: 2, maxEpochs: 2, steps: 3, error: null, remainingSeconds: null, datasets: [{ name: 'lab-a' }], core: null });
      expect(training.history.map((h: { epoch: number }) => h.epoch)).toEqual([1, 2]);
      expect(training.lastValLoss).toBe(training.history[1].valLoss);
      expect(training.bestValLoss).toBe(Math.min(...training.history.map((h: { valLoss: number }) => h.valLoss)));
      expect(training.elapsedSeconds).toBeGreaterThan(0);
      expect(training.worker).toMatch(/:\d+$/);
      expect(training.model).toMatchObject({ name: 'lab-a twin', kind: 'ENCODER', source: 'TRAINED', sessions: ['lab-a'], neuronCount: 4, readout: 'attention', members: 1 });
      // provenance: datasets, recipe, seed, code version; metrics: validation r
      expect(training.model.training).toMatchObject({ seed: 3, epochs: 2, data: ['lab-a'], service: { training: startTraining.id, kind: 'encoder', datasets: [{ id: ids.labA, name: 'lab-a' }], recipe: { seed: 3, maxEpochs: 2 } } });
      expect(training.model.training.service.code).toMatch(/^0\.1\.0/);
      expect(training.model.metrics.validation['lab-a'].neurons).toBe(4);
      encoderId = training.model.id;

      // the listing and its filter
      const list = await t.ok(`{ trainings(filter: { status: [SUCCEEDED], kind: [ENCODER] }) { totalCount nodes { id model { id } } } }`);
      expect(list.trainings).toMatchObject({ totalCount: 1, nodes: [{ id: startTraining.id, model: { id: encoderId } }] });

      // a late subscriber gets what it missed and the end
      const late = (await t.collect<{ trainingProgress: TrainingEvent }>(EVENTS, { id: startTraining.id })).map((e) => e.trainingProgress);
      expectOrdered(late, 1, 2);
      expect(late.at(-1)).toMatchObject({ kind: 'STATUS', status: 'SUCCEEDED' });

      // the neurons are {session: dataset name, index}: a GA run with the trained model
      const { startRuns } = await t.ok(`mutation($input: StartRunsInput!) { startRuns(input: $input) { id runs { nodes { id } } } }`, {
        input: { generator: encoderId, methods: ['GA'], neurons: [{ session: 'lab-a', index: 2 }], settings: { steps: 3 } },
      });
      for (;;) {
        const { batch } = await t.ok(`query($id: ID!) { batch(id: $id) { done counts { succeeded } runs { nodes { images { activation scores { generator value } } } } } }`, { id: startRuns.id });
        if (batch.done) {
          expect(batch.counts.succeeded).toBe(1);
          expect(batch.runs.nodes[0].images[0].scores[0]).toMatchObject({ generator: true });
          break;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    });

    it('fits readouts of another recording on the trained core; a core of the wrong kind is refused', async () => {
      expect(encoderId).not.toBe('');
      const refused = await start({ kind: 'READOUT', datasets: [ids.labB], core: encoderId, preset: 'demo' });
      expect(refused.errors?.[0]?.extensions?.code).toBe('INVALID_SETTINGS');
      const { startTraining } = await t.ok(START, { input: { kind: 'READOUT', datasets: [ids.labB], core: encoderId, maxEpochs: 1, settings: { batchSize: 16 } } });
      expect(startTraining).toMatchObject({ name: 'readout lab-b', recipe: { architecture: 'ATTENTION', preset: null, members: 1 } });
      const events = (await t.collect<{ trainingProgress: TrainingEvent }>(EVENTS, { id: startTraining.id })).map((e) => e.trainingProgress);
      expect(events.at(-1)).toMatchObject({ kind: 'STATUS', status: 'SUCCEEDED' });
      expectOrdered(events, 1, 1);
      const { training } = await t.ok(TRAINING, { id: startTraining.id });
      expect(training).toMatchObject({ status: 'SUCCEEDED', core: { id: encoderId }, model: { kind: 'ENCODER', source: 'TRAINED', sessions: ['lab-b'], neuronCount: 3 } });
      expect(training.model.training.service).toMatchObject({ kind: 'readout', core: encoderId });
    });

    it('trains an ensemble: members one after another, each with its seed, registered as one model', async () => {
      const { startTraining } = await t.ok(START, { input: { kind: 'ENCODER', datasets: [ids.labB], members: 2, maxEpochs: 1, seed: 7, settings: { batchSize: 16 } } });
      const events = (await t.collect<{ trainingProgress: TrainingEvent }>(EVENTS, { id: startTraining.id })).map((e) => e.trainingProgress);
      expect(events.at(-1)).toMatchObject({ kind: 'STATUS', status: 'SUCCEEDED' });
      expectOrdered(events, 2, 1);
      const { training } = await t.ok(TRAINING, { id: startTraining.id });
      expect(training).toMatchObject({ member: 1, members: 2, model: { kind: 'ENSEMBLE', members: 2, sessions: ['lab-b'], source: 'TRAINED' } });
      expect(training.history.map((h: { member: number; epoch: number }) => [h.member, h.epoch])).toEqual([[0, 1], [1, 1]]);
      expect(training.model.training).toMatchObject({ seeds: [7, 8], service: { training: startTraining.id, recipe: { members: 2, seed: 7 } } });
    });

    it('cancels a training: its stream ends CANCELLED and no model is registered', async () => {
      const models = await t.count('models');
      const { startTraining } = await t.ok(START, { input: { kind: 'ENCODER', datasets: [ids.labB], maxEpochs: 500, settings: { batchSize: 4, patience: 100 } } });
      const events: TrainingEvent[] = [];
      const done = t.collect<{ trainingProgress: TrainingEvent }>(EVENTS, { id: startTraining.id }, (e) => {
        events.push(e.trainingProgress);
        if (events.filter((x) => x.kind === 'BATCH').length === 2) void t.ok('mutation($id: ID!) { cancelTraining(id: $id) { id status } }', { id: startTraining.id });
      });
      const all = (await done).map((e) => e.trainingProgress);
      expect(all.at(-1)).toMatchObject({ kind: 'STATUS', status: 'CANCELLED' });
      const { training } = await t.ok(TRAINING, { id: startTraining.id });
      expect(training).toMatchObject({ status: 'CANCELLED', model: null });
      // its worker stops between batches and registers nothing
      await new Promise((r) => setTimeout(r, 500));
      expect(await t.count('models')).toBe(models);
      expect(await t.count('training_checkpoints')).toBe(0);
      const again = await t.ok('mutation($id: ID!) { cancelTraining(id: $id) { status } }', { id: startTraining.id });
      expect(again.cancelTraining.status).toBe('CANCELLED');
    });

    // last: it stops the service's worker
    it('lists trainings newest first unless told otherwise, a page at a time in either order', async () => {
      const all = (await t.ok('{ trainings(first: 100) { totalCount nodes { id createdAt } } }')).trainings;
      expect(all.totalCount).toBeGreaterThanOrEqual(3);
      const times = all.nodes.map((n: { createdAt: string }) => Date.parse(n.createdAt));
      expect(times).toEqual([...times].sort((a, b) => b - a));
      const oldest = (await t.ok('{ trainings(order: OLDEST_FIRST, first: 100) { nodes { id } } }')).trainings.nodes.map((n: { id: string }) => n.id);
      expect(oldest).toEqual(all.nodes.map((n: { id: string }) => n.id).reverse());
      // pages of one, newest first, walk the same list
      const walked: string[] = [];
      let after: string | null = null;
      do {
        const page: { nodes: { id: string }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } = (await t.ok('query($after: String) { trainings(first: 1, after: $after) { nodes { id } pageInfo { hasNextPage endCursor } } }', { after })).trainings;
        walked.push(...page.nodes.map((n) => n.id));
        after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
      } while (after);
      expect(walked).toEqual(all.nodes.map((n: { id: string }) => n.id));
      // datasets keep registration order unless asked for the newest (the dashboard's datasets page)
      const registered = (await t.ok('{ datasets(first: 100) { nodes { id } } }')).datasets.nodes.map((n: { id: string }) => n.id);
      expect(registered.length).toBeGreaterThanOrEqual(2);
      const newest = (await t.ok('{ datasets(order: NEWEST_FIRST, first: 100) { nodes { id } } }')).datasets.nodes.map((n: { id: string }) => n.id);
      expect(newest).toEqual([...registered].reverse());
    });

    it('runs go on beside a long training; a shutdown keeps its batches done in a checkpoint and hands it back to the queue', async () => {
      expect(encoderId).not.toBe('');
      const { startTraining } = await t.ok(START, { input: { kind: 'ENCODER', datasets: [ids.labB], maxEpochs: 500, settings: { batchSize: 4, patience: 100 } } });
      const batches: TrainingEvent[] = [];
      for await (const e of t.ws.iterate<{ trainingProgress: TrainingEvent }>({ query: EVENTS, variables: { id: startTraining.id } })) {
        if (e.data!.trainingProgress.kind === 'BATCH') batches.push(e.data!.trainingProgress);
        if (batches.length === 3) break;
      }
      // a run started now does not wait for the training: the worker computes it beside it
      const { startRuns } = await t.ok(`mutation($input: StartRunsInput!) { startRuns(input: $input) { id } }`, {
        input: { generator: encoderId, methods: ['GA'], neurons: [{ session: 'lab-a', index: 1 }], settings: { steps: 3 } },
      });
      for (;;) {
        const { batch } = await t.ok(`query($id: ID!) { batch(id: $id) { done counts { succeeded } } }`, { id: startRuns.id });
        if (batch.done) {
          expect(batch.counts.succeeded).toBe(1);
          break;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      expect((await t.ok(TRAINING, { id: startTraining.id })).training.status).toBe('RUNNING');
      // the worker shows the training it computes
      const { workers } = await t.ok('{ workers { embedded running training { id status } } }');
      expect(workers.find((w: { embedded: boolean }) => w.embedded)).toMatchObject({ training: { id: startTraining.id, status: 'RUNNING' } });
      await t.service.worker!.stop();
      const { training } = await t.ok(TRAINING, { id: startTraining.id });
      expect(training).toMatchObject({ status: 'QUEUED', attempts: 1 });
      const { rows } = await t.service.database.executeSql(`SELECT state FROM training_checkpoints WHERE training_id = '${startTraining.id}'`);
      const state = rows[0].state as { epoch: number; step: number };
      expect(state.epoch * 1000 + state.step).toBeGreaterThanOrEqual(3);
    });
  });
}
