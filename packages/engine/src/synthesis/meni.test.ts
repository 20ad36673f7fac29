import { describe, expect, it } from 'vitest';
import { eggMei } from './egg.ts';
import { MENI_DEFAULTS, meni } from './meni.ts';
import type { SynthesisProgress } from './progress.ts';
import { tinyEncoder, tinyPrior } from './testing/tiny-models.ts';

describe('MENIs', () => {
  const encoder = tinyEncoder(1);
  const prior = tinyPrior(2);
  const items = [{ neuron: 1, seed: 5 }, { neuron: 2, seed: 6 }];

  it('uses the paper\'s weak guidance (2 at 3x256x256, size-scaled) and fewer steps by default', () => {
    expect(MENI_DEFAULTS).toEqual({ steps: 50, scale: 2, norm: 25 });
  });

  it('keeps its defaults when a caller passes settings left undefined (as synthesize and the service do)', async () => {
    const steps: number[] = [];
    await meni(encoder, prior, items, { steps: undefined, scale: undefined, norm: undefined }, (e) => void steps.push(e.steps));
    expect(steps).toHaveLength(MENI_DEFAULTS.steps);
    expect(steps[0]).toBe(MENI_DEFAULTS.steps);
  });

  it('returns the last sample (the last x0 minus the guidance step), scored by the encoder', async () => {
    const events: SynthesisProgress[] = [];
    const result = await meni(encoder, prior, items, { steps: 5 }, (e) => void events.push(e));
    expect(events.map((e) => e.method)).toEqual(new Array(5).fill('meni'));
    const lastX0 = events[4].preview.data;
    // at k = 0 the posterior mean is x0 itself, so the sample differs from it by lambda g / ||g|| per image,
    // lambda MENI's fixed 2 (not scaled by the prior's size)
    const lambda = MENI_DEFAULTS.scale;
    expect(lambda).toBe(2);
    for (let i = 0; i < 2; i++) {
      let d2 = 0;
      for (let k = i * 64; k < (i + 1) * 64; k++) d2 += (result.images.data[k] - lastX0[k]) ** 2;
      expect(Math.sqrt(d2)).toBeCloseTo(lambda, 3);
    }
    expect(result.method).toBe('meni');
    expect(result.encoderImages.shape).toEqual([2, 1, 12, 12]);
    expect(Array.from(result.activation)).not.toEqual(Array.from(events[4].activation));
    // the same sampler as EGG: identical x0s up to the last step, given the same settings
    const egg = await eggMei(encoder, prior, items, { steps: 5, scale: lambda });
    expect(Array.from(egg.images.data)).toEqual(Array.from(lastX0));
  });
});
