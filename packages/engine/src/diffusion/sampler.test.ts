import { describe, expect, it } from 'vitest';
import { type NdArray, float32, toNumbers } from '../onnx/ndarray.ts';
import { Rng } from '../random.ts';
import type { Denoiser } from './denoiser.ts';
import { ancestralStep, ddimStep, gaussianNoise, predictX0, sampleAncestral, sampleDdim } from './sampler.ts';
import { type DiffusionSchedule, alphasCumprod, ddpmSchedule, linearBetas } from './schedule.ts';

const ABAR = alphasCumprod(linearBetas());

/**
 * The exact denoiser for data x0 ~ N(m, s^2) per pixel: x_t ~ N(sqrt(a) m, a s^2 + 1 - a) with
 * a = abar(t), so E[eps | x_t] = sqrt(1 - a) (x_t - sqrt(a) m) / (a s^2 + 1 - a). With `schedule`
 * it also returns the v that makes the learned-range variance the true variance of
 * q(x_{k-1} | x_k): the posterior variance plus c1^2 Var[x0 | x_k].
 */
function gaussianDenoiser(m: number, s: number, schedule?: DiffusionSchedule): Denoiser & { seen: number[][] } {
  const seen: number[][] = [];
  return {
    seen,
    async predict(x, timesteps) {
      seen.push([...timesteps]);
      const a = ABAR[timesteps[0]];
      const denom = a * s * s + 1 - a;
      const eps = toNumbers(x).map((xi) => (Math.sqrt(1 - a) * (xi - Math.sqrt(a) * m)) / denom);
      if (!schedule) return { eps: float32(x.shape, eps) };
      const k = schedule.timesteps.indexOf(timesteps[0]);
      const variance = schedule.posteriorVariance[k] + schedule.posteriorMeanCoef1[k] ** 2 * ((s * s * (1 - a)) / denom);
      const minLog = schedule.posteriorLogVarianceClipped[k];
      const maxLog = Math.log(schedule.betas[k]);
      const v = (2 * (Math.log(variance) - minLog)) / (maxLog - minLog) - 1;
      return { eps: float32(x.shape, eps), v: float32(x.shape, new Array(x.data.length).fill(k === 0 ? 0 : v)) };
    },
  };
}

function moments(a: NdArray): { mean: number; variance: number } {
  const d = toNumbers(a);
  const mean = d.reduce((s, v) => s + v, 0) / d.length;
  return { mean, variance: d.reduce((s, v) => s + (v - mean) ** 2, 0) / d.length };
}

/**
 * Mean and variance of a sampler's output for Gaussian data, by hand: every step is affine in x,
 * x_{k-1} = A x_k + B + sigma z, so N(0, 1) maps to N(mean, variance) through the recursion.
 */
function exactMoments(schedule: DiffusionSchedule, m: number, s: number, sampler: 'fixed-small' | 'fixed-large' | 'ddim'): { mean: number; variance: number } {
  let mean = 0;
  let variance = 1;
  for (let k = schedule.timesteps.length - 1; k >= 0; k--) {
    const a = schedule.alphasCumprod[k];
    const aPrev = schedule.alphasCumprodPrev[k];
    const g = Math.sqrt(1 - a) / (a * s * s + 1 - a); // eps = g (x - sqrt(a) m)
    const x0Slope = Math.sqrt(1 / a) - Math.sqrt(1 / a - 1) * g;
    const x0Offset = Math.sqrt(1 / a - 1) * g * Math.sqrt(a) * m;
    let A: number;
    let B: number;
    let noise = 0;
    if (sampler === 'ddim') {
      A = Math.sqrt(aPrev) * x0Slope + Math.sqrt(1 - aPrev) * g;
      B = Math.sqrt(aPrev) * x0Offset - Math.sqrt(1 - aPrev) * g * Math.sqrt(a) * m;
    } else {
      A = schedule.posteriorMeanCoef1[k] * x0Slope + schedule.posteriorMeanCoef2[k];
      B = schedule.posteriorMeanCoef1[k] * x0Offset;
      if (k > 0) noise = sampler === 'fixed-small' ? schedule.posteriorVariance[k] : schedule.betas[k];
    }
    mean = A * mean + B;
    variance = A * A * variance + noise;
  }
  return { mean, variance };
}

