/**
 * Graceful shutdown on the embedded database: a stopping service lets the step in flight finish,
 * checkpoints it and hands the runs back to the queue; the next start resumes them from there.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { float32, encodeNpy } from '@excite/engine';
import { serviceConfig } from '../config.ts';
import { type Service, startService } from '../service.ts';
import { writeTinyEncoder } from '../testing/fixtures.ts';
import { type TestService, folderFiles, serviceClient, startTestService, tempDir } from '../testing/harness.ts';

const PROGRESS = 'subscription($run: ID!) { runProgress(run: $run) { attempt step steps } }';

describe('graceful shutdown', () => {
  let t: TestService | undefined;
  let restarted: Service | undefined;
  afterAll(async () => {
    await restarted?.stop();
    await t?.stop();
  });

  it('finishes the step in flight, checkpoints it, requeues the runs; the next start resumes them', async () => {
    // checkpoints only at shutdown: what the retry resumes from is the step the shutdown let finish
    t = await startTestService('pglite', { config: { checkpointSeconds: 3600 } });
    const folder = await tempDir('shutdown');
    await writeTinyEncoder(join(folder, 'enc'));
    const { id: generator } = (await t.upload('/upload/model', await folderFiles(join(folder, 'enc')), { name: 'enc' })).body.model;
    const { startRuns } = await t.ok('mutation($input: StartRunsInput!) { startRuns(input: $input) { runs { nodes { id } } } }', {
      input: { generator, methods: ['GA'], neurons: [{ session: 's1', index: 1 }, { session: 's1', index: 2 }], settings: { steps: 1000 } },
    });
    const runIds = (startRuns.runs.nodes as { id: string }[]).map((r) => r.id);
    let stopping: Promise<void> | undefined;
    const before: number[] = [];
    // the stopping server closes the subscription (1001 going away) after the steps it made
    const closed = await t
      .collect<{ runProgress: { step: number } }>(PROGRESS, { run: runIds[0] }, (e) => {
        before.push(e.runProgress.step);
        if (e.runProgress.step === 20) stopping = t!.service.stop();
      })
      .catch((e) => e);
    expect(closed).toMatchObject({ code: 1001 });
    await stopping;
    const lastStep = before.at(-1)!;
    expect(lastStep).toBeGreaterThanOrEqual(20);
    expect(lastStep).toBeLessThan(1000);
    expect(t.log.join('\n')).toMatch(/stopping: 2 runs handed back to the queue/);

    restarted = await startService(serviceConfig({ dataDir: t.dataDir, databaseUrl: '', port: 0, host: '127.0.0.1', demoModels: false, log: () => undefined }));
    // the checkpoints are there (the new worker may already have claimed the runs again)
    // (its step is at least the last one the subscriber saw: the server closes subscriptions before the worker's last step ends)
    const { rows } = await restarted.database.executeSql('SELECT c.step FROM runs r JOIN run_checkpoints c ON c.run_id = r.id');
    const checkpointed = rows[0].step as number;
    expect(rows.map((r) => r.step)).toEqual([checkpointed, checkpointed]);
    expect(checkpointed).toBeGreaterThanOrEqual(lastStep);
    // how many steps the worker makes between the subscriber's last event and the stop depends on
    // the machine's load (a loaded machine delivers events late), not on the contract: the stop
    // came well before the run's end, and the retry resumes exactly there (below)
    expect(checkpointed).toBeLessThan(1000);

    const client = serviceClient(restarted.url, t.token);
    const after = await client.collect<{ runProgress: { attempt: number; step: number } }>(PROGRESS, { run: runIds[0] });
    await client.ws.dispose();
    // the second attempt starts right after the checkpointed step
    const second = after.map((e) => e.runProgress).filter((e) => e.attempt === 2);
    expect(second[0].step).toBe(checkpointed + 1);
    expect(second.at(-1)!.step).toBe(1000);
    const { runs } = await client.ok<{ runs: { nodes: { status: string; attempts: number; images: unknown[]; trajectory: { energy: { size: number } } }[] } }>('{ runs { nodes { status attempts images { id } trajectory { energy { size } } } } }');
    for (const run of runs.nodes) {
      expect(run).toMatchObject({ status: 'SUCCEEDED', attempts: 2, images: [expect.anything()] });
      // the trajectory holds every step, those before the shutdown too
      expect(run.trajectory.energy.size).toBe(encodeNpy(float32([1000], new Float32Array(1000))).length);
    }
    expect((await restarted.database.executeSql('SELECT count(*)::int AS n FROM run_checkpoints')).rows[0].n).toBe(0);
  });
});
