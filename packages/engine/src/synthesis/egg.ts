/**
 * Energy guided diffusion (docs/synthesis.md): ancestral sampling over K respaced steps where each step is
 * pulled down the energy of its predicted x0:
 *   x_pre = mu(x0, x_t) + sigma z   (no noise at k = 0),
 *   x_{t-1} = x_pre - lambda g / (||g|| + 1e-6),  g = dE/dx_t, the norm per image;
 * the result is the last step's x0 (or, for MENIs, the last sample). The gradient goes through the
 * UNet (the paper's code: one graph per step, guidance-graph.ts) or, the cheap variant EGG-x0,
 * stops at x0 (a UNet forward session plus an energy-gradient session on x0).
 * Batched over images: each has its own seed (its x_T and its noise), norm c and gradient norm,
 * so a batch gives what separate runs give.
 */
import type { DiffusionSchedule, VarianceKind } from '../diffusion/schedule.ts';
import { ancestralStep, predictX0 } from '../diffusion/sampler.ts';
import { type UNetPrecision, unetGraph } from '../models/unet.ts';
import type { Graph } from '../onnx/graph.ts';
import { type NdArray, float32 } from '../onnx/ndarray.ts';
import { Rng } from '../random.ts';
import { unetPrecisionFromEnv } from '../runtime/device.ts';
import { type EngineSession, type SessionCache, type SessionOptions, createSession } from '../runtime/session.ts';
import { type SynthesisCheckpoint, checkResume } from './checkpoint.ts';
import { type Energy, meiEnergy } from './energy.ts';
import { energyGradientGraph } from './energy-graph.ts';
import { guidanceGraph } from './guidance-graph.ts';
import { guidanceUpdate } from './image-norm.ts';
import { type ProgressCallback, type SynthesisMethod, checkEnergy, previewOf } from './progress.ts';
import type { SynthesisEncoder } from './synthesis-encoder.ts';
import { type SynthesisPrior, samplingSchedule } from './synthesis-prior.ts';
import type { SynthesisItem, SynthesisResult } from './synthesis-result.ts';

export interface GuidedDiffusionSettings {
  /** one per image: its x_T and its per-step noise */
  seeds: readonly number[];
  /** K, the respaced steps (default 100) */
  steps?: number;
  /** lambda, the guidance scale (default 10, the later code; the first used 5) */
  scale?: number;
  /** c, the L2 norm of the encoder's input, one for all or one per image (default 25) */
  norm?: number | readonly number[];
  /** clip the encoder's input after the rescaling (reconstructions; null: none, over a method's default) */
  clip?: readonly [number, number] | null;
  /** the UNet's precision: 'float16' is guided-diffusion's use_fp16, what the paper sampled with (default EXCITE_UNET_PRECISION, else 'float32') */
  precision?: UNetPrecision;
  /** 'unet': dE/dx_t through the UNet (EGG, default); 'x0': dE/dx0 only (EGG-x0) */
  gradient?: 'unet' | 'x0';
  /** 'x0': the last step's predicted x0 (default); 'sample': the last sample x (MENI) */
  result?: 'x0' | 'sample';
  /** the reverse process's variance (default the prior's) */
  variance?: VarianceKind;
  /** the name progress and errors carry (default 'egg' or 'egg-x0') */
  method?: SynthesisMethod;
  session?: SessionOptions;
  /** compiled sessions kept across runs (a worker's); without it the run's sessions are released at its end */
  sessions?: SessionCache;
  signal?: AbortSignal;
  /** continue from a checkpoint of this run (a progress event's `checkpoint()`): its x_t and noise generators */
  resume?: SynthesisCheckpoint;
}

/** An array of one value (the step's coefficients and timestep per image, the energy's seed). */
const filled = (shape: number[], value: number) => float32(shape, new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(value));

interface Evaluation {
  eps: NdArray;
  v?: NdArray;
  energy: Float32Array;
  activation: Float32Array;
  /** dE/dx_t (EGG) or dE/dx0 (EGG-x0) */
  grad: Float32Array;
  /** what the encoder saw, when asked for */
  encoderInput?: NdArray<Float32Array>;
}

interface Scored {
  energy: Float32Array;
  activation: Float32Array;
  encoderInput: NdArray<Float32Array>;
}

/** The two ways of computing a step's prediction, energy and gradient, over sessions built once per run. */
interface StepEvaluator {
  evaluate(k: number, x: NdArray, wantEncoderInput: boolean): Promise<Evaluation>;
  /** the energy of final images (the MENI sample) */
  score(images: NdArray): Promise<Scored>;
  release(): Promise<void>;
}

