/**
 * Samplers over a denoiser and a schedule (k-diffusion style: plain functions of the denoiser, the
 * starting noise, the schedule, options and a progress callback). Ancestral sampling is the
 * paper's; DDIM is offered with its eta. Each update is its own
 * exported function, so EGG can add its guidance term between the steps.
 * Arithmetic is float64 on the host; samples are stored as float32, what the UNet takes.
 */
import { type NdArray, float32, toNumbers } from '../onnx/ndarray.ts';
import { size } from '../onnx/shape.ts';
import { Rng } from '../random.ts';
import type { Denoiser, DenoiserOutput } from './denoiser.ts';
import { type DiffusionSchedule, type VarianceKind, fixedLogVariance, learnedRangeLogVariance } from './schedule.ts';

export interface StepOptions {
  /** clip x0 to [-1, 1] (ADM's clip_denoised); off by default, as in the paper's code */
  clipDenoised?: boolean;
}

export interface AncestralStepOptions extends StepOptions {
  /** default: learned range when the prediction has v, otherwise fixed large (ADM's default without learned sigma) */
  variance?: VarianceKind;
}

export interface StepResult {
  /** x_{k-1}: the sample after the step */
  x: NdArray;
  /** the predicted x0 */
  x0: NdArray;
}

/** Progress of a sampler: step k (K-1 down to 0), its original timestep t = s_k, the sample x_t the step started from and its predicted x0. */
export interface StepEvent {
  k: number;
  t: number;
  x: NdArray;
  x0: NdArray;
}

export type StepCallback = (event: StepEvent) => void | Promise<void>;

export interface SampleOptions {
  /** source of the per-step noise z (default a new Rng(seed)) */
  rng?: Rng;
  /** seed of the default Rng (default 0) */
  seed?: number;
}

/** x_T ~ N(0, I), float32, for a sampler's start. */
export function gaussianNoise(shape: readonly number[], rng: Rng): NdArray {
  return float32(shape, rng.normals(size(shape)));
}

function checkPrediction(x: NdArray, p: DenoiserOutput): void {
  for (const [name, a] of [['eps', p.eps], ['v', p.v]] as const) {
    if (a && (a.shape.length !== x.shape.length || a.shape.some((d, i) => d !== x.shape[i]))) {
      throw new Error(`the denoiser's ${name} has shape [${a.shape}], x_t has [${x.shape}]`);
    }
  }
}

/**
 * The prediction of x0 (docs/synthesis.md, "The EGG step"): x0 = sqrt(1/abar_k) x_t - sqrt(1/abar_k - 1) eps, optionally clipped.
 */
export function predictX0(schedule: DiffusionSchedule, k: number, x: NdArray, eps: NdArray, options: StepOptions = {}): Float64Array {
  const abar = schedule.alphasCumprod[k];
  const a = Math.sqrt(1 / abar);
  const b = Math.sqrt(1 / abar - 1);
  const xs = toNumbers(x);
  const es = toNumbers(eps);
  const x0 = new Float64Array(xs.length);
  for (let i = 0; i < xs.length; i++) {
    const v = a * xs[i] - b * es[i];
    x0[i] = options.clipDenoised ? Math.min(1, Math.max(-1, v)) : v;
  }
  return x0;
}

/**
 * One ancestral step k: mu = c1 x0 + c2 x_t, x_{k-1} = mu + sigma z,
 * with no noise at k = 0. `noise` holds z (standard normal, one per element; unused at k = 0).
 */
export function ancestralStep(
  schedule: DiffusionSchedule,
  k: number,
  x: NdArray,
  prediction: DenoiserOutput,
  noise: ArrayLike<number> | undefined,
  options: AncestralStepOptions = {},
): StepResult {
  checkPrediction(x, prediction);
  const variance = options.variance ?? (prediction.v ? 'learned-range' : 'fixed-large');
  if (variance === 'learned-range' && !prediction.v) throw new Error('learned-range variance needs the variance channels v from the denoiser');
  if (k > 0 && (!noise || noise.length !== x.data.length)) throw new Error(`step ${k} needs ${x.data.length} noise values`);
  const x0 = predictX0(schedule, k, x, prediction.eps, options);
  const xs = toNumbers(x);
  const v = variance === 'learned-range' ? toNumbers(prediction.v!) : undefined;
  const fixed = variance === 'learned-range' ? 0 : fixedLogVariance(schedule, k, variance);
  const c1 = schedule.posteriorMeanCoef1[k];
  const c2 = schedule.posteriorMeanCoef2[k];
  const next = new Float32Array(xs.length);
  for (let i = 0; i < xs.length; i++) {
    const mean = c1 * x0[i] + c2 * xs[i];
    if (k === 0) {
      next[i] = mean;
      continue;
    }
    const logVariance = v ? learnedRangeLogVariance(schedule, k, v[i]) : fixed;
    next[i] = mean + Math.exp(0.5 * logVariance) * noise![i];
  }
  return { x: float32(x.shape, next), x0: float32(x.shape, x0) };
}

