import { describe, expect, it } from 'vitest';
import { SMALL_UNET, type UNetConfig, unetGraph } from '../models/unet.ts';
import { toNumbers } from '../onnx/ndarray.ts';
import { Rng } from '../random.ts';
import { createSession } from '../runtime/session.ts';
import { sessionDenoiser } from './denoiser.ts';
import { type StepEvent, gaussianNoise, sampleAncestral, sampleDdim } from './sampler.ts';
import { ddpmSchedule } from './schedule.ts';

/** A 16x16 grayscale UNet with random weights, ADM's settings otherwise (learned sigma, FiLM, attention at 8x8). */
const TINY_PRIOR: UNetConfig = { ...SMALL_UNET, imageSize: 16, modelChannels: 16, channelMult: [1, 2], attentionResolutions: [8], numHeadChannels: 16, normGroups: 4 };

describe('sampling with a UNet on onnxruntime', () => {
  it('runs ancestral sampling end to end with learned-range variance, one callback per step', async () => {
    const session = await createSession(unetGraph(TINY_PRIOR, { seed: 2 }).graph);
    try {
      const schedule = ddpmSchedule(5);
      const events: StepEvent[] = [];
      const rng = new Rng(7);
      const xT = gaussianNoise([2, 1, 16, 16], rng);
      const sample = await sampleAncestral(sessionDenoiser(session), xT, schedule, { rng }, (e) => void events.push(e));
      expect(sample.shape).toEqual([2, 1, 16, 16]);
      expect(sample.dtype).toBe('float32');
      expect(toNumbers(sample).every(Number.isFinite)).toBe(true);
      expect(events.map((e) => [e.k, e.t])).toEqual([...schedule.timesteps.entries()].reverse()); // k = 4..0 at t = 999..0
      expect(events[0].x).toBe(xT);
      for (const e of events) expect(toNumbers(e.x0).every(Number.isFinite)).toBe(true);
    } finally {
      await session.release();
    }
  });

  it('runs DDIM over a UNet without learned sigma (eps only)', async () => {
    const session = await createSession(unetGraph({ ...TINY_PRIOR, learnSigma: false }, { seed: 3 }).graph);
    try {
      const denoiser = sessionDenoiser(session);
      const xT = gaussianNoise([1, 1, 16, 16], new Rng(8));
      expect((await denoiser.predict(xT, [999])).v).toBeUndefined();
      let steps = 0;
      const sample = await sampleDdim(denoiser, xT, ddpmSchedule(5), { eta: 0.5, seed: 1 }, () => void steps++);
      expect(steps).toBe(5);
      expect(toNumbers(sample).every(Number.isFinite)).toBe(true);
      await expect(denoiser.predict(xT, [999, 999])).rejects.toThrow(/2 timesteps for a batch of 1/);
    } finally {
      await session.release();
    }
  });
});
