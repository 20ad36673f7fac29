/**
 * Fuzzing startTraining with fast-check: generated inputs, most of them wrong in some way (kinds,
 * datasets, cores, settings at and beyond their ranges, values of the wrong type). The server
 * answers every one below 500; a refused call writes no row and no queue job, an accepted one
 * exactly one training and its job. No worker runs: accepted trainings only queue.
 */
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { writeSyntheticSession } from '@excite/engine/testing';
import { writeImages, writeTinyEncoder, writeTinyPrior } from './testing/fixtures.ts';
import { type TestService, folderFiles, startTestService, tempDir } from './testing/harness.ts';

// this suite's time limit: 300 generated calls against a real service: about 20 s
vi.setConfig({ testTimeout: 240_000, hookTimeout: 120_000 });

const TABLES = ['trainings', 'training_checkpoints', 'models', 'pgboss.job'];

describe('fuzzing startTraining', () => {
  let t: TestService;
  const ids: Record<string, string> = {};

  const counts = async () => {
    const { rows } = await t.service.database.executeSql(`SELECT ${TABLES.map((table, i) => `(SELECT count(*)::int FROM ${table}) AS t${i}`).join(', ')}`);
    return TABLES.map((_, i) => rows[0][`t${i}`] as number);
  };

  beforeAll(async () => {
    const folders = await tempDir('training-fuzz');
    await Promise.all([
      writeSyntheticSession(join(folders, 'rec-a'), { images: 12, neurons: 2, seed: 1, size: 16 }),
      writeSyntheticSession(join(folders, 'rec-b'), { images: 10, neurons: 2, seed: 2, size: 16 }),
      writeImages(join(folders, 'images'), 3),
      writeTinyEncoder(join(folders, 'enc')),
      writeTinyPrior(join(folders, 'prior')),
    ]);
    t = await startTestService('pglite', { worker: false, demoModels: false, limits: { rateLimitPerSecond: 0 } });
    ids.recA = (await t.upload('/upload/dataset', await folderFiles(join(folders, 'rec-a')), { name: 'rec-a' })).body.dataset.id;
    ids.recB = (await t.upload('/upload/dataset', await folderFiles(join(folders, 'rec-b')), { name: 'rec-b' })).body.dataset.id;
    ids.images = (await t.upload('/upload/dataset', await folderFiles(join(folders, 'images')), { name: 'images' })).body.dataset.id;
    ids.encoder = (await t.upload('/upload/model', await folderFiles(join(folders, 'enc')), { name: 'enc' })).body.model.id;
    ids.prior = (await t.upload('/upload/model', await folderFiles(join(folders, 'prior')), { name: 'prior' })).body.model.id;
  });
  afterAll(() => t?.stop());

  it('answers every generated input; refused ones write nothing, accepted ones one training and its job', async () => {
    const id = () => fc.oneof(...Object.values(ids).map((v) => fc.constant(v)), fc.uuid(), fc.string(), fc.constant(''));
    const number = fc.oneof(fc.integer({ min: -2, max: 600 }), fc.double(), fc.constantFrom(0, 0.05, 0.1, 0.5, 1, 8, 9, 1000, 1001, 2 ** 31, Number.MAX_SAFE_INTEGER), fc.string(), fc.constant(null));
    const input = fc.record(
      {
        kind: fc.oneof(fc.constantFrom('ENCODER', 'READOUT', 'PRIOR'), fc.string()),
        datasets: fc.array(id(), { maxLength: 3 }),
        architecture: fc.oneof(fc.constantFrom('ATTENTION', 'GAUSSIAN'), fc.string()),
        preset: fc.oneof(fc.constantFrom('demo', 'demo-alt', 'paper'), fc.string()),
        core: id(),
        images: fc.oneof(fc.record({ range: fc.oneof(fc.constantFrom('0:5', ':8', '3:', '5:3', '0:100'), fc.string()), validationFraction: number }, { requiredKeys: [] }), fc.anything()),
        members: number,
        seed: number,
        name: fc.oneof(fc.string(), fc.constant('   ')),
        maxEpochs: number,
        settings: fc.oneof(fc.record({ lr: number, batchSize: number, patience: number, decayFactor: number, maxDecays: number, minLr: number }, { requiredKeys: [] }), fc.anything()),
      },
      { requiredKeys: ['kind', 'datasets'] },
    );
    // close to valid: one or two settings at or beyond their ranges
    const maybe = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined, freq: 1 });
    const nearValid = fc.record(
      {
        kind: fc.constantFrom('ENCODER', 'READOUT'),
        datasets: fc.constantFrom([ids.recA], [ids.recB], [ids.recA, ids.recB], [ids.recA, ids.images]),
        core: maybe(fc.constantFrom(ids.encoder, ids.prior)),
        maxEpochs: maybe(fc.integer({ min: 0, max: 1001 })),
        members: maybe(fc.integer({ min: 0, max: 9 })),
        images: maybe(fc.record({ range: maybe(fc.constantFrom('0:5', ':8', '3:', '5:3', '0:11', '0:1')), validationFraction: maybe(fc.double({ min: 0, max: 0.6, noNaN: true })) })),
        settings: maybe(fc.record({ lr: maybe(fc.double({ min: 0, max: 0.2, noNaN: true })), batchSize: maybe(fc.integer({ min: 0, max: 600 })), decayFactor: maybe(fc.double({ min: 0, max: 1, noNaN: true })) })),
      },
      { requiredKeys: ['kind', 'datasets'] },
    );
    const statuses = new Map<number, number>();
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(fc.oneof({ weight: 5, arbitrary: input }, { weight: 4, arbitrary: nearValid }, { weight: 1, arbitrary: fc.anything() }), async (value) => {
        const before = await counts();
        const r = await t.gql<{ startTraining: { id: string } }>('mutation($input: StartTrainingInput!) { startTraining(input: $input) { id } }', { input: value });
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        expect(r.status).toBeLessThan(500);
        const after = await counts();
        if (r.errors?.length) {
          expect(r.errors[0].extensions?.code).toEqual(expect.any(String));
          expect(after).toEqual(before);
        } else {
          accepted++;
          expect(after.map((n, i) => n - before[i])).toEqual([1, 0, 0, 1]);
        }
      }),
      { numRuns: 300 },
    );
    expect(accepted).toBeGreaterThan(0);
    console.info(`startTraining fuzz: ${accepted} accepted; HTTP statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
  });
});
