/**
 * Training a diffusion prior on natural images: DDPM's simple loss, the mean
 * squared error between the UNet's predicted noise and the true noise of x_t = sqrt(abar_t) x0 +
 * sqrt(1 - abar_t) eps, t uniform over 0..T-1 (Ho et al. 2020, Algorithm 1; ADM's "eps, MSE").
 * The loss graph is built once with the weights as inputs and its backward appended; the host
 * draws the batches and the noise, clips the gradient's global norm, steps AdamW and keeps an
 * exponential moving average of the weights, which is what a prior ships. A checkpoint folder
 * (weights, EMA, optimizer moments, generator state, step) resumes a run exactly.
 */
import os from 'node:os';
import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { readImageArchive } from '../data/image-archive.ts';
import { type Image, resizeBilinear, toGrayscale } from '../data/images.ts';
import { type UNetConfig, unet, unetGraph } from '../models/unet.ts';
import { Parameters } from '../models/parameters.ts';
import { appendBackward } from '../onnx/autodiff.ts';
import { Graph } from '../onnx/graph.ts';
import { type NdArray, float32 } from '../onnx/ndarray.ts';
import { mul, sub } from '../onnx/ops/elementwise.ts';
import { reduceMean } from '../onnx/ops/reduce.ts';
import { Rng } from '../random.ts';
import { type EngineSession, createSession, fingerprint } from '../runtime/session.ts';
import { AdamW } from '../train/adamw.ts';
import { resumeLoop, runLoop } from '../train/loop.ts';
import { DEMO_PRIOR, copyWeights, defaultDiffusion, describeProblems, loadPrior, pixelsToPrior, weightProblems, writePrior } from './prior.ts';
import { alphasCumprod, linearBetas } from './schedule.ts';

// ---- data ----------------------------------------------------------------------------------

/** Decoded grayscale images (0..255, [1, H, W]) kept in memory for the whole run. */
export interface PriorImageSet {
  images: Image[];
  /** images taken from each dataset folder (after removing exact duplicates) */
  sources: { dir: string; images: number }[];
  /** images left out because an identical file was already taken */
  duplicates: number;
}

/**
 * Reads the images of dataset folders (their `images.zip`), grayscale (plain mean of R, G, B, as
 * the encoders see them). Byte-identical images that occur in several sessions are kept once.
 */
export async function loadPriorImages(dirs: readonly string[], onImage?: (done: number) => void): Promise<PriorImageSet> {
  if (dirs.length === 0) throw new Error('no dataset folders to read images from');
  const seen = new Set<string>();
  const images: Image[] = [];
  const sources: PriorImageSet['sources'] = [];
  let duplicates = 0;
  for (const dir of dirs) {
    const archive = await readImageArchive(join(dir, 'images.zip'));
    let taken = 0;
    for (let k = 0; k < archive.count; k++) {
      const hash = createHash('sha1').update(archive.bytes(k)).digest('hex');
      if (seen.has(hash)) {
        duplicates++;
        continue;
      }
      seen.add(hash);
      images.push(toGrayscale(await archive.image(k)));
      taken++;
      onImage?.(images.length);
    }
    sources.push({ dir, images: taken });
  }
  return { images, sources, duplicates };
}

export interface AugmentOptions {
  /** smallest crop side as a fraction of the image's shorter side (default 0.6) */
  minCrop?: number;
  /** flip horizontally with probability 1/2 (default true) */
  flip?: boolean;
}

/**
 * One training view of an image: a random square crop (side uniform in [minCrop, 1] of the
 * shorter side, position uniform), flipped left-right half of the time, bilinearly resized to
 * size x size and mapped to [-1, 1]. Returns C * size * size values.
 */
export function augmentImage(image: Image, size: number, rng: Rng, options: AugmentOptions = {}): Float32Array {
  const [C, H, W] = image.shape as [number, number, number];
  const minCrop = options.minCrop ?? 0.6;
  const short = Math.min(H, W);
  const side = Math.max(1, Math.min(short, Math.round(short * (minCrop + (1 - minCrop) * rng.uniform()))));
  const top = Math.floor(rng.uniform() * (H - side + 1));
  const left = Math.floor(rng.uniform() * (W - side + 1));
  const flip = (options.flip ?? true) && rng.uniform() < 0.5;
  const crop = new Float32Array(C * side * side);
  const d = image.data;
  for (let c = 0; c < C; c++)
    for (let y = 0; y < side; y++) {
      const row = (c * H + top + y) * W + left;
      const out = (c * side + y) * side;
      for (let x = 0; x < side; x++) crop[out + x] = d[row + (flip ? side - 1 - x : x)];
    }
  return pixelsToPrior(resizeBilinear(float32([C, side, side], crop), size, size).data);
}

