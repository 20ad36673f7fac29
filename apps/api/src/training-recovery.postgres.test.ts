/**
 * A training whose worker is SIGKILLed mid-epoch, on PostgreSQL with every piece its own process:
 * one API (`excite serve --no-worker`) and two `excite worker`s on one database and data folder.
 * A reference training runs uninterrupted first; the same training (datasets, recipe, seed) runs
 * again and its worker is killed once it stored a checkpoint within an epoch. The other worker
 * takes it over when its lease lapses, resumes from that checkpoint (attempt 2, at the batch after
 * it), and ends with the weights of the uninterrupted training; the subscriber sees the batches of
 * both attempts in order and the end.
 */
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { decodeSafetensors } from '@excite/engine';
import { writeSyntheticSession } from '@excite/engine/testing';
import { POSTGRES_SKIP_MESSAGE, POSTGRES_URL, type ServiceClient, folderFiles, freshPostgresDatabase, tempDir } from './testing/harness.ts';
import { type ExciteProcess, startCluster } from './testing/processes.ts';
import type { TrainingEvent } from './training-suite.ts';

// this suite's time limit: an API, two workers and two tiny trainings, one interrupted: about 40 s
vi.setConfig({ testTimeout: 240_000, hookTimeout: 120_000 });

const EVENTS = 'subscription($id: ID!) { trainingProgress(training: $id) { trainingId kind attempt member epoch batch batches loss status } }';
const DONE = 'query($id: ID!) { training(id: $id) { status attempts worker epoch history { epoch valLoss } model { id files { path blob { url } } } } }';

