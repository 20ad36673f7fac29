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
    const out = join(root, 'attention-both');
    const { stdout } = await run(process.execPath, [bin, 'ensemble', join(demo, 'attention-train'), join(demo, 'attention-val'), '--out', out, '--name', 'attention-both']);
    const sources = [...membersOf(await loadModel(join(demo, 'attention-train'))), ...membersOf(await loadModel(join(demo, 'attention-val')))];
    expect(stdout).toContain(`attention-both: an ensemble of ${sources.length} members`);
    const model = await loadModel(out);
    // every member of both, in order, each with its own record of how it was trained
    expect(membersOf(model).map((m) => m.meta.training)).toEqual(sources.map((m) => m.meta.training));
    expect(new Set(membersOf(model).map((m) => m.meta.training?.core_member)).size).toBe(sources.length);
    const err = await run(process.execPath, [bin, 'ensemble', join(demo, 'attention-train'), '--out', out]).catch((e) => e);
    expect(err.code).toBe(1);
    expect(err.stderr).toMatch(/attention-both already exists: name a new folder/);
    expect(membersOf(await loadModel(out))).toHaveLength(sources.length);
  });
});