/** A batch [B, C, size, size] of augmented views of images drawn uniformly (with replacement). */
export function sampleImageBatch(images: readonly Image[], batch: number, size: number, rng: Rng, options: AugmentOptions = {}): NdArray<Float32Array> {
  if (images.length === 0) throw new Error('no training images');
  const C = images[0].shape[0];
  const n = C * size * size;
  const out = new Float32Array(batch * n);
  for (let i = 0; i < batch; i++) out.set(augmentImage(images[Math.floor(rng.uniform() * images.length)], size, rng, options), i * n);
  return float32([batch, C, size, size], out);
}

/**
 * The forward process on the host: t uniform over 0..T-1 per item, eps ~ N(0, I),
 * x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) eps.
 */
export function noiseBatch(x0: NdArray<Float32Array>, abar: readonly number[], rng: Rng): { xt: NdArray<Float32Array>; t: NdArray<Float32Array>; eps: NdArray<Float32Array> } {
  const batch = x0.shape[0];
  const n = x0.data.length / batch;
  const t = new Float32Array(batch);
  const eps = rng.normals(x0.data.length);
  const xt = new Float32Array(x0.data.length);
  for (let i = 0; i < batch; i++) {
    const s = Math.min(abar.length - 1, Math.floor(rng.uniform() * abar.length));
    t[i] = s;
    const a = Math.sqrt(abar[s]);
    const b = Math.sqrt(1 - abar[s]);
    for (let j = i * n; j < (i + 1) * n; j++) xt[j] = a * x0.data[j] + b * eps[j];
  }
  return { xt: float32(x0.shape, xt), t: float32([batch], t), eps: float32(x0.shape, eps) };
}

// ---- the loss graph ------------------------------------------------------------------------

export interface PriorLoss {
  graph: Graph;
  /** trainable weight -> its gradient output */
  grads: Map<string, string>;
  /** initial weights (seeded, ADM's zero modules zeroed) or the given ones */
  weights: Map<string, NdArray>;
}

/**
 * Inputs `x` (x_t), `t`, `noise` (the true eps) and `loss_seed`; output `loss` = mean((eps_pred -
 * noise)^2) and one `<weight>_grad` per UNet weight.
 */
export function buildPriorLoss(config: UNetConfig, options: { weights?: ReadonlyMap<string, NdArray>; seed?: number } = {}): PriorLoss {
  if (config.learnSigma) throw new Error('training learned sigma (ADM\'s hybrid loss with the variational bound) is not implemented: train an eps-only prior (learnSigma false)');
  const g = new Graph('prior_loss');
  const p = new Parameters(g, options.weights, options.seed ?? 0);
  const shape = ['batch', config.inChannels, config.imageSize, config.imageSize];
  const x = g.input('x', 'float32', shape);
  const t = g.input('t', 'float32', ['batch']);
  const noise = g.input('noise', 'float32', shape);
  const { eps } = unet(x, t, p, config, { zeroModules: true });
  const diff = sub(eps, noise);
  g.output(reduceMean(mul(diff, diff), undefined, false), 'loss');
  const { grads } = appendBackward(g, { outputs: ['loss'], wrt: p.trainable });
  const weights = new Map(p.trainable.map((name) => [name, g.weights.get(name)!.data!]));
  return { graph: g, grads: new Map(p.trainable.map((n, i) => [n, grads[i].name])), weights: copyWeights(weights) };
}

// ---- training ------------------------------------------------------------------------------

export interface PriorStepEvent {
  /** steps done (1-based) */
  step: number;
  steps: number;
  loss: number;
  /** global gradient norm before clipping */
  gradNorm: number;
  imagesPerSecond: number;
  /** seconds of this step */
  seconds: number;
}

export interface TrainPriorOptions {
  config: UNetConfig;
  images: readonly Image[];
  /**
   * weights to start from instead of a seeded initialization: fine-tuning a trained prior (its EMA
   * weights) on more steps or other images. The EMA starts from them too.
   */
  init?: ReadonlyMap<string, NdArray>;
  /** total optimizer steps (a resumed run continues up to this count) */
  steps: number;
  batchSize?: number;
  /** AdamW learning rate (default 2e-4, ADM's) */
  lr?: number;
  weightDecay?: number;
  /** EMA decay per step (default 0.999) */
  emaDecay?: number;
  /**
   * warm the EMA up: decay min(emaDecay, (1 + n) / (10 + n)) at update n (TensorFlow's
   * ExponentialMovingAverage with num_updates), so that a run of a few thousand steps does not
   * keep a large share of the initial weights in its average (0.999^2000 = 0.14). Default true.
   */
  emaWarmup?: boolean;
  /** clip the gradient's global L2 norm to this (default 1) */
  gradClip?: number;
  seed?: number;
  augment?: AugmentOptions;
  /** T of the linear schedule (default 1000) */
  trainSteps?: number;
  /** folder for checkpoints; an existing checkpoint there is resumed */
  checkpoint?: string;
  /** steps between checkpoints (default 500) */
  checkpointEvery?: number;
  threads?: number;
  onStep?: (event: PriorStepEvent) => void;
  /** a checkpoint was resumed at this step */
  onResume?: (step: number) => void;
  /** stops training between steps (the checkpoint keeps the last one written) */
  signal?: AbortSignal;
}