if (POSTGRES_URL) {
  describe('a training whose worker is killed mid-epoch resumes on another worker', () => {
    let database: Awaited<ReturnType<typeof freshPostgresDatabase>>;
    let sql: pg.Client;
    let api: ExciteProcess;
    const workers: ExciteProcess[] = [];
    let client: ServiceClient;
    let datasetId = '';

    beforeAll(async () => {
      const folders = await tempDir('training-recovery');
      const data = await tempDir('training-cluster');
      await writeSyntheticSession(join(folders, 'lab-a'), { images: 100, neurons: 4, seed: 5, size: 32 });
      database = await freshPostgresDatabase();
      // short leases and checkpoints every 0.2 s (within epochs), so that a takeover comes within seconds
      const env = { DATABASE_URL: database.url, EXCITE_LEASE_SECONDS: '2', EXCITE_CHECKPOINT_SECONDS: '0.2' };
      const cluster = await startCluster({ data, env, workers: 2 });
      ({ api, client } = cluster);
      workers.push(...cluster.workers);
      const up = await client.upload('/upload/dataset', await folderFiles(join(folders, 'lab-a')), { name: 'lab-a' });
      expect(up.status).toBe(201);
      datasetId = up.body.dataset.id;
      sql = new pg.Client({ connectionString: database.url });
      await sql.connect();
    });

    afterAll(async () => {
      await client?.ws.dispose();
      await Promise.all([api, ...workers].map((p) => p?.stop('SIGKILL')));
      await sql?.end();
      await database?.drop();
    });

    async function weightsOf(trainingId: string): Promise<Map<string, Float32Array>> {
      const { training } = await client.ok(DONE, { id: trainingId });
      const file = training.model.files.find((f: { path: string }) => f.path === 'weights.safetensors');
      const bytes = new Uint8Array(await (await client.fetch(file.blob.url)).arrayBuffer());
      return new Map([...decodeSafetensors(bytes, 'weights').tensors].map(([k, v]) => [k, Float32Array.from(v.data as ArrayLike<number>)]));
    }

    it('ends with the weights of the uninterrupted training, the subscriber seeing both attempts in order', async () => {
      // 90 training images in batches of 6: 15 batches an epoch, 3 epochs
      const input = { kind: 'ENCODER', datasets: [datasetId], preset: 'demo', maxEpochs: 3, seed: 11, settings: { batchSize: 6, patience: 10 } };
      const start = 'mutation($input: StartTrainingInput!) { startTraining(input: $input) { id } }';

      const reference = (await client.ok(start, { input: { ...input, name: 'reference' } })).startTraining.id as string;
      const referenceEvents = await client.collect<{ trainingProgress: TrainingEvent }>(EVENTS, { id: reference });
      expect(referenceEvents.at(-1)!.trainingProgress.status).toBe('SUCCEEDED');

      const interrupted = (await client.ok(start, { input: { ...input, name: 'interrupted' } })).startTraining.id as string;
      const events = client.collect<{ trainingProgress: TrainingEvent }>(EVENTS, { id: interrupted }).then((e) => e.map((x) => x.trainingProgress));
      // its worker, once it stored a checkpoint within an epoch after the first, is killed
      const until = Date.now() + 120_000;
      let victim: ExciteProcess | undefined;
      let checkpoint: { epoch: number; step: number } | undefined;
      for (;;) {
        const { rows } = await sql.query(
          `SELECT t.worker, c.state FROM trainings t JOIN training_checkpoints c ON c.training_id = t.id WHERE t.id = $1 AND t.status = 'running' AND (c.state->>'epoch')::int >= 1 AND (c.state->>'step')::int > 0`,
          [interrupted],
        );
        if (rows.length) {
          victim = workers.find((w) => (rows[0].worker as string).endsWith(`:${w.child.pid}`));
          checkpoint = rows[0].state;
          break;
        }
        if (Date.now() > until) throw new Error(`no checkpoint within an epoch:\n${workers.map((w) => w.output()).join('\n---\n')}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(victim).toBeDefined();
      victim!.child.kill('SIGKILL');
      const survivor = workers.find((w) => w !== victim)!;

      const seen = await events;
      expect(seen.at(-1)).toMatchObject({ kind: 'STATUS', status: 'SUCCEEDED' });
      const { training } = await client.ok(DONE, { id: interrupted });
      expect(training).toMatchObject({ status: 'SUCCEEDED', attempts: 2, epoch: 3 });
      expect(training.worker.endsWith(`:${survivor.child.pid}`)).toBe(true);
      expect(training.history.map((h: { epoch: number }) => h.epoch)).toEqual([1, 2, 3]);

      // attempt 2 went on after the checkpoint (or a later one the victim stored before it died), within an epoch
      const second = seen.filter((e) => e.kind === 'BATCH' && e.attempt === 2);
      expect(second.length).toBeGreaterThan(0);
      const [first] = second;
      expect(first.epoch * 100 + first.batch!).toBeGreaterThan(checkpoint!.epoch * 100 + checkpoint!.step);
      // in order within each attempt, attempt 1 before attempt 2
      const attempts = seen.filter((e) => e.kind !== 'STATUS').map((e) => e.attempt);
      expect(attempts).toEqual([...attempts].sort());
      for (const a of [1, 2]) {
        const keys = seen.filter((e) => e.kind === 'BATCH' && e.attempt === a).map((e) => e.epoch * 100 + e.batch!);
        expect(keys).toEqual([...keys].sort((x, y) => x - y));
      }

      // the same weights as the uninterrupted training, and the same validation losses
      const { training: ref } = await client.ok(DONE, { id: reference });
      training.history.forEach((h: { valLoss: number }, i: number) => expect(h.valLoss).toBeCloseTo(ref.history[i].valLoss, 4));
      const [a, b] = [await weightsOf(reference), await weightsOf(interrupted)];
      expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
      let worst = 0;
      for (const [k, v] of a) v.forEach((x, i) => (worst = Math.max(worst, Math.abs(x - b.get(k)![i]))));
      console.info(`resumed training: largest weight difference to the uninterrupted one ${worst.toExponential(2)}`);
      expect(worst).toBeLessThan(1e-4);
      expect((await sql.query('SELECT count(*)::int AS n FROM training_checkpoints')).rows[0].n).toBe(0);
    });
  });
} else {
  describe.skip('a training whose worker is killed mid-epoch', () => it(POSTGRES_SKIP_MESSAGE, () => undefined));
}
