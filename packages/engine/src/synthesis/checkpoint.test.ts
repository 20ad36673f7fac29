import { describe, expect, it } from 'vitest';
import { type SynthesisCheckpoint, joinCheckpoints, sliceCheckpoint } from './checkpoint.ts';
import { eggMei, eggX0Mei } from './egg.ts';
import { gaMei } from './ga.ts';
import { meni } from './meni.ts';
import type { ProgressCallback } from './progress.ts';
import { tinyEncoder, tinyPrior } from './testing/tiny-models.ts';
import type { SynthesisItem, SynthesisResult } from './synthesis-result.ts';

const encoder = tinyEncoder(1);
const prior = tinyPrior(2);
const items: SynthesisItem[] = [{ neuron: 1, seed: 3 }, { neuron: 2, seed: 4 }];

type Run = (settings: { steps: number; resume?: SynthesisCheckpoint }, onProgress?: ProgressCallback) => Promise<SynthesisResult>;

/** Runs to `stopAt`, keeps that step's checkpoint, and resumes from it in a second call. */
async function interrupted(run: Run, steps: number, stopAt: number) {
  let saved: SynthesisCheckpoint | undefined;
  const resumedSteps: number[] = [];
  await run({ steps }, (e) => {
    if (e.step === stopAt) {
      saved = e.checkpoint!();
      throw new Error('the worker died');
    }
  }).catch((e) => expect((e as Error).message).toBe('the worker died'));
  // a checkpoint survives a round trip through plain arrays (a database row)
  const stored = JSON.parse(JSON.stringify({ ...saved!, x: [...saved!.x], optimizer: saved!.optimizer && { step: saved!.optimizer.step, m: [...saved!.optimizer.m], v: [...saved!.optimizer.v] } }));
  const resume: SynthesisCheckpoint = { ...stored, x: Float32Array.from(stored.x), optimizer: stored.optimizer && { step: stored.optimizer.step, m: Float32Array.from(stored.optimizer.m), v: Float32Array.from(stored.optimizer.v) } };
  const result = await run({ steps, resume }, (e) => void resumedSteps.push(e.step));
  return { result, resumedSteps, checkpoint: saved! };
}

const METHODS: [string, Run, number][] = [
  ['GA (AdamW)', (s, p) => gaMei(encoder, items, s, p), 8],
  ['GA (SGD)', (s, p) => gaMei(encoder, items, { ...s, optimizer: 'sgd' }, p), 8],
  ['EGG', (s, p) => eggMei(encoder, prior, items, s, p), 6],
  ['EGG-x0', (s, p) => eggX0Mei(encoder, prior, items, s, p), 6],
  ['MENI (the last sample)', (s, p) => meni(encoder, prior, items, { ...s, gradient: 'x0' }, p), 6],
];

describe('checkpoints: a resumed run gives what an uninterrupted one gives', () => {
  for (const [name, run, steps] of METHODS) {
    it(name, async () => {
      const whole = await run({ steps });
      const { result, resumedSteps, checkpoint } = await interrupted(run, steps, 3);
      expect(checkpoint).toMatchObject({ step: 3, steps, images: 2 });
      expect(resumedSteps).toEqual(Array.from({ length: steps - 3 }, (_, i) => i + 4));
      expect([...result.images.data]).toEqual([...whole.images.data]);
      expect([...result.activation]).toEqual([...whole.activation]);
    });
  }

  it('offers no checkpoint at the last step, and refuses one of another run', async () => {
    const seen: boolean[] = [];
    await gaMei(encoder, items, { steps: 3 }, (e) => void seen.push(e.checkpoint !== undefined));
    expect(seen).toEqual([true, true, false]);
    const { checkpoint } = await interrupted((s, p) => gaMei(encoder, items, s, p), 5, 2);
    await expect(gaMei(encoder, items, { steps: 6, resume: checkpoint })).rejects.toThrow('ga: cannot resume from this checkpoint: it has 5 steps, the run 6');
    await expect(eggMei(encoder, prior, items, { steps: 5, resume: checkpoint })).rejects.toThrow('egg: cannot resume from this checkpoint: it is of ga');
    await expect(gaMei(encoder, items.slice(1), { steps: 5, resume: checkpoint })).rejects.toThrow(/it holds 2 images/);
  });

  it('splits per image and joins back (a batch of runs, some of them cancelled)', async () => {
    const { checkpoint } = await interrupted((s, p) => eggX0Mei(encoder, prior, items, s, p), 5, 2);
    const parts = [sliceCheckpoint(checkpoint, 0, 1), sliceCheckpoint(checkpoint, 1, 2)];
    expect(parts[1]).toMatchObject({ images: 1, rngStates: [checkpoint.rngStates![1]] });
    expect(joinCheckpoints(parts)).toEqual(checkpoint);
    // the second image alone, resumed from its share, is what it is in the batch
    const whole = await eggX0Mei(encoder, prior, items, { steps: 5 });
    const alone = await eggX0Mei(encoder, prior, items.slice(1), { steps: 5, resume: parts[1] });
    const n = alone.images.data.length;
    let err = 0;
    for (let i = 0; i < n; i++) err = Math.max(err, Math.abs(alone.images.data[i] - whole.images.data[n + i]));
    expect(err).toBeLessThan(1e-4);
  });
});
