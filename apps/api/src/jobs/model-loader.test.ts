/**
 * The worker's loader trusts stored rows no more than uploads: a model registered before paths
 * were checked (or written into the database by other means) whose ensemble members or file paths
 * lead out of its folder is refused as it loads, and nothing is read or written out there.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataErrorCode, pathExists } from '@excite/engine';
import { datasetFiles, datasets, modelFiles, models } from '../db/schema.ts';
import { MEDIA_TYPES, recordBlobs } from '../storage/blobs.ts';
import { writeTinyEncoder } from '../testing/fixtures.ts';
import { type TestService, startTestService } from '../testing/harness.ts';
import { ModelLoader } from './model-loader.ts';

describe('the model loader', () => {
  let t: TestService;
  beforeAll(async () => {
    t = await startTestService('pglite', { worker: false });
  });
  afterAll(() => t?.stop());

  /** A model row with `files` (path -> bytes), bypassing the upload checks. */
  async function storedModel(kind: 'ensemble' | 'encoder', files: Record<string, string>): Promise<string> {
    const { db } = t.service.database;
    const stored = await Promise.all(Object.entries(files).map(async ([path, text]) => ({ path, blob: await t.service.blobs.put(new TextEncoder().encode(text), MEDIA_TYPES.json) })));
    await recordBlobs(db, stored.map((f) => f.blob));
    const [row] = await db.insert(models).values({ name: 'stored', kind, source: 'upload', contentHash: randomUUID(), meta: {}, input: { channels: 1, height: 12, width: 12 } }).returning();
    await db.insert(modelFiles).values(stored.map((f) => ({ modelId: row.id, path: f.path, blob: f.blob.hash })));
    return row.id;
  }

  it('refuses a stored ensemble whose members lead outside its folder', async () => {
    // an encoder elsewhere on the server's disk: <data>/victim, three levels above <data>/cache/models/<id>
    await writeTinyEncoder(join(t.dataDir, 'victim'));
    const id = await storedModel('ensemble', { 'model.json': JSON.stringify({ kind: 'ensemble', format: 1, name: 'e', members: ['../../../victim'] }) });
    const loader = new ModelLoader(t.service.database, t.service.blobs, join(t.dataDir, 'cache'));
    const e = await loader.encoder(id).then(() => undefined, (e: Error) => e);
    expect(dataErrorCode(e)).toBe('PATH_OUTSIDE_FOLDER');
    expect(e?.message).toMatch(/model\.json: member "\.\.\/\.\.\/\.\.\/victim" leads outside the folder/);
  });

  it('refuses stored file paths that lead outside the folder, writing nothing there', async () => {
    const id = await storedModel('encoder', { 'model.json': '{}', '../../../escaped.json': '{"written": "outside"}' });
    const loader = new ModelLoader(t.service.database, t.service.blobs, join(t.dataDir, 'cache'));
    const e = await loader.encoder(id).then(() => undefined, (e: Error) => e);
    expect(dataErrorCode(e)).toBe('PATH_OUTSIDE_FOLDER');
    expect(await pathExists(join(t.dataDir, 'escaped.json'))).toBe(false);
    // the same for a dataset's files
    const { db } = t.service.database;
    const blob = await t.service.blobs.put(new Uint8Array([1]), MEDIA_TYPES.zip);
    await recordBlobs(db, [blob]);
    const [row] = await db.insert(datasets).values({ name: 'd', kind: 'images', contentHash: randomUUID(), imageCount: 1 }).returning();
    await db.insert(datasetFiles).values({ datasetId: row.id, path: '../../../dataset-escaped.zip', blob: blob.hash });
    expect(dataErrorCode(await loader.dataset(row.id).catch((e) => e))).toBe('PATH_OUTSIDE_FOLDER');
    expect(await pathExists(join(t.dataDir, 'dataset-escaped.zip'))).toBe(false);
  });
});