async function makeEvaluator(encoder: SynthesisEncoder, prior: SynthesisPrior, energy: Energy, schedule: DiffusionSchedule, settings: GuidedDiffusionSettings, norms: NdArray): Promise<StepEvaluator> {
  const s = { ...settings, precision: settings.precision ?? unetPrecisionFromEnv() };
  const B = s.seeds.length;
  const ones = filled([B], 1);
  const hasV = prior.unet.learnSigma;
  const t = (k: number) => filled([B], schedule.timesteps[k]);
  const sessions: EngineSession[] = [];
  const open = async (graph: Graph) => {
    if (s.sessions) return s.sessions.forGraph(graph, {}, s.session);
    const session = await createSession(graph, {}, s.session);
    sessions.push(session);
    return session;
  };
  const release = async () => void (await Promise.all(sessions.map((x) => x.release())));
  const read = (out: Record<string, NdArray>, grad: string): Evaluation => ({
    eps: out.eps,
    v: out.v,
    energy: out.energy.data as Float32Array,
    activation: out.activation.data as Float32Array,
    grad: out[grad].data as Float32Array,
    encoderInput: out.encoder_input as NdArray<Float32Array> | undefined,
  });

  // E(x0) and dE/dx0: EGG-x0's step, and the score of final samples; built when first needed
  let onX0: Promise<(x0: NdArray, outputs: string[]) => Promise<Record<string, NdArray>>> | undefined;
  const energyOfX0 = (x0: NdArray, outputs: string[]) =>
    (onX0 ??= (async () => {
      const { graph, feeds } = energyGradientGraph(encoder, energy, { input: 'x0', shape: [prior.channels, prior.imageSize, prior.imageSize], preprocess: { clip: s.clip ?? undefined } });
      const session = await open(graph);
      const fixed = { ...feeds, image_norm: norms, energy_seed: ones };
      return (x: NdArray, names: string[]) => session.run({ ...fixed, x0: x }, names);
    })()).then((run) => run(x0, outputs));
  const score = async (images: NdArray): Promise<Scored> => {
    const out = await energyOfX0(images, ['energy', 'activation', 'encoder_input']);
    return { energy: out.energy.data as Float32Array, activation: out.activation.data as Float32Array, encoderInput: out.encoder_input as NdArray<Float32Array> };
  };

  try {
    if ((s.gradient ?? 'unet') === 'unet') {
      const { graph, feeds } = guidanceGraph(encoder, prior, energy, { clip: s.clip ?? undefined, precision: s.precision });
      const session = await open(graph);
      const fixed = { ...feeds, image_norm: norms, energy_seed: ones };
      const outputs = ['eps', ...(hasV ? ['v'] : []), 'energy', 'activation', 'x_grad'];
      return {
        async evaluate(k, x, wantEncoderInput) {
          const abar = schedule.alphasCumprod[k];
          const out = await session.run(
            { ...fixed, x, t: t(k), sqrt_recip_alphas_cumprod: filled([B, 1, 1, 1], Math.sqrt(1 / abar)), sqrt_recipm1_alphas_cumprod: filled([B, 1, 1, 1], Math.sqrt(1 / abar - 1)) },
            wantEncoderInput ? [...outputs, 'encoder_input'] : outputs,
          );
          return read(out, 'x_grad');
        },
        score,
        release,
      };
    }
    const denoiser = await open(unetGraph(prior.unet, { weights: prior.weights, precision: s.precision }).graph);
    return {
      async evaluate(k, x, wantEncoderInput) {
        const prediction = await denoiser.run({ x, t: t(k) }, hasV ? ['eps', 'v'] : ['eps']);
        const x0 = float32(x.shape, predictX0(schedule, k, x, prediction.eps));
        const out = await energyOfX0(x0, wantEncoderInput ? ['energy', 'activation', 'x0_grad', 'encoder_input'] : ['energy', 'activation', 'x0_grad']);
        return read({ ...prediction, ...out }, 'x0_grad');
      },
      score,
      release,
    };
  } catch (e) {
    await release();
    throw e;
  }
}

/** EGG's settings: K = 100 respaced steps, guidance scale lambda = 10, encoder input norm c = 25. */
export const EGG_DEFAULTS = { steps: 100, scale: 10, norm: 25 } as const;

