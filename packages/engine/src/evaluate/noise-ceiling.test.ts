import { describe, expect, it } from 'vitest';
import { Rng } from '../random.ts';
import { noiseCeiling } from './noise-ceiling.ts';

describe('noise ceiling', () => {
  it('recovers the fraction of explainable variance of a neuron with known signal and noise', () => {
    // signal variance 4, noise variance 1 per trial: FEV = 4 / 5
    const rng = new Rng(3);
    const [images, repeats] = [2000, 6];
    const signal = Array.from({ length: images }, () => 2 * rng.normal());
    const raw = new Float32Array(images * repeats);
    signal.forEach((s, i) => {
      for (let r = 0; r < repeats; r++) raw[i * repeats + r] = r === 5 && i % 3 === 0 ? NaN : s + rng.normal();
    });
    const columns = Array.from({ length: images }, (_, i) => i);
    const [c] = noiseCeiling({ shape: [1, images, repeats], data: raw }, columns);
    expect(c.fev).toBeCloseTo(0.8, 1);
    // a model that predicts the signal exactly explains all explainable variance
    const [perfect] = noiseCeiling({ shape: [1, images, repeats], data: raw }, columns, { data: Float32Array.from(signal), neurons: [0] });
    expect(perfect.feve!).toBeCloseTo(1, 1);
    // predicting the mean explains none of it
    const [flat] = noiseCeiling({ shape: [1, images, repeats], data: raw }, columns, { data: new Float32Array(images), neurons: [0] });
    expect(flat.feve!).toBeLessThan(0.05);
  });
});
