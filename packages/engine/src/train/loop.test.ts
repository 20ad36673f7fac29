import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type NdArray, float32 } from '../onnx/ndarray.ts';
import { Rng } from '../random.ts';
import { AdamW } from './adamw.ts';
import { readCheckpoint } from './checkpoint.ts';
import { type LoopCheckpoint, resumeLoop, runLoop } from './loop.ts';

const root = mkdtempSync(join(tmpdir(), 'excite-loop-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/**
 * A toy run: fit w to targets drawn from the generator, two batches a round, loss (w - target)^2.
 * `stopAt` aborts during that round, `nanAt` makes its loss NaN; the run resumes from its
 * checkpoint if there is one.
 */
async function toy(o: { rounds: number; checkpoint?: Omit<LoopCheckpoint, 'own'>; stopAt?: number; endAt?: number; nanAt?: number; stopAfterSteps?: number }) {
  let weights = new Map<string, NdArray>([['w', float32([1], [5])]]);
  const optimizer = new AdamW({ lr: 0.1 });
  const rng = new Rng(3);
  const seen: number[] = [];
  const saved = await resumeLoop(o.checkpoint?.dir, optimizer, rng);
  if (saved) {
    weights = saved.weights;
    seen.push(...(saved.own.state as number[]));
  }
  const abort = new AbortController();
  let steps = 0;
  await runLoop({
    weights: () => weights,
    optimizer,
    rng,
    start: saved?.round ?? 0,
    within: saved?.within,
    rounds: o.rounds,
    batches: (round) => {
      if (round === o.stopAt) abort.abort(new Error('stopped'));
      return [rng.uniform(), rng.uniform()];
    },
    step: async (target, round) => {
      if (++steps === o.stopAfterSteps) abort.abort(new Error('stopped'));
      const w = (weights.get('w')!.data as Float32Array)[0];
      return { loss: round === o.nanAt ? NaN : (w - target) ** 2, grads: new Map([['w', Float32Array.of(2 * (w - target))]]) };
    },
    label: (_, round) => `round ${round + 1}`,
    endRound: (round) => {
      seen.push(round);
      return round === o.endAt;
    },
    checkpoint: o.checkpoint && { ...o.checkpoint, own: () => ({ state: seen, tensors: {} }) },
    signal: abort.signal,
  });
  return { w: (weights.get('w')!.data as Float32Array)[0], seen, rng: rng.getState() };
}

describe('the training loop', () => {
  it('resumes an aborted run from its last checkpoint to the same result as a straight run', async () => {
    const straight = await toy({ rounds: 6 });
    expect(straight.seen).toEqual([0, 1, 2, 3, 4, 5]);
    expect(straight.w).toBeLessThan(4);
    const checkpoint = { dir: join(root, 'abort'), every: 2, atEnd: false };
    await expect(toy({ rounds: 6, checkpoint, stopAt: 3 })).rejects.toThrow('stopped');
    expect((await readCheckpoint<{ round: number }>(checkpoint.dir))!.state.round).toBe(2);
    const resumed = await toy({ rounds: 6, checkpoint });
    expect(resumed).toEqual(straight);
    // every 2 rounds, and not after the last one
    expect((await readCheckpoint<{ round: number }>(checkpoint.dir))!.state.round).toBe(4);
  });

  it('checkpoints within a round when its seconds pass, and resumes there to the same result', async () => {
    const straight = await toy({ rounds: 4 });
    const checkpoint = { dir: join(root, 'within'), every: 1, atEnd: false, seconds: 1e-9 };
    // the 4th step is round 2's second batch: stopped before it, after a checkpoint of round 2's first batch
    await expect(toy({ rounds: 4, checkpoint, stopAfterSteps: 5 })).rejects.toThrow('stopped');
    const saved = await readCheckpoint<{ round: number; within?: { batch: number } }>(checkpoint.dir);
    expect(saved!.state).toMatchObject({ round: 2, within: { batch: 1 } });
    expect(await toy({ rounds: 4, checkpoint })).toEqual(straight);
  });

  it('an abort within a round first checkpoints the batches done when asked to (a service\'s shutdown)', async () => {
    const straight = await toy({ rounds: 4 });
    const checkpoint = { dir: join(root, 'abort-save'), every: 1, atEnd: false, saveOnAbort: true };
    // aborted during round 2's first batch: that batch finishes and is kept
    await expect(toy({ rounds: 4, checkpoint, stopAfterSteps: 5 })).rejects.toThrow('stopped');
    expect((await readCheckpoint<{ round: number; within?: { batch: number } }>(checkpoint.dir))!.state).toMatchObject({ round: 2, within: { batch: 1 } });
    expect(await toy({ rounds: 4, checkpoint })).toEqual(straight);
  });

  it('ends when a round says so, and saves that round when asked to', async () => {
    const checkpoint = { dir: join(root, 'end'), every: 1, atEnd: true };
    const ended = await toy({ rounds: 6, checkpoint, endAt: 2 });
    expect(ended.seen).toEqual([0, 1, 2]);
    expect((await readCheckpoint<{ round: number }>(checkpoint.dir))!.state.round).toBe(3);
    // a later run with a larger budget continues after it
    expect((await toy({ rounds: 5, checkpoint })).seen).toEqual([0, 1, 2, 3, 4]);
  });

  it('stops with the batch\'s place when the loss is not finite', async () => {
    await expect(toy({ rounds: 5, nanAt: 2 })).rejects.toThrow('the training loss is NaN at round 3: lower the learning rate');
  });
});