/** Empirical moments agree with the exact ones within sampling error (4 standard errors). */
function expectMoments(out: NdArray, expected: { mean: number; variance: number }): void {
  const got = moments(out);
  const n = out.data.length;
  expect(Math.abs(got.mean - expected.mean)).toBeLessThan(4 * Math.sqrt(expected.variance / n) + 1e-4);
  expect(Math.abs(got.variance / expected.variance - 1)).toBeLessThan(4 * Math.sqrt(2 / n));
}

const PIXELS = [4, 1, 64, 64]; // 16384 independent pixels

describe('one ancestral step by hand', () => {
  const schedule = ddpmSchedule(10);
  const k = 4;
  const x = float32([1, 1, 1, 3], [0.5, -1.2, 2.0]);
  const eps = float32([1, 1, 1, 3], [0.1, 0.3, -0.7]);
  const z = [0.2, -0.4, 1.1];
  // the quantities from their definitions: abar of the original timesteps s_k, s_{k-1}
  const s = schedule.timesteps; // [0, 111, 222, 333, 444, ...]
  const abar = ABAR[s[k]];
  const abarPrev = ABAR[s[k - 1]];
  const beta = 1 - abar / abarPrev;
  const c1 = (beta * Math.sqrt(abarPrev)) / (1 - abar);
  const c2 = ((1 - abarPrev) * Math.sqrt(1 - beta)) / (1 - abar);
  const x0 = [0.5, -1.2, 2.0].map((xi, i) => Math.sqrt(1 / abar) * xi - Math.sqrt(1 / abar - 1) * [0.1, 0.3, -0.7][i]);
  const mu = x0.map((x0i, i) => c1 * x0i + c2 * [0.5, -1.2, 2.0][i]);
  const close = (got: NdArray | Float64Array, expected: number[]) => Array.from(got instanceof Float64Array ? got : toNumbers(got)).forEach((v, i) => expect(v).toBeCloseTo(expected[i], 5));

  it('predicts x0 without clipping, and clips on request', () => {
    expect(s.slice(0, 5)).toEqual([0, 111, 222, 333, 444]);
    close(predictX0(schedule, k, x, eps), x0);
    expect(Math.max(...predictX0(schedule, k, x, eps, { clipDenoised: true }).map(Math.abs))).toBeLessThanOrEqual(1);
  });

  it('adds sigma z to the posterior mean for each variance choice', () => {
    const posteriorVariance = (beta * (1 - abarPrev)) / (1 - abar);
    const small = ancestralStep(schedule, k, x, { eps }, z, { variance: 'fixed-small' });
    close(small.x0, x0);
    close(small.x, mu.map((m, i) => m + Math.sqrt(posteriorVariance) * z[i]));
    close(ancestralStep(schedule, k, x, { eps }, z).x, mu.map((m, i) => m + Math.sqrt(beta) * z[i])); // fixed large without v
    const v = float32([1, 1, 1, 3], [-0.5, 0, 0.8]);
    const learned = [-0.5, 0, 0.8].map((vi) => {
      const f = (vi + 1) / 2;
      return Math.exp(0.5 * (f * Math.log(beta) + (1 - f) * Math.log(posteriorVariance)));
    });
    close(ancestralStep(schedule, k, x, { eps, v }, z).x, mu.map((m, i) => m + learned[i] * z[i]));
  });

  it('adds no noise at k = 0, where the mean is x0', () => {
    const last = ancestralStep(schedule, 0, x, { eps }, undefined);
    close(last.x, Array.from(toNumbers(last.x0)));
    expect(schedule.posteriorMeanCoef1[0]).toBeCloseTo(1, 12);
    expect(schedule.posteriorMeanCoef2[0]).toBe(0);
  });

  it('DDIM: eta = 0 moves along the predicted noise, eta = 1 is ancestral with fixed-small variance', () => {
    close(ddimStep(schedule, k, x, { eps }, undefined).x, x0.map((x0i, i) => Math.sqrt(abarPrev) * x0i + Math.sqrt(1 - abarPrev) * [0.1, 0.3, -0.7][i]));
    close(ddimStep(schedule, k, x, { eps }, z, { eta: 1 }).x, Array.from(toNumbers(ancestralStep(schedule, k, x, { eps }, z, { variance: 'fixed-small' }).x)));
  });

  it('names what is missing', () => {
    expect(() => ancestralStep(schedule, k, x, { eps }, undefined)).toThrow(/step 4 needs 3 noise values/);
    expect(() => ancestralStep(schedule, k, x, { eps }, z, { variance: 'learned-range' })).toThrow(/needs the variance channels v/);
    expect(() => ancestralStep(schedule, k, x, { eps: float32([3], [0, 0, 0]) }, z)).toThrow(/eps has shape \[3\], x_t has \[1,1,1,3\]/);
  });
});

