/**
 * Distributed mode and crash recovery on PostgreSQL, every piece its own process as deployed: one
 * API (`excite serve --no-worker`) and two `excite worker`s on one database and one data folder.
 * 20 runs start; one worker is SIGKILLed while it samples; the other takes its runs over once
 * their leases lapse and resumes them from their checkpoints. Every run succeeds with exactly one
 * result set, and every subscriber sees its run end.
 */
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { writeTinyEncoder, writeTinyPrior } from './testing/fixtures.ts';
import { POSTGRES_SKIP_MESSAGE, POSTGRES_URL, type ServiceClient, folderFiles, freshPostgresDatabase, tempDir } from './testing/harness.ts';
import { type ExciteProcess, startCluster } from './testing/processes.ts';

// this suite's time limit: an API and two workers as processes, one killed mid-run: about 15 s
vi.setConfig({ testTimeout: 180_000 });

const PROGRESS = 'subscription($run: ID!) { runProgress(run: $run) { attempt step steps } }';

if (POSTGRES_URL) {
  describe('two workers and an API on one PostgreSQL; a worker killed while it samples', () => {
    let database: Awaited<ReturnType<typeof freshPostgresDatabase>>;
    let sql: pg.Client;
    let api: ExciteProcess;
    const workers: ExciteProcess[] = [];
    let client: ServiceClient;

    beforeAll(async () => {
      const folders = await tempDir('fixtures');
      const data = await tempDir('cluster');
      await Promise.all([writeTinyEncoder(join(folders, 'tiny-encoder')), writeTinyPrior(join(folders, 'tiny-prior'))]);
      database = await freshPostgresDatabase();
      // short leases and frequent checkpoints, so that the test sees a takeover within seconds
      const env = { DATABASE_URL: database.url, EXCITE_LEASE_SECONDS: '2', EXCITE_CHECKPOINT_SECONDS: '0.2', EXCITE_LIMIT_MAX_RUNS_PER_JOB: '4' };
      const cluster = await startCluster({ data, env, workers: 2 });
      ({ api, client } = cluster);
      workers.push(...cluster.workers);
      for (const name of ['tiny-encoder', 'tiny-prior']) expect((await client.upload('/upload/model', await folderFiles(join(folders, name), name))).status).toBe(201);
      sql = new pg.Client({ connectionString: database.url });
      await sql.connect();
    });

    afterAll(async () => {
      await client?.ws.dispose();
      await Promise.all([api, ...workers].map((p) => p?.stop('SIGKILL')));
      await sql?.end();
      await database?.drop();
    });

    it('ends with 20 runs succeeded, each with one result set, every subscriber having seen its run end', async () => {
      const { encoders } = await client.ok('{ encoders { nodes { id } } }');
      const { startRuns } = await client.ok(`mutation($input: StartRunsInput!) { startRuns(input: $input) { id runCount runs(first: 20) { nodes { id } } } }`, {
        input: { generator: encoders.nodes[0].id, methods: ['EGG', 'GA'], neurons: [{ session: 's1', index: 1 }, { session: 's1', index: 2 }], seeds: [0, 1, 2, 3, 4], settings: { steps: 60 } },
      });
      expect(startRuns.runCount).toBe(20);
      const runIds = (startRuns.runs.nodes as { id: string }[]).map((r) => r.id);

      // every run's steps, and the batch's status changes, as subscribers see them
      const statuses = new Map<string, string[]>();
      const statusStream = client.ws.iterate<{ runStatusChanged: { runId: string; status: string } }>({ query: 'subscription($b: ID!) { runStatusChanged(batch: $b) { runId status } }', variables: { b: startRuns.id } });
      const statusesDone = (async () => {
        for await (const e of statusStream) {
          const { runId, status } = e.data!.runStatusChanged;
          statuses.set(runId, [...(statuses.get(runId) ?? []), status]);
          if (runIds.every((id) => statuses.get(id)?.includes('SUCCEEDED'))) break;
        }
      })();
      const streams = runIds.map((run) => client.collect<{ runProgress: { attempt: number; step: number; steps: number } }>(PROGRESS, { run }).then((events) => events.map((e) => e.runProgress)));

      // the first worker, once it samples with a checkpoint stored, is killed
      const [victim, survivor] = workers;
      const victimName = `:${victim.child.pid}`;
      const until = Date.now() + 60_000;
      for (;;) {
        const { rows } = await sql.query(
          `SELECT count(*)::int AS n FROM runs r JOIN run_checkpoints c ON c.run_id = r.id WHERE r.status = 'running' AND r.worker LIKE $1 AND c.step >= 3`,
          [`%${victimName}`],
        );
        if (rows[0].n > 0) break;
        if (Date.now() > until) throw new Error(`the first worker never sampled:\n${victim.output()}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const { rows: lost } = await sql.query(`SELECT r.id, c.step FROM runs r JOIN run_checkpoints c ON c.run_id = r.id WHERE r.status = 'running' AND r.worker LIKE $1`, [`%${victimName}`]);
      expect(lost.length).toBeGreaterThan(0);
      victim.child.kill('SIGKILL');

      const events = await Promise.all(streams);
      await statusesDone;

      const { rows: done } = await sql.query(`SELECT id, status, attempts, worker, (SELECT count(*)::int FROM images i WHERE i.run_id = runs.id) AS images FROM runs`);
      expect(done).toHaveLength(20);
      for (const run of done) {
        expect(run.status).toBe('succeeded');
        expect(run.images).toBe(1);
      }
      // one result set each: one image per run, one score per image and evaluator, no checkpoint left
      const { rows: scores } = await sql.query(`SELECT image_id, count(*)::int AS n FROM scores GROUP BY image_id`);
      expect(scores).toHaveLength(20);
      expect(scores.every((s) => s.n === 1)).toBe(true);
      expect((await sql.query('SELECT count(*)::int AS n FROM run_checkpoints')).rows[0].n).toBe(0);

      // the killed worker's runs were finished by the survivor, in a second attempt that resumed after step 1
      const survivorName = `:${survivor.child.pid}`;
      for (const { id, step } of lost) {
        const run = done.find((r) => r.id === id)!;
        expect(run.worker.endsWith(survivorName)).toBe(true);
        expect(run.attempts).toBe(2);
        const steps = events[runIds.indexOf(id)];
        const second = steps.filter((e) => e.attempt === 2);
        expect(second[0].step).toBeGreaterThanOrEqual(step + 1);
        expect(second.at(-1)!.step).toBe(second[0].steps);
      }
      // every subscriber saw its run end: each progress stream completed at the last step, and the status stream saw every success
      for (const steps of events) expect(steps.at(-1)!.step).toBe(steps.at(-1)!.steps);
      for (const id of runIds) expect(statuses.get(id)).toContain('SUCCEEDED');
    });
  });
} else {
  describe.skip(`crash recovery on PostgreSQL: ${POSTGRES_SKIP_MESSAGE}`, () => it('needs PostgreSQL', () => undefined));
}