export interface TrainPriorResult {
  /** the trained weights */
  weights: Map<string, NdArray>;
  /** their exponential moving average: the prior's weights */
  ema: Map<string, NdArray>;
  /** loss of every step, the resumed ones included */
  losses: number[];
  /** seconds spent training, up to the checkpoint in earlier calls and in this one */
  seconds: number;
  /** the step a checkpoint resumed from (0 for a fresh run) */
  resumedFrom: number;
}

/** What a checkpoint must agree on to be resumed. */
function runKey(o: TrainPriorOptions) {
  return { config: o.config, batchSize: o.batchSize ?? 32, seed: o.seed ?? 0, trainSteps: o.trainSteps ?? 1000, images: o.images.length, init: o.init ? weightsDigest(o.init) : null };
}

/** A short digest of named weights (each array's content hash, as the session cache keys them), to tell starting points apart. */
function weightsDigest(weights: ReadonlyMap<string, NdArray>): string {
  const h = createHash('sha256');
  for (const [name, w] of [...weights].sort(([a], [b]) => (a < b ? -1 : 1))) h.update(`${name}=${fingerprint(w)}`);
  return h.digest('hex').slice(0, 16);
}

/** What the prior adds to the loop's checkpoint (with the EMA weights as a tensor file). */
interface PriorState {
  losses: number[];
  /** training seconds up to this checkpoint */
  seconds: number;
  key: ReturnType<typeof runKey>;
}

/** sqrt(sum of squares) over all gradients, in float64. */
function globalNorm(grads: Iterable<ArrayLike<number>>): number {
  let s = 0;
  for (const g of grads) for (let i = 0; i < g.length; i++) s += g[i] * g[i];
  return Math.sqrt(s);
}

