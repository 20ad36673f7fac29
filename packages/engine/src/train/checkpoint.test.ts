import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type NdArray, float32 } from '../onnx/ndarray.ts';
import { readCheckpoint, writeCheckpoint } from './checkpoint.ts';

const root = mkdtempSync(join(tmpdir(), 'excite-checkpoint-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const tensors = (v: number) => new Map([['w', float32([2], [v, v])]]);
const content = (v: number, best: ReadonlyMap<string, NdArray> = tensors(v)) => ({ state: { epoch: v }, tensors: { weights: tensors(v), best, optimizer: tensors(-v) } });

/** A tensor map that fails when it is written: the disk filling up between two files. */
function failing(): Map<string, NdArray> {
  const m = new Map<string, NdArray>();
  m[Symbol.iterator] = () => {
    throw new Error('disk full');
  };
  return m;
}

async function expectWhole(dir: string, v: number) {
  const saved = (await readCheckpoint<{ epoch: number }>(dir))!;
  expect(saved.state.epoch).toBe(v);
  expect(Object.keys(saved.tensors)).toEqual(['weights', 'best', 'optimizer']);
  expect([...saved.tensors.weights.get('w')!.data]).toEqual([v, v]);
  expect([...saved.tensors.best.get('w')!.data]).toEqual([v, v]);
  expect([...saved.tensors.optimizer.get('w')!.data]).toEqual([-v, -v]);
}

describe('the checkpoint folder', () => {
  it('is absent until a checkpoint was completed', async () => {
    expect(await readCheckpoint(join(root, 'none'))).toBeUndefined();
  });

  it('keeps the previous checkpoint whole when a write fails after the weights were written', async () => {
    const dir = join(root, 'crash');
    await writeCheckpoint(dir, content(1));
    await expect(writeCheckpoint(dir, content(2, failing()))).rejects.toThrow('disk full');
    // the old state with the old weights, never the old state with the new weights
    await expectWhole(dir, 1);
    // the next write replaces the half-written generation and removes the older one
    await writeCheckpoint(dir, content(3));
    await expectWhole(dir, 3);
    expect(readdirSync(dir).sort()).toEqual(['gen-2', 'state.json']);
  });

  it('ignores what a crash while writing state.json leaves behind', async () => {
    const dir = join(root, 'torn-state');
    await writeCheckpoint(dir, content(1));
    mkdirSync(join(dir, 'gen-2'));
    writeFileSync(join(dir, 'gen-2', 'weights.safetensors'), 'partial');
    writeFileSync(join(dir, 'state.json.tmp'), '{"generation": 2, "fi');
    await expectWhole(dir, 1);
    await writeCheckpoint(dir, content(2));
    await expectWhole(dir, 2);
  });

  it('refuses a checkpoint of the earlier layout with a clear message', async () => {
    const dir = join(root, 'old');
    mkdirSync(dir);
    writeFileSync(join(dir, 'state.json'), JSON.stringify({ epoch: 3, step: 12 }));
    await expect(readCheckpoint(dir)).rejects.toThrow(/older version of excite: delete it to start over/);
  });
});
