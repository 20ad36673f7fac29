import { describe, expect, it } from 'vitest';
import { evaluate } from '../onnx/evaluate.ts';
import { float32 } from '../onnx/ndarray.ts';
import { Rng } from '../random.ts';
import { imageNorms } from './image-norm.ts';
import type { SynthesisProgress } from './progress.ts';
import { RECONSTRUCTION_DEFAULTS, reconstruct } from './reconstruction.ts';
import { tinyEncoder, tinyPrior } from './testing/tiny-models.ts';

describe('reconstructions from target responses', () => {
  const encoder = tinyEncoder(1);
  const prior = tinyPrior(2);
  const targets = float32([2, 1, 12, 12], new Rng(4).normals(2 * 144, 1.2));

  it('defaults to K = 1000, lambda = 2 and clipping to [-1.7, 1.9]', () => {
    expect(RECONSTRUCTION_DEFAULTS).toEqual({ steps: 1000, scale: 2, clip: [-1.7, 1.9], norm: 25 });
  });

  it('scores each reconstruction by its mean squared difference to the targets\' responses, clipped', async () => {
    const events: SynthesisProgress[] = [];
    const result = await reconstruct(encoder, prior, { images: targets }, { steps: 5, seeds: [1, 2] }, (e) => void events.push(e));
    expect(events.map((e) => e.method)).toEqual(new Array(5).fill('recon'));
    for (const v of result.encoderImages.data) {
      expect(v).toBeGreaterThanOrEqual(Math.fround(-1.7));
      expect(v).toBeLessThanOrEqual(Math.fround(1.9));
    }
    const want = evaluate(encoder.graph, { image: targets }).rates.data;
    const got = evaluate(encoder.graph, { image: result.encoderImages }).rates.data;
    for (let i = 0; i < 2; i++) {
      let mse = 0;
      for (let n = 0; n < 3; n++) mse += (got[i * 3 + n] - want[i * 3 + n]) ** 2 / 3;
      expect(result.energy[i]).toBeCloseTo(mse, 4);
    }
  });

  it('moves the responses toward the targets: lower energy than unguided sampling from the same seeds', async () => {
    const rates = float32([3, 3], [0.1, 9, 0.5, 1, 3, 5, 0.5, 0.5, 0.5]);
    const guided = await reconstruct(encoder, prior, { rates }, { steps: 5, seeds: [1, 2, 3], scale: 10 });
    const unguided = await reconstruct(encoder, prior, { rates }, { steps: 5, seeds: [1, 2, 3], scale: 0 });
    for (let i = 0; i < 3; i++) expect(guided.energy[i]).toBeLessThan(unguided.energy[i]);
  });

  it('takes c from the target images, or from the settings when only rates are given', async () => {
    const noClip = { steps: 2, clip: null, seeds: [3, 3] };
    const fromImages = await reconstruct(encoder, prior, { images: targets }, noClip);
    const norms = imageNorms(targets.data, 2);
    imageNorms(fromImages.encoderImages.data, 2).forEach((n, i) => expect(n).toBeCloseTo(norms[i], 3));
    const fromRates = await reconstruct(encoder, prior, { rates: float32([2, 3], [1, 2, 3, 1, 1, 1]) }, { ...noClip, norm: 30 });
    for (const n of imageNorms(fromRates.encoderImages.data, 2)) expect(n).toBeCloseTo(30, 3);
    await expect(reconstruct(encoder, prior, {})).rejects.toThrow(/give target rates or target images/);
  });
});
