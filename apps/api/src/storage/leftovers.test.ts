/**
 * What a crash leaves (a half-received upload, a half-materialized model, blobs stored before
 * their rows, rows nobody references) is gone after the next start; everything referenced, and
 * every blob younger than the grace period, is still there. The crash is staged as its leftovers:
 * the same files and rows an interrupted upload or registration leaves, in a real data folder,
 * then a real start of the service on it. Ages are set on the files and rows, not waited for.
 */
import { mkdir, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pathExists } from '@excite/engine';
import { serviceConfig } from '../config.ts';
import { type Service, startService } from '../service.ts';
import { writeTinyEncoder } from '../testing/fixtures.ts';
import { folderFiles, initializedPglite, serviceClient, tempDir } from '../testing/harness.ts';

const root = await tempDir('leftovers');
afterAll(() => rm(root, { recursive: true, force: true }));

const HOURS_AGO = (h: number) => new Date(Date.now() - h * 3600_000);

describe('leftovers of an interrupted run', () => {
  it('are removed at start-up: upload folders, cache folders being built, unreferenced blobs older than the grace period', async () => {
    const dataDir = join(root, 'data');
    await initializedPglite(join(dataDir, 'pglite'));
    const log: string[] = [];
    const start = () => startService(serviceConfig({ dataDir, port: 0, host: '127.0.0.1', demoModels: false, worker: false, databaseUrl: '', leftoverGraceSeconds: 3600, log: (l) => log.push(l) }));
    let service: Service = await start();
    const token = service.initialAdminToken!;
    await writeTinyEncoder(join(root, 'encoder'));
    const uploaded = await serviceClient(service.url, token).upload('/upload/model', await folderFiles(join(root, 'encoder')), { name: 'kept' });
    expect(uploaded.status).toBe(201);
    const { rows: kept } = await service.database.executeSql('SELECT blob FROM model_files');
    // blobs referenced by a run's trace or an image are kept the same way: any column referencing blobs counts
    const orphanOld = await service.blobs.put(new TextEncoder().encode('stored, then the registration crashed'), 'application/json');
    const orphanYoung = await service.blobs.put(new TextEncoder().encode('stored a moment ago, its rows are on their way'), 'application/json');
    const rowOld = await service.blobs.put(new TextEncoder().encode('a row nobody references'), 'application/json');
    const rowYoung = await service.blobs.put(new TextEncoder().encode('a young row nobody references yet'), 'application/json');
    await service.database.executeSql('INSERT INTO blobs (hash, size, media_type, created_at) VALUES ($1, 1, $3, $4), ($2, 1, $3, now())', [rowOld.hash, rowYoung.hash, 'application/json', HOURS_AGO(2).toISOString()]);
    // the referenced blobs are old too: age alone removes nothing
    for (const { blob } of kept) await utimes(service.blobs.path(blob as string), HOURS_AGO(5), HOURS_AGO(5));
    await service.database.executeSql(`UPDATE blobs SET created_at = $1 WHERE hash <> $2`, [HOURS_AGO(5).toISOString(), rowYoung.hash]);
    await utimes(service.blobs.path(orphanOld.hash), HOURS_AGO(2), HOURS_AGO(2));
    await utimes(service.blobs.path(rowOld.hash), HOURS_AGO(2), HOURS_AGO(2));
    await service.stop();

    // an upload cut off mid-way, a model folder half materialized
    await mkdir(join(dataDir, 'uploads', 'f5d3c7a0-0000-4000-8000-000000000000', 'member-0'), { recursive: true });
    await writeFile(join(dataDir, 'uploads', 'f5d3c7a0-0000-4000-8000-000000000000', 'member-0', 'weights.safetensors'), new Uint8Array(1000));
    const building = join(dataDir, 'cache', 'models', `${uploaded.body.model.id}.0b1e9a52-0000-4000-8000-000000000000`);
    await mkdir(building, { recursive: true });
    await writeFile(join(building, 'model.json'), '{');

    service = await start();
    try {
      expect(await readdir(join(dataDir, 'uploads'))).toEqual([]);
      expect(await pathExists(building)).toBe(false);
      expect(await pathExists(service.blobs.path(orphanOld.hash))).toBe(false);
      expect(await pathExists(service.blobs.path(rowOld.hash))).toBe(false);
      expect(await pathExists(service.blobs.path(orphanYoung.hash))).toBe(true);
      expect(await pathExists(service.blobs.path(rowYoung.hash))).toBe(true);
      const { rows } = await service.database.executeSql('SELECT hash FROM blobs ORDER BY hash');
      expect(rows.map((r) => r.hash).sort()).toEqual([...kept.map((r) => r.blob as string), rowYoung.hash].sort());
      for (const { blob } of kept) expect(await pathExists(service.blobs.path(blob as string))).toBe(true);
      expect(log).toContain('excite: removed what an interrupted run left: 1 upload folder(s), 1 cache folder(s), 2 unreferenced blob(s)');
      // the kept model's files are all there: registering them again finds the same model
      const again = await serviceClient(service.url, token).upload('/upload/model', await folderFiles(join(root, 'encoder')), { name: 'kept' });
      expect([again.status, again.body.model.id]).toEqual([200, uploaded.body.model.id]);
    } finally {
      await service.stop();
    }
  });
});