export async function trainPrior(o: TrainPriorOptions): Promise<TrainPriorResult> {
  const batchSize = o.batchSize ?? 32;
  const emaDecay = o.emaDecay ?? 0.999;
  const emaWarmup = o.emaWarmup ?? true;
  const gradClip = o.gradClip ?? 1;
  const checkpointEvery = o.checkpointEvery ?? 500;
  const size = o.config.imageSize;
  if (o.images.length === 0) throw new Error('no training images');
  if (o.images[0].shape[0] !== o.config.inChannels) throw new Error(`the images have ${o.images[0].shape[0]} channels, the UNet takes ${o.config.inChannels}`);
  const abar = alphasCumprod(linearBetas(o.trainSteps ?? 1000));

  if (o.init) {
    const problems = weightProblems(o.config, o.init);
    if (problems.length) throw new Error(`the starting weights do not fit the UNet config: ${describeProblems(problems)}`);
  }
  const loss = buildPriorLoss(o.config, { seed: o.seed ?? 0, weights: o.init });
  let weights = loss.weights;
  let ema = copyWeights(weights);
  const optimizer = new AdamW({ lr: o.lr ?? 2e-4, weightDecay: o.weightDecay ?? 0 });
  const rng = new Rng(((o.seed ?? 0) * 7919 + 101) >>> 0);
  const losses: number[] = [];
  let earlierSeconds = 0;
  const key = runKey(o);

  const saved = await resumeLoop(o.checkpoint, optimizer, rng);
  if (saved) {
    const own = saved.own.state as PriorState;
    if (JSON.stringify(own.key) !== JSON.stringify(key)) {
      throw new Error(`the checkpoint in ${o.checkpoint} belongs to another run (${JSON.stringify(own.key)}, this run is ${JSON.stringify(key)}): delete it to start over`);
    }
    weights = saved.weights;
    ema = saved.own.tensors.ema;
    losses.push(...own.losses);
    earlierSeconds = own.seconds;
    o.onResume?.(saved.round);
  }
  const start = saved?.round ?? 0;

  const session = await createSession(loss.graph, { weights: 'inputs' }, { threads: o.threads });
  const names = [...loss.grads.keys()];
  const seed = float32([], [1]);
  const started = performance.now();
  const elapsed = () => earlierSeconds + (performance.now() - started) / 1000;
  let stepStart = 0;
  try {
    await runLoop({
      weights: () => weights,
      optimizer,
      rng,
      start,
      rounds: o.steps,
      // one batch a step, drawn in the step itself
      batches: () => [undefined],
      step: async () => {
        stepStart = performance.now();
        const x0 = sampleImageBatch(o.images, batchSize, size, rng, o.augment);
        const { xt, t, eps } = noiseBatch(x0, abar, rng);
        const out = await session.run({ ...Object.fromEntries(weights), x: xt, t, noise: eps, loss_seed: seed });
        const grads = new Map(names.map((n) => [n, out[loss.grads.get(n)!].data as Float32Array]));
        const gradNorm = globalNorm(grads.values());
        if (gradNorm > gradClip) {
          const scale = gradClip / (gradNorm + 1e-6);
          for (const g of grads.values()) for (let i = 0; i < g.length; i++) g[i] *= scale;
        }
        return { loss: (out.loss.data as Float32Array)[0], grads, gradNorm };
      },
      label: (_, step) => `step ${step + 1}`,
      afterStep: ({ loss: value, gradNorm }, _, step) => {
        const decay = emaWarmup ? Math.min(emaDecay, (2 + step) / (11 + step)) : emaDecay;
        for (const n of names) {
          const w = weights.get(n)!.data as Float32Array;
          const e = ema.get(n)!.data as Float32Array;
          for (let i = 0; i < w.length; i++) e[i] = decay * e[i] + (1 - decay) * w[i];
        }
        losses.push(value);
        const seconds = (performance.now() - stepStart) / 1000;
        o.onStep?.({ step: step + 1, steps: o.steps, loss: value, gradNorm, imagesPerSecond: batchSize / seconds, seconds });
      },
      // not after the last step: the caller writes the prior right away
      checkpoint: o.checkpoint ? { dir: o.checkpoint, every: checkpointEvery, atEnd: false, own: () => ({ state: { losses, seconds: elapsed(), key } satisfies PriorState, tensors: { ema } }) } : undefined,
      signal: o.signal,
    });
  } finally {
    await session.release();
  }
  return { weights, ema, losses, seconds: elapsed(), resumedFrom: start };
}

/**
 * The simple loss of `weights` on a fixed evaluation set: `count` views of the images with
 * timesteps spread evenly over 0..T-1 and seeded noise, so that numbers compare across runs.
 */
export async function evaluatePriorLoss(config: UNetConfig, weights: ReadonlyMap<string, NdArray>, images: readonly Image[], options: { count?: number; seed?: number; batchSize?: number; trainSteps?: number; threads?: number } = {}): Promise<number> {
  const count = options.count ?? 256;
  const chunk = options.batchSize ?? 64;
  const T = options.trainSteps ?? 1000;
  const abar = alphasCumprod(linearBetas(T));
  const rng = new Rng(options.seed ?? 12345);
  const session: EngineSession = await createSession(unetGraph(config, { weights }).graph, {}, { threads: options.threads });
  let total = 0;
  try {
    for (let at = 0; at < count; at += chunk) {
      const b = Math.min(chunk, count - at);
      const x0 = sampleImageBatch(images, b, config.imageSize, rng);
      const n = x0.data.length / b;
      const t = new Float32Array(b);
      const eps = rng.normals(x0.data.length);
      const xt = new Float32Array(x0.data.length);
      for (let i = 0; i < b; i++) {
        const s = Math.floor(((at + i + 0.5) / count) * T);
        t[i] = s;
        for (let j = i * n; j < (i + 1) * n; j++) xt[j] = Math.sqrt(abar[s]) * x0.data[j] + Math.sqrt(1 - abar[s]) * eps[j];
      }
      const pred = (await session.run({ x: float32(x0.shape, xt), t: float32([b], t) }, ['eps'])).eps.data as Float32Array;
      for (let j = 0; j < pred.length; j++) total += (pred[j] - eps[j]) ** 2;
    }
  } finally {
    await session.release();
  }
  return total / (count * config.inChannels * config.imageSize * config.imageSize);
}

// ---- the workflow of `excite train-prior` --------------------------------------------------

