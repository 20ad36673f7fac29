/**
 * The workers query: the embedded worker is listed before its first run, then with the runs it
 * computed, the device it computed them on and when it last reported.
 */
import { join } from 'node:path';
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTinyEncoder } from '../../testing/fixtures.ts';
import { type TestService, folderFiles, startTestService, tempDir } from '../../testing/harness.ts';

const WORKERS = '{ workers { name device running finished lastSeenAt embedded } }';

describe('the workers query', () => {
  let t: TestService;
  let folder: string;

  beforeAll(async () => {
    folder = await tempDir('workers');
    await writeTinyEncoder(join(folder, 'tiny-encoder'));
    t = await startTestService('pglite');
  });

  afterAll(async () => {
    await t?.stop();
    if (folder) await rm(folder, { recursive: true, force: true });
  });

  it('lists the embedded worker before its first run, then what it computed', async () => {
    const before = await t.ok(WORKERS);
    expect(before.workers).toEqual([{ name: t.service.worker!.name, device: t.service.worker!.device, running: 0, finished: 0, lastSeenAt: null, embedded: true }]);

    const { body } = await t.upload('/upload/model', await folderFiles(join(folder, 'tiny-encoder')), { name: 'tiny-encoder' });
    const started = Date.now();
    const { startRuns } = await t.ok(`mutation($input: StartRunsInput!) { startRuns(input: $input) { id } }`, {
      input: { generator: body.model.id, methods: ['GA'], neurons: [{ session: 's1', index: 0 }], seeds: [0, 1], settings: { steps: 5 } },
    });
    for (let until = Date.now() + 60_000; !(await t.ok(`query($id: ID!) { batch(id: $id) { done } }`, { id: startRuns.id })).batch.done; ) {
      if (Date.now() > until) throw new Error('the runs did not finish');
      await new Promise((r) => setTimeout(r, 100));
    }

    const after = await t.ok(WORKERS);
    expect(after.workers).toHaveLength(1);
    expect(after.workers[0]).toMatchObject({ name: t.service.worker!.name, device: 'cpu', running: 0, finished: 2, embedded: true });
    expect(Date.parse(after.workers[0].lastSeenAt)).toBeGreaterThanOrEqual(started - 1000);
  });

  it('needs a token', async () => {
    const r = await t.gql(WORKERS, {}, { token: null });
    expect(r.status).toBe(401);
  });
});
