/**
 * Energy guided diffusion (docs/synthesis.md): ancestral sampling over K respaced steps where each step is
 * pulled down the energy of its predicted x0:
 *   x_pre = mu(x0, x_t) + sigma z   (no noise at k = 0),
 *   x_{t-1} = x_pre - lambda g / (||g|| + 1e-6),  g = dE/dx_t, the norm per image;
 * the result is the last step's x0 (or, for MENIs, the last sample). The gradient goes through the
 * UNet (the paper's code: one graph per step, guidance-graph.ts) or, the cheap variant EGG-x0,
 * stops at x0 (a UNet forward session plus an energy-gradient session on x0). With the gradient
 * through the UNet, the whole step, update included, is one session run over fixed buffers
 * (guidance-graph.ts eggStepGraph; its float64 update is the host-side one of sampler.ts and
 * image-norm.ts), and a session cache finds the compiled step without rebuilding its graph.
 * Batched over images: each has its own seed (its x_T and its noise), norm c and gradient norm,
 * so a batch gives what separate runs give.
 */
import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { type DiffusionSchedule, type VarianceKind, fixedLogVariance } from '../diffusion/schedule.ts';
import { ancestralStep, predictX0 } from '../diffusion/sampler.ts';
import { type UNetPrecision, unetGraph } from '../models/unet.ts';
import { Graph } from '../onnx/graph.ts';
import { type NdArray, float32, float64 } from '../onnx/ndarray.ts';
import { serialize } from '../onnx/serialize.ts';
import { Rng } from '../random.ts';
import { deviceFromEnv, unetPrecisionFromEnv } from '../runtime/device.ts';
import { type CachedSession, type EngineSession, type SessionCache, type SessionOptions, createSession, threadsFromEnv } from '../runtime/session.ts';
import { ShardedSession } from '../runtime/sharded-session.ts';
import { type SynthesisCheckpoint, checkResume } from './checkpoint.ts';
import { type Energy, meiEnergy } from './energy.ts';
import { energyGradientGraph, neuronSelection, withSelectionFeed } from './energy-graph.ts';
import { eggStepGraph } from './guidance-graph.ts';
import { guidanceScaleFor, priorImageShape } from './guidance-scale.ts';
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
  /** lambda, the guidance scale (default EGG's reference 10, set for a 3x256x256 prior, scaled to the prior's image size: guidanceScaleFor) */
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
  /**
   * on the CPU, slices of the batch run side by side, each in its own thread (runtime/sharded-session.ts);
   * default chosen with the threads (eggParallelism); a caller that sets `session.threads` gets one session
   */
  shards?: number;
  /** compiled sessions kept across runs (a worker's); without it the run's sessions are released at its end */
  sessions?: SessionCache;
  signal?: AbortSignal;
  /** continue from a checkpoint of this run (a progress event's `checkpoint()`): its x_t and noise generators */
  resume?: SynthesisCheckpoint;
}

/** An array of one value (the step's coefficients and timestep per image, the energy's seed). */
const filled = (shape: number[], value: number) => float32(shape, new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(value));

/**
 * Intra-op threads for an EGG run on the CPU when the caller sets none: one thread while a step's
 * work is small (the demo prior's 40x40 images at batch 1 or 2: a second thread's hand-offs cost
 * more than it computes, and the authors' PyTorch code is fastest on one thread there too), then one
 * more per WORK_PER_THREAD of work, up to the machine's cores. Work: batch x pixels x the UNet's base
 * channels, what a step's convolutions scale with.
 */
export function eggThreads(prior: Pick<SynthesisPrior, 'unet' | 'imageSize'>, batch: number, cores = threadsFromEnv() ?? availableParallelism()): number {
  const work = batch * prior.imageSize * prior.imageSize * prior.unet.modelChannels;
  return Math.max(1, Math.min(cores, Math.floor(work / WORK_PER_THREAD)));
}
/** bench:egg-speed, demo prior (40x40, 24 base channels), 2 cores: batch 1 is faster on one thread, batch 4 and up on two */
const WORK_PER_THREAD = 100_000;