export interface TrainPriorModelOptions {
  /** dataset folders whose images.zip are the training images */
  data: readonly string[];
  out: string;
  /** the UNet to train (default the demo prior's; with `init`, the init prior's) */
  config?: UNetConfig;
  /** a prior folder to start from (fine-tuning); its architecture is the one trained */
  init?: string;
  steps: number;
  batchSize?: number;
  lr?: number;
  emaDecay?: number;
  emaWarmup?: boolean;
  seed?: number;
  checkpointEvery?: number;
  threads?: number;
  /** views in the final evaluation of the loss (default 256) */
  evalCount?: number;
  /** recorded as provenance */
  command?: string;
  onImages?: (set: PriorImageSet) => void;
  onResume?: (step: number) => void;
  onStep?: (event: PriorStepEvent) => void;
  /** the final evaluation and writing begin */
  onFinishing?: () => void;
}

const mean = (a: readonly number[]) => a.reduce((s, x) => s + x, 0) / Math.max(1, a.length);

/**
 * `excite train-prior`: loads the images, trains (resuming OUT/.checkpoint if present), writes the
 * prior directory with the EMA weights, provenance and losses, then deletes the checkpoint.
 */
export async function trainPriorModel(o: TrainPriorModelOptions): Promise<string> {
  const start = o.init ? await loadPrior(o.init) : undefined;
  if (start && o.config && JSON.stringify(start.config) !== JSON.stringify(o.config)) throw new Error(`the prior in ${o.init} has another UNet config than the one asked for`);
  const config = start?.config ?? o.config ?? DEMO_PRIOR;
  const set = await loadPriorImages(o.data);
  o.onImages?.(set);
  const checkpoint = join(o.out, '.checkpoint');
  const batchSize = o.batchSize ?? 32;
  const lr = o.lr ?? 2e-4;
  const emaDecay = o.emaDecay ?? 0.999;
  const emaWarmup = o.emaWarmup ?? true;
  const seed = o.seed ?? 0;
  const result = await trainPrior({ config, images: set.images, init: start?.weights, steps: o.steps, batchSize, lr, emaDecay, emaWarmup, seed, checkpoint, checkpointEvery: o.checkpointEvery, threads: o.threads, onStep: o.onStep, onResume: o.onResume });
  o.onFinishing?.();
  const evalCount = o.evalCount ?? 256;
  const evalOptions = { threads: o.threads, count: evalCount };
  const [emaLoss, weightsLoss] = [await evaluatePriorLoss(config, result.ema, set.images, evalOptions), await evaluatePriorLoss(config, result.weights, set.images, evalOptions)];
  const parameters = [...result.ema.values()].reduce((n, w) => n + w.data.length, 0);
  const every = Math.max(1, Math.floor(result.losses.length / 50));
  await writePrior(o.out, config, result.ema, {
    name: o.out,
    diffusion: defaultDiffusion(config),
    training: {
      data: o.data,
      images: set.images.length,
      duplicates_removed: set.duplicates,
      per_source: Object.fromEntries(set.sources.map((s) => [s.dir, s.images])),
      augmentation: { crop: 'random square, side uniform in [0.6, 1] of the shorter side', flip: 'horizontal, p = 0.5', resize: `bilinear to ${config.imageSize}x${config.imageSize}` },
      objective: 'eps MSE (DDPM simple loss), t uniform over 0..999',
      // optimizer steps done (a resumed checkpoint may hold more than --steps asked for)
      steps: result.losses.length,
      batch: batchSize,
      optimizer: { type: 'AdamW', lr, weight_decay: 0, betas: [0.9, 0.999], grad_clip_norm: 1 },
      ema: { decay: emaDecay, warmup: emaWarmup ? 'decay min(decay, (1 + n) / (10 + n)) at update n' : 'none' },
      weights: 'EMA',
      seed,
      parameters,
      seconds: Math.round(result.seconds),
      resumed_from_step: result.resumedFrom,
      // fine-tuned: the steps above continue the training of this prior
      initialized_from: start ? { prior: o.init, steps: start.meta.training?.steps ?? null, seconds: start.meta.training?.seconds ?? null } : undefined,
      device: 'cpu',
      machine: { cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, platform: `${os.platform()} ${os.release()}`, node: process.version },
      command: o.command,
    },
    metrics: {
      // mean training loss of the last 100 steps (one batch each, random t)
      final_train_loss: mean(result.losses.slice(-100)),
      // simple loss on fixed views (eval_views) with t spread evenly over 0..999
      eval_views: evalCount,
      eval_loss_ema: emaLoss,
      eval_loss_weights: weightsLoss,
      loss_curve: { every, mean_loss: Array.from({ length: Math.ceil(result.losses.length / every) }, (_, i) => Number(mean(result.losses.slice(i * every, (i + 1) * every)).toFixed(5))) },
    },
  });
  await rm(checkpoint, { recursive: true, force: true });
  return o.out;
}
