/** The simulated rig's noise: Poisson counts with the right mean and variance, scaled back to rates. */
import { describe, expect, it } from 'vitest';
import { float32 } from '../onnx/ndarray.ts';
import { Rng } from '../random.ts';
import { poisson, recordFromRates } from './simulate-recording.ts';

const moments = (v: readonly number[]) => {
  const m = v.reduce((a, b) => a + b, 0) / v.length;
  return { mean: m, variance: v.reduce((s, x) => s + (x - m) ** 2, 0) / (v.length - 1) };
};

describe('simulated recordings', () => {
  it('draws Poisson counts: mean = variance = the rate, below and above the normal switch at 30', () => {
    const rng = new Rng(5);
    for (const rate of [0.5, 3, 80]) {
      const { mean, variance } = moments(Array.from({ length: 40_000 }, () => poisson(rng, rate)));
      // standard error of the mean sqrt(rate / 40000); of the variance about rate * sqrt(2 / 40000)
      expect(Math.abs(mean - rate)).toBeLessThan(5 * Math.sqrt(rate / 40_000));
      expect(Math.abs(variance - rate)).toBeLessThan(6 * rate * Math.sqrt(2 / 40_000) + 0.01);
    }
    expect(poisson(rng, 0)).toBe(0);
    expect(poisson(rng, -2)).toBe(0);
    expect(poisson(rng, NaN)).toBe(0);
  });

  it('records [neurons, stimuli, repeats] as counts / scale: unbiased, variance rate / scale, reproducible by seed', () => {
    const rates = float32([2, 3], new Float32Array([1, 2, 4, 0.5, -1, 8]));
    const a = recordFromRates(rates, { repeats: 4000, rng: new Rng(1), scale: 10 });
    expect(a.shape).toEqual([2, 3, 4000]);
    for (let i = 0; i < 6; i++) {
      const rate = Math.max(0, rates.data[i]);
      const values = Array.from(a.data.subarray(i * 4000, (i + 1) * 4000));
      const { mean, variance } = moments(values);
      expect(Math.abs(mean - rate)).toBeLessThan(5 * Math.sqrt(rate / 10 / 4000) + 1e-9);
      expect(Math.abs(variance - rate / 10)).toBeLessThan(0.1 * (rate / 10) + 1e-9);
      // every value is a count divided by the scale
      expect(values.every((v) => Math.abs(v * 10 - Math.round(v * 10)) < 1e-4)).toBe(true);
    }
    expect(recordFromRates(rates, { repeats: 5, rng: new Rng(1), scale: 10 }).data).toEqual(recordFromRates(rates, { repeats: 5, rng: new Rng(1), scale: 10 }).data);
    expect(() => recordFromRates(rates, { repeats: 0, rng: new Rng(1) })).toThrow(/repeats/);
    expect(() => recordFromRates(rates, { repeats: 2, rng: new Rng(1), scale: 0 })).toThrow(/scale/);
  });
});