/**
 * One DDIM step k (Song et al. 2021, eq. 12, as ADM's ddim_sample): eps re-derived from x0,
 * sigma = eta sqrt((1 - abar_{k-1}) / (1 - abar_k)) sqrt(1 - abar_k / abar_{k-1}),
 * x_{k-1} = sqrt(abar_{k-1}) x0 + sqrt(1 - abar_{k-1} - sigma^2) eps + sigma z (no noise at k = 0).
 * eta = 0 is deterministic; eta = 1 equals ancestral sampling with the fixed-small variance.
 */
export function ddimStep(
  schedule: DiffusionSchedule,
  k: number,
  x: NdArray,
  prediction: DenoiserOutput,
  noise: ArrayLike<number> | undefined,
  options: StepOptions & { eta?: number } = {},
): StepResult {
  checkPrediction(x, prediction);
  const eta = options.eta ?? 0;
  if (k > 0 && eta !== 0 && (!noise || noise.length !== x.data.length)) throw new Error(`step ${k} needs ${x.data.length} noise values`);
  const x0 = predictX0(schedule, k, x, prediction.eps, options);
  const xs = toNumbers(x);
  const abar = schedule.alphasCumprod[k];
  const abarPrev = schedule.alphasCumprodPrev[k];
  const sigma = eta * Math.sqrt((1 - abarPrev) / (1 - abar)) * Math.sqrt(1 - abar / abarPrev);
  const epsScale = Math.sqrt(Math.max(0, 1 - abarPrev - sigma * sigma));
  const a = Math.sqrt(1 / abar);
  const b = Math.sqrt(1 / abar - 1);
  const next = new Float32Array(xs.length);
  for (let i = 0; i < xs.length; i++) {
    const eps = (a * xs[i] - x0[i]) / b;
    const mean = Math.sqrt(abarPrev) * x0[i] + epsScale * eps;
    next[i] = k > 0 && sigma > 0 ? mean + sigma * noise![i] : mean;
  }
  return { x: float32(x.shape, next), x0: float32(x.shape, x0) };
}

type Update = (k: number, x: NdArray, prediction: DenoiserOutput, noise: Float32Array | undefined) => StepResult;

/** Runs k = K-1 .. 0: predict at the original timestep s_k, report, update. Returns x after step 0. */
async function runSteps(denoiser: Denoiser, xT: NdArray, schedule: DiffusionSchedule, options: SampleOptions, callback: StepCallback | undefined, update: Update, needsNoise: boolean): Promise<NdArray> {
  const rng = options.rng ?? new Rng(options.seed ?? 0);
  const batch = xT.shape[0];
  let x = xT.dtype === 'float32' ? xT : float32(xT.shape, toNumbers(xT));
  for (let k = schedule.timesteps.length - 1; k >= 0; k--) {
    const t = schedule.timesteps[k];
    const prediction = await denoiser.predict(x, new Array<number>(batch).fill(t));
    const noise = needsNoise && k > 0 ? rng.normals(x.data.length) : undefined;
    const step = update(k, x, prediction, noise);
    if (callback) await callback({ k, t, x, x0: step.x0 });
    x = step.x;
  }
  return x;
}

/** Ancestral (DDPM) sampling from x_T through every step of the schedule. */
export function sampleAncestral(
  denoiser: Denoiser,
  xT: NdArray,
  schedule: DiffusionSchedule,
  options: SampleOptions & AncestralStepOptions = {},
  callback?: StepCallback,
): Promise<NdArray> {
  return runSteps(denoiser, xT, schedule, options, callback, (k, x, p, z) => ancestralStep(schedule, k, x, p, z, options), true);
}

/** DDIM sampling; eta = 0 (default) is deterministic. */
export function sampleDdim(
  denoiser: Denoiser,
  xT: NdArray,
  schedule: DiffusionSchedule,
  options: SampleOptions & StepOptions & { eta?: number } = {},
  callback?: StepCallback,
): Promise<NdArray> {
  return runSteps(denoiser, xT, schedule, options, callback, (k, x, p, z) => ddimStep(schedule, k, x, p, z, options), (options.eta ?? 0) > 0);
}
