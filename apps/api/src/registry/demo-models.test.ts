import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../db/database.ts';
import { models } from '../db/schema.ts';
import { BlobStore } from '../storage/blobs.ts';
import { writeTinyEnsemble, writeTinyPrior } from '../testing/fixtures.ts';
import { initializedPglite, tempDir } from '../testing/harness.ts';
import { registerDemoModels } from './demo-models.ts';

const root = await tempDir('demo');
afterAll(() => rm(root, { recursive: true, force: true }));

describe('the demo models', () => {
  it('are registered at start-up once; absent and broken ones are skipped with a reason', async () => {
    const demo = join(root, 'models');
    await writeTinyEnsemble(join(demo, 'attention-train'));
    await writeTinyPrior(join(demo, 'prior'));
    await mkdir(join(demo, 'attention-val'), { recursive: true });
    await writeFile(join(demo, 'attention-val', 'model.json'), '{"kind": "ensemble", "format": 1, "members": ["member-0"]}');
    await initializedPglite(join(root, 'data', 'pglite'));
    const database = await openDatabase({ dataDir: join(root, 'data') });
    try {
      const registry = { database, blobs: new BlobStore(join(root, 'data', 'blobs')) };
      const log: string[] = [];
      await registerDemoModels(registry, demo, (line) => log.push(line));
      const rows = await database.db.select({ name: models.name, kind: models.kind, source: models.source }).from(models).orderBy(models.seq);
      expect(rows).toEqual([
        { name: 'attention-train', kind: 'ensemble', source: 'demo' },
        { name: 'prior', kind: 'prior', source: 'demo' },
      ]);
      expect(log).toEqual([
        'excite: registered the demo ensemble attention-train',
        expect.stringMatching(/^excite: demo model attention-val was not registered: member-0\/model.json: does not exist/),
        expect.stringMatching(/^excite: demo model gaussian-cross is not in .* yet/),
        'excite: registered the demo prior prior',
      ]);
      // the next start finds them registered
      await registerDemoModels(registry, demo, () => undefined);
      expect(await database.db.$count(models)).toBe(2);
    } finally {
      await database.close();
    }
  });
});