/**
 * How a CPU EGG run uses the cores: a batch of two or more images is split into slices (up to the
 * cores), each in its own thread (runtime/sharded-session.ts) with its share of eggThreads' intra-op
 * threads (one for the demo prior). Images are independent, so slices keep each core on its own
 * images, where the intra-op threads of one small UNet mostly wait on each other (bench:egg-speed);
 * one image gets one session with eggThreads' threads.
 */
export function eggParallelism(prior: Pick<SynthesisPrior, 'unet' | 'imageSize'>, batch: number, cores = threadsFromEnv() ?? availableParallelism()): { shards: number; threads: number } {
  const shards = Math.max(1, Math.min(batch, cores));
  return { shards, threads: threadsPerSlice(prior, batch, shards, cores) };
}

/** Each slice's share of eggThreads' intra-op threads (at least one). */
function threadsPerSlice(prior: Pick<SynthesisPrior, 'unet' | 'imageSize'>, batch: number, shards: number, cores = threadsFromEnv() ?? availableParallelism()): number {
  return Math.max(1, Math.floor(eggThreads(prior, batch, cores) / shards));
}

/** What one step gives: x_{t-1}, the predicted x0 (buffers the evaluator may reuse on its next step: copy to keep), E and the activation per image. */
interface StepOutput {
  x: NdArray<Float32Array>;
  x0: NdArray<Float32Array>;
  energy: Float32Array;
  activation: Float32Array;
  /** what the encoder saw, when asked for */
  encoderInput?: NdArray<Float32Array>;
}

interface Scored {
  energy: Float32Array;
  activation: Float32Array;
  encoderInput: NdArray<Float32Array>;
}

/** The two ways of making a step, over sessions built once per run (or found in the cache). */
interface StepEvaluator {
  /** step k from x_t with the step's noise z (none at k = 0) */
  step(k: number, x: NdArray<Float32Array>, noise: Float32Array | undefined, wantEncoderInput: boolean): Promise<StepOutput>;
  /** the energy of final images (the MENI sample) */
  score(images: NdArray): Promise<Scored>;
  release(): Promise<void>;
}

/** A number per object, for cache ids that stand for a model without hashing it (weights of a loaded model are not mutated). */
const objectIds = new WeakMap<object, number>();
let lastId = 0;
const idOf = (o: object) => {
  let id = objectIds.get(o);
  if (id === undefined) objectIds.set(o, (id = ++lastId));
  return id;
};

/**
 * The energy built on its own over the encoder's rates: its feeds (the neurons, targets) and a
 * signature of its graph, so the step graph need not be rebuilt to know whether a compiled one fits.
 */
function energyProbe(encoder: SynthesisEncoder, energy: Energy): { signature: string; feeds: Record<string, NdArray>; encoderGraph: Graph } {
  const g = new Graph('energy_probe');
  // as appendEnergy splices it: the encoder's selection graph of the energy's neurons, if any
  const selection = neuronSelection(encoder, energy);
  const source = selection?.graph ?? encoder.graph;
  const rates = source.outputs.find((o) => o.name === 'rates') ?? source.outputs[0];
  const { channels, height, width } = encoder.input;
  const built = energy.build({ rates: g.input('rates', rates.dtype, rates.shape), image: g.input('image', 'float32', ['batch', channels, height, width]), selected: selection !== undefined });
  g.output(built.energy, 'energy');
  g.output(built.activation, 'activation');
  return { signature: createHash('sha256').update(serialize(g)).digest('hex'), feeds: withSelectionFeed(built.feeds, selection), encoderGraph: source };
}

