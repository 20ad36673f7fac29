/** The closed-loop statistics against values scipy 1.17 gives (scipy.stats.wilcoxon, pearsonr) and hand-computed ones. */
import { describe, expect, it } from 'vitest';
import { averageRanks, fractionExplainableVariance, meanAndSem, normalSurvival, pearson, splitHalfReliability, wilcoxonSignedRank } from './closed-loop.ts';

describe('wilcoxonSignedRank', () => {
  it('is exact for small samples: scipy.stats.wilcoxon(method="exact")', () => {
    // ranks of |d|: 0.5:1 0.7:2 0.9:3 1.2:4 1.5:5 2.0:6 2.2:7 3.1:8; W- = 1 + 4 = 5
    const t = wilcoxonSignedRank([1.5, -0.5, 2.0, 3.1, 0.7, -1.2, 2.2, 0.9]);
    expect(t).toMatchObject({ n: 8, wPlus: 31, wMinus: 5, exact: true });
    expect(t.pValue).toBeCloseTo(0.078125, 12);
    expect(t.effectSize).toBeCloseTo((31 - 5) / 36, 12);
    // all six positive: p = 2 / 2^6
    const all = wilcoxonSignedRank([1, 2, 3, 4, 5, 6]);
    expect(all.pValue).toBeCloseTo(0.03125, 12);
    expect(all.effectSize).toBe(1);
    expect(wilcoxonSignedRank([-1, -2, -3, -4, -5, -6]).effectSize).toBe(-1);
  });

  it('drops zeros and averages tied ranks, still exactly: scipy gives W = 8.5, p = 62/512', () => {
    const t = wilcoxonSignedRank([1, 1, -1, 2, 2, 3, 0, -2, 4, 1]);
    expect(t.n).toBe(9);
    expect(Math.min(t.wPlus, t.wMinus)).toBe(8.5);
    expect(t.pValue).toBeCloseTo(0.12109375, 12);
  });

  it('uses the normal approximation with tie correction above 50 pairs: scipy method="approx"', () => {
    const d = [0.43, 0.17, 0.94, 0.4, -0.24, 0.66, 1.6, 1.25, -0.4, -0.97, -0.32, 0.34, -2.03, 0.08, -0.95, -0.43, -0.24, -0.02, 0.71, 1.34, 0.17, 1.67, -0.37, 0.65, 1.2, 0.39, -0.44, -0.62, -0.16, 0.52, -0.71, 0.09, 0.14, 0.84, 0.51, 0.66, -0.35, 0.17, 1.08, 1.79, -0.96, 1.81, 1.65, 1.08, 0.56, -0.01, 1.76, 2.26, 2.1, 1.62, 0.66, -0.91, 0.3, 0.96, -0.99, 0.7, 0.73, 1.0, -0.88, -0.36];
    const t = wilcoxonSignedRank(d);
    expect(t.exact).toBe(false);
    expect(t.wMinus).toBe(517);
    expect(t.pValue).toBeCloseTo(0.003388998994848434, 6);
  });

  it('answers p = 1 and no effect without a non-zero difference', () => {
    expect(wilcoxonSignedRank([0, 0, 0])).toMatchObject({ n: 0, pValue: 1, effectSize: 0 });
    expect(wilcoxonSignedRank([])).toMatchObject({ n: 0, pValue: 1 });
  });
});

describe('helpers', () => {
  it('ranks ties by their average rank', () => {
    expect(averageRanks([3, 1, 3, 2])).toEqual([3.5, 1, 3.5, 2]);
  });
  it('normal tail', () => {
    expect(normalSurvival(0)).toBeCloseTo(0.5, 7);
    expect(normalSurvival(1.959964)).toBeCloseTo(0.025, 6);
    expect(normalSurvival(-1)).toBeCloseTo(0.8413447, 6);
  });
  it('pearson: scipy.stats.pearsonr', () => {
    expect(pearson([1, 2, 3, 4, 5], [2, 1, 4, 3, 6])).toBeCloseTo(0.8219949365267865, 12);
    expect(pearson([1, 1, 1], [1, 2, 3])).toBeNull();
    expect(pearson([1], [2])).toBeNull();
  });
  it('mean and standard error', () => {
    // sd of 2, 4, 6 = 2, sem = 2 / sqrt 3
    const m = meanAndSem([2, 4, NaN, 6]);
    expect(m).toMatchObject({ mean: 4, n: 3 });
    expect(m.sem).toBeCloseTo(2 / Math.sqrt(3), 12);
    expect(meanAndSem([5])).toEqual({ mean: 5, sem: null, n: 1 });
  });
  it('split-half reliability with the Spearman-Brown correction', () => {
    // odd halves 1, 2, 3; even halves 1, 2, 3 plus an offset: r = 1
    expect(splitHalfReliability([[1, 2], [2, 3], [3, 4], [9]])).toBeCloseTo(1, 12);
    // odd means 1, 2, 3, 4; even means 2, 1, 4, 3: r = 0.6, corrected 1.2 / 1.6 = 0.75
    expect(splitHalfReliability([[1, 2], [2, 1], [3, 4], [4, 3]])).toBeCloseTo(0.75, 12);
    expect(splitHalfReliability([[1, 2], [2, 1]])).toBeNull();
  });
  it('FEV: 1 - noise variance / total variance', () => {
    // stimuli [0, 2] and [10, 12]: noise variance 2 each; total variance of 0, 2, 10, 12 = 104 / 3
    expect(fractionExplainableVariance([[0, 2], [10, 12]])).toBeCloseTo(1 - 2 / (104 / 3), 12);
    expect(fractionExplainableVariance([[0, 2], [10]])).toBeNull();
  });
});
