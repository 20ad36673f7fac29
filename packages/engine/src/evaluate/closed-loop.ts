/**
 * Statistics of a closed-loop experiment: recorded responses to synthesized stimuli compared
 * across methods (paired over neurons), against the models' predictions, and against the noise of
 * the recording itself.
 *
 * - Wilcoxon signed-rank test (zero differences dropped, tied magnitudes given their average rank,
 *   as scipy.stats.wilcoxon's defaults): exact two-sided p by enumerating the null distribution of
 *   W+ for up to EXACT_MAX_N non-zero differences (ties included: ranks are counted in halves), the
 *   normal approximation with the tie correction of the variance (no continuity correction) above.
 * - Matched-pairs rank-biserial correlation (W+ - W-) / (W+ + W-) as the effect size (Kerby 2014).
 * - Pearson r, and split-half reliability (odd against even repeats, Spearman-Brown corrected);
 *   FEV comes from noise-ceiling.ts.
 */
import { noiseCeiling } from './noise-ceiling.ts';

/** Up to this many non-zero differences the p value is exact. */
export const EXACT_MAX_N = 50;

export interface SignedRankTest {
  /** non-zero differences (the ones ranked) */
  n: number;
  /** sum of the ranks of the positive differences */
  wPlus: number;
  /** sum of the ranks of the negative differences */
  wMinus: number;
  /** two-sided; 1 when there is no non-zero difference */
  pValue: number;
  exact: boolean;
  /** (W+ - W-) / (W+ + W-); 0 when there is no non-zero difference */
  effectSize: number;
  /** the normal approximation's z (0 when exact) */
  z: number;
}

/** Average ranks (1-based) of `values`, ties sharing the mean of their ranks. */
export function averageRanks(values: readonly number[]): number[] {
  const order = values.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const ranks = new Array<number>(values.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && order[j + 1][0] === order[i][0]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k][1]] = rank;
    i = j + 1;
  }
  return ranks;
}

/** Standard normal upper tail, P(Z > z), from erfc (Numerical Recipes' Chebyshev fit, |error| < 1.2e-7). */
export function normalSurvival(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * x);
  const erfc =
    t *
    Math.exp(-x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return z >= 0 ? erfc / 2 : 1 - erfc / 2;
}

/** Wilcoxon signed-rank test of paired differences (a - b) against a median of zero. */
export function wilcoxonSignedRank(differences: readonly number[]): SignedRankTest {
  const nonZero = differences.filter((d) => d !== 0 && Number.isFinite(d));
  const n = nonZero.length;
  if (n === 0) return { n: 0, wPlus: 0, wMinus: 0, pValue: 1, exact: true, effectSize: 0, z: 0 };
  const ranks = averageRanks(nonZero.map(Math.abs));
  let wPlus = 0;
  nonZero.forEach((d, i) => (wPlus += d > 0 ? ranks[i] : 0));
  const total = (n * (n + 1)) / 2;
  const wMinus = total - wPlus;
  const effectSize = (wPlus - wMinus) / total;
  if (n <= EXACT_MAX_N) {
    // the null distribution of 2*W+: each rank (doubled: an integer even when tied) is in or out with probability 1/2
    const doubled = ranks.map((r) => Math.round(2 * r));
    const max = doubled.reduce((a, b) => a + b, 0);
    let counts = new Float64Array(max + 1);
    counts[0] = 1;
    for (const r of doubled) {
      const next = new Float64Array(max + 1);
      for (let s = 0; s <= max; s++) {
        if (counts[s] === 0) continue;
        next[s] += counts[s];
        next[s + r] += counts[s];
      }
      counts = next;
    }
    const all = 2 ** n;
    const w = Math.round(2 * wPlus);
    let below = 0;
    let above = 0;
    for (let s = 0; s <= max; s++) {
      if (s <= w) below += counts[s];
      if (s >= w) above += counts[s];
    }
    return { n, wPlus, wMinus, pValue: Math.min(1, (2 * Math.min(below, above)) / all), exact: true, effectSize, z: 0 };
  }
  const ties = new Map<number, number>();
  for (const r of ranks) ties.set(r, (ties.get(r) ?? 0) + 1);
  let tieTerm = 0;
  for (const t of ties.values()) tieTerm += t ** 3 - t;
  const variance = (n * (n + 1) * (2 * n + 1)) / 24 - tieTerm / 48;
  const z = variance > 0 ? (wPlus - total / 2) / Math.sqrt(variance) : 0;
  return { n, wPlus, wMinus, pValue: Math.min(1, 2 * normalSurvival(Math.abs(z))), exact: false, effectSize, z };
}

/** Pearson r of paired values; null with fewer than two pairs or no variance. */
export function pearson(x: readonly number[], y: readonly number[]): number | null {
  const n = x.length;
  if (n !== y.length) throw new Error(`pearson: ${n} and ${y.length} values`);
  if (n < 2) return null;
  const mx = x.reduce((a, b) => a + b, 0) / n;
  const my = y.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
    syy += (y[i] - my) ** 2;
  }
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : null;
}

/** Mean, standard error (sd with n - 1 over sqrt n; null with one value) and count of the finite values. */
export function meanAndSem(values: readonly number[]): { mean: number; sem: number | null; n: number } {
  const v = values.filter(Number.isFinite);
  const n = v.length;
  const mean = v.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean, sem: null, n };
  const variance = v.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1);
  return { mean, sem: Math.sqrt(variance / n), n };
}

/**
 * Split-half reliability of one neuron: per stimulus with two or more repeats, the mean of its odd
 * repeats (1st, 3rd, ...) and of its even ones; their Pearson r over stimuli, Spearman-Brown
 * corrected to the full number of repeats (2r / (1 + r)). Null with fewer than three such stimuli.
 */
export function splitHalfReliability(repeatsPerStimulus: readonly (readonly number[])[]): number | null {
  const odd: number[] = [];
  const even: number[] = [];
  for (const repeats of repeatsPerStimulus) {
    if (repeats.length < 2) continue;
    const half = (parity: number) => {
      const v = repeats.filter((_, i) => i % 2 === parity);
      return v.reduce((a, b) => a + b, 0) / v.length;
    };
    odd.push(half(0));
    even.push(half(1));
  }
  if (odd.length < 3) return null;
  const r = pearson(odd, even);
  return r === null ? null : (2 * r) / (1 + r);
}

/** FEV of one neuron from its repeats per stimulus (noise-ceiling.ts); null with fewer than two stimuli of two or more repeats. */
export function fractionExplainableVariance(repeatsPerStimulus: readonly (readonly number[])[]): number | null {
  if (repeatsPerStimulus.filter((r) => r.length > 1).length < 2) return null;
  const repeats = Math.max(...repeatsPerStimulus.map((r) => r.length));
  const images = repeatsPerStimulus.length;
  const data = new Float64Array(images * repeats).fill(NaN);
  repeatsPerStimulus.forEach((r, i) => r.forEach((v, k) => (data[i * repeats + k] = v)));
  const [{ fev }] = noiseCeiling({ shape: [1, images, repeats], data }, Array.from({ length: images }, (_, i) => i));
  return Number.isFinite(fev) ? fev : null;
}