async function makeEvaluator(encoder: SynthesisEncoder, prior: SynthesisPrior, energy: Energy, schedule: DiffusionSchedule, settings: GuidedDiffusionSettings, norms: NdArray, variance: VarianceKind): Promise<StepEvaluator> {
  const B = settings.seeds.length;
  const s = { ...settings, precision: settings.precision ?? unetPrecisionFromEnv() };
  const device = s.session?.device ?? deviceFromEnv();
  // on the CPU: EGG's step over slices of the batch in threads of their own unless the caller fixed
  // the threads (EGG-x0 alternates two sessions and keeps one of each; a diverse set's images
  // interact, so its batch stays whole)
  const cpu = device === 'cpu';
  const unetGradient = (s.gradient ?? 'unet') === 'unet';
  const shards = cpu && unetGradient && !energy.couplesImages ? (s.shards ?? (s.session?.threads === undefined ? eggParallelism(prior, B).shards : 1)) : 1;
  const threads = s.session?.threads ?? (cpu ? threadsPerSlice(prior, B, shards) : undefined);
  const sessionOptions: SessionOptions = { ...s.session, device, threads };
  const ones = filled([B], 1);
  const hasV = prior.unet.learnSigma;
  const t = (k: number) => filled([B], schedule.timesteps[k]);
  const sessions: CachedSession[] = [];
  const open = async (graph: Graph) => {
    if (s.sessions) return s.sessions.forGraph(graph, {}, sessionOptions);
    const session = await createSession(graph, {}, sessionOptions);
    sessions.push(session);
    return session;
  };
  const release = async () => void (await Promise.all(sessions.map((x) => x.release())));

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
      // the whole step in one session run (guidance-graph.ts eggStepGraph): UNet, energy, dE/dx_t
      // through the UNet and the update; fixed feed and output buffers, x ping-pongs between two
      const learnedVariance = variance === 'learned-range';
      const options = { clip: s.clip ?? undefined, precision: s.precision, learnedVariance };
      const probe = energyProbe(encoder, energy);
      const build = () => eggStepGraph(encoder, prior, energy, options).graph;
      const id = ['egg-step', idOf(probe.encoderGraph), probe.encoderGraph.nodes.length, encoder.fromStandardized ? idOf(encoder.fromStandardized) : 0, JSON.stringify(encoder.input), idOf(prior.weights), JSON.stringify(prior.unet), probe.signature, JSON.stringify(options)].join(':');
      let session: Pick<EngineSession, 'prepare'>;
      if (shards > 1) {
        // slices of the batch side by side, one thread each (compiled once per slice)
        const create = () => ShardedSession.create(build(), { shards, threads: sessionOptions.threads, optimization: sessionOptions.optimization });
        if (s.sessions) session = await s.sessions.forId(`${id}:shards=${shards}:threads=${sessionOptions.threads}:${sessionOptions.optimization ?? 'all'}`, create);
        else {
          const sharded = await create();
          sessions.push(sharded);
          session = sharded;
        }
      } else if (s.sessions) session = await s.sessions.forBuilt(id, build, {}, sessionOptions);
      else {
        const single = await createSession(build(), {}, sessionOptions);
        sessions.push(single);
        session = single;
      }
      const image = [B, prior.channels, prior.imageSize, prior.imageSize];
      const column = () => float64([B, 1, 1, 1]);
      const coefs: Record<string, NdArray<Float32Array | Float64Array>> = {
        t: filled([B], 0),
        sqrt_recip_alphas_cumprod: filled([B, 1, 1, 1], 0),
        sqrt_recipm1_alphas_cumprod: filled([B, 1, 1, 1], 0),
        x0_coef_x: column(),
        x0_coef_eps: column(),
        posterior_mean_coef1: column(),
        posterior_mean_coef2: column(),
        ...(learnedVariance ? { log_variance_max: column(), log_variance_min: column(), noise_mask: column() } : { noise_std: column() }),
      };
      const feeds = { ...probe.feeds, image_norm: norms, energy_seed: ones, guidance_scale: float64([B, 1, 1, 1], new Float64Array(B).fill(s.scale!)), noise: filled(image, 0), ...coefs };
      const xs = [filled(image, 0), filled(image, 0)];
      const { height, width, channels } = encoder.input;
      const outputs = { x0_step: filled(image, 0), energy: filled([B], 0), activation: filled([B], 0), encoder_input: filled([B, channels, height, width], 0) };
      const runs = [0, 1].map((i) => session.prepare({ ...feeds, x: xs[i] }, { ...outputs, x_next: xs[1 - i] }));
      let current = 0;
      return {
        async step(k, x, noise, wantEncoderInput) {
          // x_t: the last step's x_next where it came from (no copy), else copied in
          if (x.data === xs[1 - current].data) current = 1 - current;
          else if (x.data !== xs[current].data) xs[current].data.set(x.data);
          const abar = schedule.alphasCumprod[k];
          const set = (name: string, v: number) => coefs[name].data.fill(v);
          set('t', schedule.timesteps[k]);
          set('sqrt_recip_alphas_cumprod', Math.sqrt(1 / abar));
          set('sqrt_recipm1_alphas_cumprod', Math.sqrt(1 / abar - 1));
          set('x0_coef_x', Math.sqrt(1 / abar));
          set('x0_coef_eps', Math.sqrt(1 / abar - 1));
          set('posterior_mean_coef1', schedule.posteriorMeanCoef1[k]);
          set('posterior_mean_coef2', schedule.posteriorMeanCoef2[k]);
          if (learnedVariance) {
            set('log_variance_max', Math.log(schedule.betas[k]));
            set('log_variance_min', schedule.posteriorLogVarianceClipped[k]);
            set('noise_mask', k > 0 ? 1 : 0);
          } else set('noise_std', k > 0 ? Math.exp(0.5 * fixedLogVariance(schedule, k, variance as Exclude<VarianceKind, 'learned-range'>)) : 0);
          if (k > 0) {
            if (!noise || noise.length !== feeds.noise.data.length) throw new Error(`step ${k} needs ${feeds.noise.data.length} noise values`);
            (feeds.noise.data as Float32Array).set(noise);
          }
          await runs[current]();
          current = 1 - current;
          return {
            x: xs[current],
            x0: outputs.x0_step,
            energy: outputs.energy.data.slice(),
            activation: outputs.activation.data.slice(),
            encoderInput: wantEncoderInput ? float32(outputs.encoder_input.shape, outputs.encoder_input.data.slice()) : undefined,
          };
        },
        score,
        release,
      };
    }
    const denoiser = await open(unetGraph(prior.unet, { weights: prior.weights, precision: s.precision }).graph);
    const scale = s.scale!;
    return {
      async step(k, x, noise, wantEncoderInput) {
        const prediction = await denoiser.run({ x, t: t(k) }, hasV ? ['eps', 'v'] : ['eps']);
        const x0 = float32(x.shape, predictX0(schedule, k, x, prediction.eps));
        const out = await energyOfX0(x0, wantEncoderInput ? ['energy', 'activation', 'x0_grad', 'encoder_input'] : ['energy', 'activation', 'x0_grad']);
        const posterior = ancestralStep(schedule, k, x, { eps: prediction.eps, v: prediction.v }, noise, { variance });
        return {
          x: float32(x.shape, guidanceUpdate(posterior.x.data as Float32Array, out.x0_grad.data as Float32Array, B, scale)),
          x0: posterior.x0 as NdArray<Float32Array>,
          energy: out.energy.data as Float32Array,
          activation: out.activation.data as Float32Array,
          encoderInput: out.encoder_input as NdArray<Float32Array> | undefined,
        };
      },
      score,
      release,
    };
  } catch (e) {
    await release();
    throw e;
  }
}

