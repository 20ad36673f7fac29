import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { loadModel, membersOf } from '@excite/engine';

const run = promisify(execFile);
const bin = fileURLToPath(new URL('../../../bin/excite.js', import.meta.url));
const demo = fileURLToPath(new URL('../../../../../models/demo/', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'excite-ensemble-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('excite ensemble', () => {
  it("makes one ensemble of the demo's two attention ensembles, and refuses to overwrite it", async () => {
    const out = join(root, 'attention-4');
    const { stdout } = await run(process.execPath, [bin, 'ensemble', join(demo, 'attention-train'), join(demo, 'attention-val'), '--out', out, '--name', 'attention-4']);
    expect(stdout).toMatch(/attention-4: an ensemble of 4 members/);
    const model = await loadModel(out);
    expect(membersOf(model).map((m) => m.meta.name)).toEqual(['train', 'train', 'val', 'val'].map((e, i) => `models/demo/attention-${e}/member-${i % 2}`));
    const err = await run(process.execPath, [bin, 'ensemble', join(demo, 'attention-train'), '--out', out]).catch((e) => e);
    expect(err.code).toBe(1);
    expect(err.stderr).toMatch(/attention-4 already exists: name a new folder/);
    expect(membersOf(await loadModel(out))).toHaveLength(4);
  });
});
