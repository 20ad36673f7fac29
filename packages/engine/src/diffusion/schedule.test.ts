import { describe, expect, it } from 'vitest';
import {
  alphasCumprod,
  ddpmSchedule,
  fixedLogVariance,
  learnedRangeLogVariance,
  linearBetas,
  respaceSchedule,
  respacedTimesteps,
} from './schedule.ts';

const relClose = (a: number, b: number, tol = 1e-12) => expect(Math.abs(a - b)).toBeLessThanOrEqual(tol * Math.max(Math.abs(b), 1e-300));

describe('the DDPM schedule', () => {
  it('has linear betas 1e-4..0.02 over T = 1000 and their cumulative product', () => {
    const betas = linearBetas();
    expect(betas).toHaveLength(1000);
    expect(betas[0]).toBe(1e-4);
    expect(betas[999]).toBe(0.02);
    relClose(betas[500] - betas[499], (0.02 - 1e-4) / 999, 1e-9);
    // abar_999 as ADM computes it (numpy cumprod of the same float64 betas)
    relClose(alphasCumprod(betas)[999], 4.035829765375676e-5, 1e-12);
  });

  it('respaces K = 100 steps to 0, 10, ..., 50, 61, ..., 999', () => {
    // ADM's space_timesteps(1000, [100])
    expect(respacedTimesteps(1000, 100)).toEqual([
      0, 10, 20, 30, 40, 50, 61, 71, 81, 91, 101, 111, 121, 131, 141, 151, 161, 172, 182, 192, 202, 212, 222, 232, 242, 252, 262, 272, 283, 293, 303, 313, 323,
      333, 343, 353, 363, 373, 383, 394, 404, 414, 424, 434, 444, 454, 464, 474, 484, 494, 505, 515, 525, 535, 545, 555, 565, 575, 585, 595, 605, 616, 626, 636,
      646, 656, 666, 676, 686, 696, 706, 716, 727, 737, 747, 757, 767, 777, 787, 797, 807, 817, 827, 838, 848, 858, 868, 878, 888, 898, 908, 918, 928, 938, 949,
      959, 969, 979, 989, 999,
    ]);
  });

  it('rounds ties to even like ADM (Python round) and keeps both ends', () => {
    expect(respacedTimesteps(1000, 2)).toEqual([0, 999]);
    expect(respacedTimesteps(1000, 3)).toEqual([0, 500, 999]);
    expect(respacedTimesteps(1000, 5)).toEqual([0, 250, 500, 749, 999]);
    expect(respacedTimesteps(1000, 7)).toEqual([0, 166, 333, 500, 666, 832, 999]);
    expect(respacedTimesteps(1000, 50).slice(0, 8)).toEqual([0, 20, 41, 61, 82, 102, 122, 143]);
  });

  it('is the identity at K = T: the original betas come back', () => {
    expect(respacedTimesteps(1000, 1000)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    const s = ddpmSchedule(1000);
    const betas = linearBetas();
    s.betas.forEach((b, k) => relClose(b, betas[k], 1e-10));
  });

  it('matches ADM SpacedDiffusion(space_timesteps(1000, [100])) coefficient by coefficient', () => {
    const s = ddpmSchedule(100);
    // k: [beta', abar, c1, c2, posterior variance, clipped log posterior variance], printed by guided-diffusion
    const adm: Record<number, number[]> = {
      0: [9.999999999998899e-5, 0.9999, 1.0, 0.0, 0.0, -9.25690308114835],
      1: [0.002093636855839631, 0.997806572507846, 0.9544569760652323, 0.045542997735577774, 9.545047024934424e-5, -9.25690308114835],
      6: [0.013289726572914606, 0.957061103456181, 0.3048176946491671, 0.69513128564939, 0.009300109369106524, -4.677729118773096],
      50: [0.10525807890797834, 0.0739391247214384, 0.032674139792045816, 0.9370233173640983, 0.10426941686284175, -2.260777182765165],
      99: [0.18217953085873884, 4.035829765375676e-5, 0.0012798366376991796, 0.9043261379073441, 0.1821778929430258, -1.7027716355297788],
    };
    for (const [k, expected] of Object.entries(adm).map(([k, v]) => [Number(k), v] as const)) {
      const got = [s.betas[k], s.alphasCumprod[k], s.posteriorMeanCoef1[k], s.posteriorMeanCoef2[k], s.posteriorVariance[k], s.posteriorLogVarianceClipped[k]];
      got.forEach((v, i) => (expected[i] === 0 ? expect(v).toBe(0) : relClose(v, expected[i], 1e-9)));
    }
    expect(s.timesteps[6]).toBe(61);
    expect(s.alphasCumprodPrev[0]).toBe(1);
    expect(s.alphasCumprodPrev[7]).toBe(s.alphasCumprod[6]);
  });

  it('interpolates the learned range between the clipped posterior and beta log variances', () => {
    const s = ddpmSchedule(100);
    const k = 40;
    relClose(learnedRangeLogVariance(s, k, -1), s.posteriorLogVarianceClipped[k]);
    relClose(learnedRangeLogVariance(s, k, 1), Math.log(s.betas[k]));
    relClose(learnedRangeLogVariance(s, k, 0), 0.5 * (Math.log(s.betas[k]) + s.posteriorLogVarianceClipped[k]));
    relClose(fixedLogVariance(s, k, 'fixed-small'), s.posteriorLogVarianceClipped[k]);
    relClose(fixedLogVariance(s, k, 'fixed-large'), Math.log(s.betas[k]));
    // ADM's fixed-large takes step 1's posterior variance at step 0
    relClose(fixedLogVariance(s, 0, 'fixed-large'), Math.log(s.posteriorVariance[1]));
  });

  it('refuses schedules it cannot respace', () => {
    expect(() => respacedTimesteps(1000, 1)).toThrow(/between 2 and 1000 steps, got 1/);
    expect(() => respacedTimesteps(1000, 1001)).toThrow(/between 2 and 1000 steps/);
    expect(() => respaceSchedule(linearBetas(), [0, 5, 5])).toThrow(/timesteps must increase: 5 then 5/);
    expect(() => respaceSchedule(linearBetas(), [0, 1000])).toThrow(/not an index of a 1000-step process/);
  });
});