describe('sampling Gaussian data with its exact denoiser', () => {
  const m = 0.3;
  const s = 0.5;

  it('learned range with the true variance gives N(m, s^2) in K = 100 steps', async () => {
    const schedule = ddpmSchedule(100);
    const rng = new Rng(11);
    const out = await sampleAncestral(gaussianDenoiser(m, s, schedule), gaussianNoise(PIXELS, rng), schedule, { rng });
    const got = moments(out);
    const n = out.data.length;
    expect(Math.abs(got.mean - m)).toBeLessThan(4 * (s / Math.sqrt(n)) + 1e-3);
    expect(Math.abs(got.variance / (s * s) - 1)).toBeLessThan(0.05);
  });

  it('fixed variances give the moments of the affine recursion: fixed-large near the data, fixed-small narrower', async () => {
    const schedule = ddpmSchedule(100);
    const spread: Record<string, number> = {};
    for (const variance of ['fixed-small', 'fixed-large'] as const) {
      const rng = new Rng(12);
      const out = await sampleAncestral(gaussianDenoiser(m, s), gaussianNoise(PIXELS, rng), schedule, { rng, variance });
      const expected = exactMoments(schedule, m, s, variance);
      expectMoments(out, expected);
      expect(Math.abs(expected.mean - m)).toBeLessThan(1e-4);
      spread[variance] = expected.variance / (s * s);
    }
    // without Var[x0 | x_t] in the step variance, fixed-small loses spread at K = 100 (0.88 of s^2)
    expect(spread['fixed-small']).toBeGreaterThan(0.85);
    expect(spread['fixed-small']).toBeLessThan(0.9);
    expect(Math.abs(spread['fixed-large'] - 1)).toBeLessThan(0.05);
  });

  it('DDIM (eta = 0) is deterministic and gives the moments of its affine recursion, near the data', async () => {
    const schedule = ddpmSchedule(250);
    const xT = gaussianNoise(PIXELS, new Rng(13));
    const a = await sampleDdim(gaussianDenoiser(m, s), xT, schedule);
    const b = await sampleDdim(gaussianDenoiser(m, s), xT, schedule, { seed: 99 });
    expect(Array.from(a.data as Float32Array)).toEqual(Array.from(b.data as Float32Array));
    const expected = exactMoments(schedule, m, s, 'ddim');
    expectMoments(a, expected);
    expect(Math.abs(expected.mean - m)).toBeLessThan(0.002);
    expect(Math.abs(expected.variance / (s * s) - 1)).toBeLessThan(0.05);
  });
});

describe('the sampling loop', () => {
  it('feeds the original timesteps, reports every step and is reproducible by seed', async () => {
    const schedule = ddpmSchedule(5);
    const denoiser = gaussianDenoiser(0, 1);
    const events: { k: number; t: number; shape: readonly number[] }[] = [];
    const xT = gaussianNoise([2, 1, 4, 4], new Rng(1));
    const a = await sampleAncestral(denoiser, xT, schedule, { seed: 3 }, ({ k, t, x, x0 }) => {
      expect(x0.shape).toEqual(x.shape);
      events.push({ k, t, shape: x.shape });
    });
    expect(events.map((e) => [e.k, e.t])).toEqual([
      [4, 999],
      [3, 749],
      [2, 500],
      [1, 250],
      [0, 0],
    ]);
    expect(denoiser.seen).toEqual([[999, 999], [749, 749], [500, 500], [250, 250], [0, 0]]);
    const b = await sampleAncestral(gaussianDenoiser(0, 1), xT, schedule, { seed: 3 });
    const c = await sampleAncestral(gaussianDenoiser(0, 1), xT, schedule, { seed: 4 });
    expect(Array.from(b.data as Float32Array)).toEqual(Array.from(a.data as Float32Array));
    expect(Array.from(c.data as Float32Array)).not.toEqual(Array.from(a.data as Float32Array));
  });
});