/**
 * EGG's settings: K = 100 respaced steps, guidance scale lambda = 10 for a 3x256x256 prior (the
 * reference: the default is scaled to the prior's image size, guidanceScaleFor), encoder input norm c = 25.
 */
export const EGG_DEFAULTS = { steps: 100, scale: 10, norm: 25 } as const;

export async function guidedDiffusion(encoder: SynthesisEncoder, prior: SynthesisPrior, energy: Energy, settings: GuidedDiffusionSettings, onProgress?: ProgressCallback): Promise<SynthesisResult> {
  const started = performance.now();
  const gradient = settings.gradient ?? 'unet';
  const method = settings.method ?? (gradient === 'unet' ? 'egg' : 'egg-x0');
  const K = settings.steps ?? EGG_DEFAULTS.steps;
  const scale = settings.scale ?? guidanceScaleFor(EGG_DEFAULTS.scale, priorImageShape(prior));
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
  const evaluator = await makeEvaluator(encoder, prior, energy, schedule, { ...settings, scale }, norms, variance);
  try {
    let x: NdArray<Float32Array> = float32(shape, resume ? resume.x.slice() : draw());
    let last!: StepOutput;
    const checkpointAt = (step: number, state: Float32Array) => (): SynthesisCheckpoint => ({ method, step, steps: K, images: B, x: state.slice(), rngStates: rngs.map((r) => r.getState()) });
    for (let k = K - 1 - (resume?.step ?? 0); k >= 0; k--) {
      settings.signal?.throwIfAborted();
      const step = K - k;
      const wantEncoderInput = k === 0 && settings.result !== 'sample';
      const out = await evaluator.step(k, x, k > 0 ? draw() : undefined, wantEncoderInput);
      checkEnergy(method, step, K, out.energy, seeds);
      x = out.x;
      last = out;
      // the evaluator may reuse x's buffer on its next step: a checkpoint keeps its own copy
      if (onProgress) await onProgress({ method, step, steps: K, timestep: schedule.timesteps[k], energy: out.energy, activation: out.activation, preview: previewOf(out.x0), checkpoint: k > 0 ? checkpointAt(step, x.data.slice()) : undefined });
    }
    let result = { images: float32(shape, last.x0.data.slice()), energy: last.energy, activation: last.activation, encoderImages: last.encoderInput! };
    if (settings.result === 'sample') {
      const scored = await evaluator.score(x);
      checkEnergy(method, K, K, scored.energy, seeds);
      result = { images: float32(shape, x.data.slice()), energy: scored.energy, activation: scored.activation, encoderImages: scored.encoderInput };
    }
    return { method, ...result, seeds: [...seeds], steps: K, seconds: (performance.now() - started) / 1000 };
  } finally {
    await evaluator.release();
  }
}

export type GuidedMeiSettings = Omit<GuidedDiffusionSettings, 'seeds' | 'gradient'>;

/** EGG MEIs of (neuron, seed) pairs in one batch: K = 100, lambda = 10 size-scaled (guidanceScaleFor), c = 25 unless set. */
export function eggMei(encoder: SynthesisEncoder, prior: SynthesisPrior, items: readonly SynthesisItem[], settings: GuidedMeiSettings = {}, onProgress?: ProgressCallback): Promise<SynthesisResult> {
  return guidedDiffusion(encoder, prior, meiEnergy(items.map((i) => i.neuron)), { ...settings, seeds: items.map((i) => i.seed), gradient: 'unet' }, onProgress);
}

/** EGG-x0 MEIs: the same, with the energy differentiated with respect to x0 only (no backward pass through the UNet). */
export function eggX0Mei(encoder: SynthesisEncoder, prior: SynthesisPrior, items: readonly SynthesisItem[], settings: GuidedMeiSettings = {}, onProgress?: ProgressCallback): Promise<SynthesisResult> {
  return guidedDiffusion(encoder, prior, meiEnergy(items.map((i) => i.neuron)), { ...settings, seeds: items.map((i) => i.seed), gradient: 'x0' }, onProgress);
}