export async function guidedDiffusion(encoder: SynthesisEncoder, prior: SynthesisPrior, energy: Energy, settings: GuidedDiffusionSettings, onProgress?: ProgressCallback): Promise<SynthesisResult> {
  const started = performance.now();
  const gradient = settings.gradient ?? 'unet';
  const method = settings.method ?? (gradient === 'unet' ? 'egg' : 'egg-x0');
  const K = settings.steps ?? EGG_DEFAULTS.steps;
  const scale = settings.scale ?? EGG_DEFAULTS.scale;
  const { seeds } = settings;
  const B = seeds.length;
  if (B !== energy.images) throw new Error(`${method}: ${B} seeds for an energy of ${energy.images} images`);
  const variance = settings.variance ?? prior.variance;
  if (variance === 'learned-range' && !prior.unet.learnSigma) throw new Error(`${method}: learned-range variance needs a prior that predicts it (learnSigma)`);
  const c = settings.norm ?? EGG_DEFAULTS.norm;
  if (typeof c !== 'number' && c.length !== B) throw new Error(`${method}: ${c.length} norms for ${B} images`);
  const norms = float32([B], typeof c === 'number' ? new Float32Array(B).fill(c) : c);
  const schedule = samplingSchedule(prior, K);
  const shape = [B, prior.channels, prior.imageSize, prior.imageSize];
  const n = prior.channels * prior.imageSize * prior.imageSize;

  // each image draws x_T and then its noise from its own generator
  const rngs = seeds.map((seed) => new Rng(seed));
  const draw = () => {
    const z = new Float32Array(B * n);
    rngs.forEach((rng, i) => z.set(rng.normals(n), i * n));
    return z;
  };

  const { resume } = settings;
  if (resume) {
    checkResume(resume, method, K, B, n);
    if (resume.rngStates?.length !== B) throw new Error(`${method}: cannot resume from this checkpoint: it has no noise generator states`);
    resume.rngStates.forEach((s, i) => rngs[i].setState(s));
  }
  const evaluator = await makeEvaluator(encoder, prior, energy, schedule, settings, norms);
  try {
    let x: NdArray<Float32Array> = float32(shape, resume ? resume.x.slice() : draw());
    let last!: { x0: NdArray<Float32Array>; energy: Float32Array; activation: Float32Array; encoderInput?: NdArray<Float32Array> };
    const checkpointAt = (step: number, state: Float32Array) => (): SynthesisCheckpoint => ({ method, step, steps: K, images: B, x: state.slice(), rngStates: rngs.map((r) => r.getState()) });
    for (let k = K - 1 - (resume?.step ?? 0); k >= 0; k--) {
      settings.signal?.throwIfAborted();
      const step = K - k;
      const wantEncoderInput = k === 0 && settings.result !== 'sample';
      const out = await evaluator.evaluate(k, x, wantEncoderInput);
      checkEnergy(method, step, K, out.energy, seeds);
      const posterior = ancestralStep(schedule, k, x, { eps: out.eps, v: out.v }, k > 0 ? draw() : undefined, { variance });
      x = float32(shape, guidanceUpdate(posterior.x.data as Float32Array, out.grad, B, scale));
      last = { x0: posterior.x0 as NdArray<Float32Array>, energy: out.energy, activation: out.activation, encoderInput: out.encoderInput };
      if (onProgress) await onProgress({ method, step, steps: K, timestep: schedule.timesteps[k], energy: out.energy, activation: out.activation, preview: previewOf(posterior.x0), checkpoint: k > 0 ? checkpointAt(step, x.data) : undefined });
    }
    let result = { images: last.x0, energy: last.energy, activation: last.activation, encoderImages: last.encoderInput! };
    if (settings.result === 'sample') {
      const scored = await evaluator.score(x);
      checkEnergy(method, K, K, scored.energy, seeds);
      result = { images: x, energy: scored.energy, activation: scored.activation, encoderImages: scored.encoderInput };
    }
    return { method, ...result, seeds: [...seeds], steps: K, seconds: (performance.now() - started) / 1000 };
  } finally {
    await evaluator.release();
  }
}

export type GuidedMeiSettings = Omit<GuidedDiffusionSettings, 'seeds' | 'gradient'>;

/** EGG MEIs of (neuron, seed) pairs in one batch: K = 100, lambda = 10, c = 25 unless set. */
export function eggMei(encoder: SynthesisEncoder, prior: SynthesisPrior, items: readonly SynthesisItem[], settings: GuidedMeiSettings = {}, onProgress?: ProgressCallback): Promise<SynthesisResult> {
  return guidedDiffusion(encoder, prior, meiEnergy(items.map((i) => i.neuron)), { ...settings, seeds: items.map((i) => i.seed), gradient: 'unet' }, onProgress);
}

/** EGG-x0 MEIs: the same, with the energy differentiated with respect to x0 only (no backward pass through the UNet). */
export function eggX0Mei(encoder: SynthesisEncoder, prior: SynthesisPrior, items: readonly SynthesisItem[], settings: GuidedMeiSettings = {}, onProgress?: ProgressCallback): Promise<SynthesisResult> {
  return guidedDiffusion(encoder, prior, meiEnergy(items.map((i) => i.neuron)), { ...settings, seeds: items.map((i) => i.seed), gradient: 'x0' }, onProgress);
}
