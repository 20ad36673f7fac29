/**
 * The service end to end on PostgreSQL 15 (EXCITE_TEST_DATABASE_URL, which .ci/run sets; locally
 * `eval "$(.ci/postgres.sh start)"`): service-suite.ts, then an API process without a worker and
 * an `excite worker` process sharing one database, the steps crossing over LISTEN/NOTIFY.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { writeTinyEnsemble, writeTinyPrior } from './testing/fixtures.ts';
import { POSTGRES_SKIP_MESSAGE, POSTGRES_URL, type TestService, folderFiles, startTestService, tempDir } from './testing/harness.ts';
import { serviceSuite } from './service-suite.ts';

// this suite's time limit: the whole service suite on PostgreSQL: up to 15 s a test
vi.setConfig({ testTimeout: 180_000 });

const bin = fileURLToPath(new URL('../bin/excite.js', import.meta.url));

if (POSTGRES_URL) {
  serviceSuite('postgres');

  describe('an API process and an excite worker process on one PostgreSQL', () => {
    let t: TestService;
    let worker: ChildProcess;
    let workerOutput = '';

    beforeAll(async () => {
      const folders = await tempDir('fixtures');
      await Promise.all([writeTinyEnsemble(join(folders, 'tiny-ensemble')), writeTinyPrior(join(folders, 'tiny-prior'))]);
      t = await startTestService('postgres', { worker: false });
      for (const name of ['tiny-ensemble', 'tiny-prior']) expect((await t.upload('/upload/model', await folderFiles(join(folders, name), name))).status).toBe(201);
      worker = spawn(process.execPath, [bin, 'worker', '--data', t.dataDir], { env: { ...process.env, DATABASE_URL: t.databaseUrl } });
      worker.stdout!.on('data', (chunk) => (workerOutput += chunk));
      worker.stderr!.on('data', (chunk) => (workerOutput += chunk));
      const until = Date.now() + 60_000;
      while (!workerOutput.includes('excite: worker ')) {
        if (worker.exitCode !== null || Date.now() > until) throw new Error(`the worker did not start:\n${workerOutput}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    });

    afterAll(async () => {
      if (worker && worker.exitCode === null) {
        worker.kill('SIGKILL');
        await once(worker, 'exit');
      }
      await t?.stop();
    });

    it('runs the jobs in the worker; subscribers of the API get every step in order', async () => {
      const { encoders } = await t.ok('{ encoders { nodes { id } } }');
      const { startRuns } = await t.ok(`mutation($input: StartRunsInput!) { startRuns(input: $input) { runs { nodes { id } } } }`, {
        input: { generator: encoders.nodes[0].id, methods: ['GA', 'EGG'], neurons: [{ session: 's1', index: 1 }, { session: 's1', index: 2 }], settings: { steps: 5 } },
      });
      const runs = startRuns.runs.nodes as { id: string }[];
      const streams = await Promise.all(runs.map((r) => t.collect<{ runProgress: { step: number } }>('subscription($run: ID!) { runProgress(run: $run) { step } }', { run: r.id })));
      for (const events of streams) expect(events.map((e) => e.runProgress.step)).toEqual([1, 2, 3, 4, 5]);
      const done = await t.ok(`{ runs(first: 10) { nodes { status worker images { id } } } }`);
      for (const run of done.runs.nodes) {
        expect(run.status).toBe('SUCCEEDED');
        expect(run.worker).toMatch(new RegExp(`:${worker.pid}$`));
        expect(run.images).toHaveLength(1);
      }
    });

    it('stops the worker on SIGTERM', async () => {
      worker.kill('SIGTERM');
      const [code] = await once(worker, 'exit');
      expect(code).toBe(0);
    });
  });
} else {
  describe.skip(`the service on PostgreSQL: ${POSTGRES_SKIP_MESSAGE}`, () => it('needs PostgreSQL', () => undefined));
}
