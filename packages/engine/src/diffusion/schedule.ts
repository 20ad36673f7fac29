/**
 * The DDPM noise schedule as data: linear betas over T steps, their respacing to
 * K sampling steps, and every per-step coefficient the samplers need, in float64 on the host.
 * Names and formulas follow ADM (openai/guided-diffusion, gaussian_diffusion.py and respace.py),
 * so a respaced schedule here equals the one an ADM checkpoint was sampled with.
 */

/** How the reverse process's variance is chosen at each step. */
export type VarianceKind =
  /** ADM's learned range: the network's v in [-1, 1] interpolates log variance between the bounds */
  | 'learned-range'
  /** the posterior variance of q(x_{t-1} | x_t, x_0) (ADM's FIXED_SMALL) */
  | 'fixed-small'
  /** beta'_k, its upper bound (ADM's FIXED_LARGE) */
  | 'fixed-large';

export interface DiffusionSchedule {
  /** T, the length of the process the network was trained on */
  readonly trainSteps: number;
  /** s_k: the original timestep index of respaced step k (what the network receives) */
  readonly timesteps: readonly number[];
  /** beta'_k = 1 - abar_k / abar_{k-1} */
  readonly betas: readonly number[];
  /** abar_k = abar(s_k) */
  readonly alphasCumprod: readonly number[];
  /** abar_{k-1}, with abar_{-1} = 1 */
  readonly alphasCumprodPrev: readonly number[];
  /** c1 = beta'_k sqrt(abar_{k-1}) / (1 - abar_k): posterior mean coefficient of x_0 */
  readonly posteriorMeanCoef1: readonly number[];
  /** c2 = (1 - abar_{k-1}) sqrt(1 - beta'_k) / (1 - abar_k): posterior mean coefficient of x_t */
  readonly posteriorMeanCoef2: readonly number[];
  /** beta'_k (1 - abar_{k-1}) / (1 - abar_k); 0 at k = 0 */
  readonly posteriorVariance: readonly number[];
  /** log of the posterior variance with step 0's zero replaced by step 1's value */
  readonly posteriorLogVarianceClipped: readonly number[];
}

/**
 * ADM's "linear" schedule: T betas evenly spaced from 1e-4 to 0.02, both scaled by 1000 / T so a
 * shorter process keeps the same total noise (scale 1 at T = 1000). Spaced as numpy's linspace.
 */
export function linearBetas(trainSteps = 1000, start = 1e-4, end = 0.02): number[] {
  const scale = 1000 / trainSteps;
  const lo = scale * start;
  const hi = scale * end;
  if (trainSteps === 1) return [lo];
  const step = (hi - lo) / (trainSteps - 1);
  return Array.from({ length: trainSteps }, (_, i) => (i === trainSteps - 1 ? hi : lo + i * step));
}

/** abar_t = prod_{i <= t} (1 - beta_i). */
export function alphasCumprod(betas: readonly number[]): number[] {
  let acc = 1;
  return betas.map((b) => (acc *= 1 - b));
}

/** Python's round(): to nearest, ties to even (what ADM's respacing uses). */
function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const frac = x - f;
  if (frac > 0.5) return f + 1;
  if (frac < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * The K original timesteps a respaced sampler visits: a stride of (T-1)/(K-1)
 * accumulated from 0, each step rounded; K = 100 of T = 1000 gives 0, 10, ..., 50, 61, ..., 999.
 * The stride is accumulated (not multiplied) as in ADM's space_timesteps, so rounding agrees.
 */
export function respacedTimesteps(trainSteps: number, steps: number): number[] {
  if (!Number.isInteger(steps) || steps < 2 || steps > trainSteps) {
    throw new Error(`respacing needs between 2 and ${trainSteps} steps, got ${steps}`);
  }
  const stride = (trainSteps - 1) / (steps - 1);
  const taken: number[] = [];
  let position = 0;
  for (let k = 0; k < steps; k++) {
    taken.push(roundHalfEven(position));
    position += stride;
  }
  return taken;
}

/**
 * The schedule of a sampler visiting `timesteps` (increasing original indices) of a process with
 * the given betas: beta'_k = 1 - abar(s_k) / abar(s_{k-1}), abar(s_{-1}) = 1, and the posterior
 * q(x_{k-1} | x_k, x_0) of the respaced process.
 */
export function respaceSchedule(baseBetas: readonly number[], timesteps: readonly number[]): DiffusionSchedule {
  const T = baseBetas.length;
  if (timesteps.length < 2) throw new Error(`a schedule needs at least 2 steps, got ${timesteps.length}`);
  timesteps.forEach((s, k) => {
    if (!Number.isInteger(s) || s < 0 || s >= T) throw new Error(`timestep ${s} is not an index of a ${T}-step process`);
    if (k > 0 && s <= timesteps[k - 1]) throw new Error(`timesteps must increase: ${timesteps[k - 1]} then ${s}`);
  });
  const baseCumprod = alphasCumprod(baseBetas);
  const abar = timesteps.map((s) => baseCumprod[s]);
  const abarPrev = abar.map((_, k) => (k === 0 ? 1 : abar[k - 1]));
  const betas = abar.map((a, k) => 1 - a / abarPrev[k]);
  const posteriorVariance = betas.map((b, k) => (b * (1 - abarPrev[k])) / (1 - abar[k]));
  return {
    trainSteps: T,
    timesteps: [...timesteps],
    betas,
    alphasCumprod: abar,
    alphasCumprodPrev: abarPrev,
    posteriorMeanCoef1: betas.map((b, k) => (b * Math.sqrt(abarPrev[k])) / (1 - abar[k])),
    posteriorMeanCoef2: betas.map((b, k) => ((1 - abarPrev[k]) * Math.sqrt(1 - b)) / (1 - abar[k])),
    posteriorVariance,
    // the posterior variance is 0 at k = 0; ADM clips its log there to step 1's value
    posteriorLogVarianceClipped: posteriorVariance.map((_, k) => Math.log(posteriorVariance[k === 0 ? 1 : k])),
  };
}

/** The DDPM prior's schedule: linear betas over T, respaced to K steps. */
export function ddpmSchedule(steps: number, trainSteps = 1000): DiffusionSchedule {
  return respaceSchedule(linearBetas(trainSteps), respacedTimesteps(trainSteps, steps));
}

/**
 * Log variance of a fixed choice at step k. Fixed-large uses beta'_k except at k = 0, where ADM
 * takes the posterior variance of step 1 (a better decoder likelihood; no noise is added there).
 */
export function fixedLogVariance(schedule: DiffusionSchedule, k: number, kind: Exclude<VarianceKind, 'learned-range'>): number {
  if (kind === 'fixed-small') return schedule.posteriorLogVarianceClipped[k];
  return Math.log(k === 0 ? schedule.posteriorVariance[1] : schedule.betas[k]);
}

/**
 * ADM's learned range: log variance = f log(beta'_k) + (1 - f) log(clipped posterior variance),
 * f = (v + 1) / 2, for the network's variance channel v.
 */
export function learnedRangeLogVariance(schedule: DiffusionSchedule, k: number, v: number): number {
  const f = (v + 1) / 2;
  return f * Math.log(schedule.betas[k]) + (1 - f) * schedule.posteriorLogVarianceClipped[k];
}
