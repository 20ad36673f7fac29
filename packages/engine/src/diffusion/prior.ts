/**
 * The diffusion prior as a model directory (a contract: docs/formats.md, Prior): `model.json` with
 * kind "prior" (the UNet's arguments, the image space, the diffusion process it was trained on,
 * provenance and metrics) beside `weights.safetensors` (the UNet's state_dict names, see
 * models/unet.ts). The process (docs/formats.md, Prior): DDPM, epsilon prediction, linear betas 1e-4..0.02 over T = 1000.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DataFileError } from '../data/errors.ts';
import { readJsonWithin } from '../data/json.ts';
import { readSafetensors, writeSafetensors } from '../data/safetensors.ts';
import { type UNetConfig, unetGraph, unetWeightShapes } from '../models/unet.ts';
import type { Graph } from '../onnx/graph.ts';
import { type NdArray, float32 } from '../onnx/ndarray.ts';
import { type DiffusionSchedule, type VarianceKind, linearBetas, respaceSchedule, respacedTimesteps } from './schedule.ts';

export const PRIOR_FORMAT = 1;

/**
 * The demo prior: 40x40 grayscale (the demo encoders' input size), levels at 40, 20 and 10 pixels
 * with 24, 48 and 48 channels (multipliers 1, 2, 2), one res block per level, attention (one head)
 * at 10x10 and in the middle, epsilon only (fixed-large variance), ADM's FiLM and res-block
 * resampling, GroupNorm(8): 772,489 parameters. Sized for a 2-core CPU: a training step of batch
 * 32 takes about 1.5-2.5 s there (32 base channels took 1.6x as long), so a few thousand steps fit
 * in 90 minutes (models/demo/train-prior.sh).
 */
export const DEMO_PRIOR: UNetConfig = {
  imageSize: 40,
  inChannels: 1,
  modelChannels: 24,
  channelMult: [1, 2, 2],
  numResBlocks: 1,
  attentionResolutions: [10],
  numHeads: 1,
  numHeadChannels: -1,
  numHeadsUpsample: -1,
  useScaleShiftNorm: true,
  resblockUpdown: true,
  convResample: true,
  useNewAttentionOrder: false,
  learnSigma: false,
  normGroups: 8,
};

/** The diffusion process a prior was trained on. */
export interface PriorDiffusion {
  schedule: 'linear';
  betaStart: number;
  betaEnd: number;
  /** T */
  trainSteps: number;
  /** what the network predicts */
  prediction: 'eps';
  /** the reverse-process variance: learned range needs the UNet's v channels (learnSigma) */
  variance: VarianceKind;
}

/** DDPM as the paper's prior uses it; the variance follows the UNet's outputs. */
export function defaultDiffusion(config: UNetConfig): PriorDiffusion {
  return { schedule: 'linear', betaStart: 1e-4, betaEnd: 0.02, trainSteps: 1000, prediction: 'eps', variance: config.learnSigma ? 'learned-range' : 'fixed-large' };
}

/** The prior's image space: pixels p in `pixelRange` map linearly onto x in `range`. */
export interface PriorImageSpace {
  size: number;
  /** 1: grayscale */
  channels: number;
  pixelRange: [number, number];
  range: [number, number];
  /** the mapping in words, for readers of model.json */
  mapping: string;
}

export interface PriorMeta {
  kind: 'prior';
  format: number;
  name: string;
  architecture: { type: 'adm-unet'; unet: UNetConfig };
  image: PriorImageSpace;
  diffusion: PriorDiffusion;
  /** how it was made: data, images, steps, batch, lr, EMA decay, seed, time, machine, command */
  training?: Record<string, unknown>;
  /** e.g. the final training loss and the EMA weights' loss on a fixed batch */
  metrics?: Record<string, unknown>;
}

export interface Prior {
  dir: string;
  meta: PriorMeta;
  config: UNetConfig;
  weights: Map<string, NdArray>;
}

/** x = p / 127.5 - 1 for p in 0..255. */
export const PIXELS_TO_PRIOR: Pick<PriorImageSpace, 'pixelRange' | 'range' | 'mapping'> = { pixelRange: [0, 255], range: [-1, 1], mapping: 'x = p / 127.5 - 1' };

/** Maps pixels (0..255) into the prior's space (a new array). */
export function pixelsToPrior(pixels: ArrayLike<number>): Float32Array {
  const out = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) out[i] = pixels[i] / 127.5 - 1;
  return out;
}

/** Maps prior samples back to pixels, clipped to 0..255. */
export function priorToPixels(x: ArrayLike<number>): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = Math.min(255, Math.max(0, (x[i] + 1) * 127.5));
  return out;
}

/** Problems of `weights` against a config: missing, unexpected and misshapen tensors, each named. */
export function weightProblems(config: UNetConfig, weights: ReadonlyMap<string, NdArray>): string[] {
  const expected = unetWeightShapes(config);
  const problems: string[] = [];
  for (const [name, shape] of expected) {
    const w = weights.get(name);
    if (!w) problems.push(`tensor "${name}" [${shape}] is missing`);
    else if (w.shape.length !== shape.length || w.shape.some((d, i) => d !== shape[i])) problems.push(`tensor "${name}" has shape [${w.shape}], the UNet config expects [${shape}]`);
    else if (w.dtype !== 'float32') problems.push(`tensor "${name}" is ${w.dtype}, float32 is expected`);
  }
  for (const name of weights.keys()) if (!expected.has(name)) problems.push(`tensor "${name}" is not a weight of the UNet config`);
  return problems;
}

/** The first five problems, and how many more. */
export function describeProblems(problems: readonly string[]): string {
  const shown = problems.slice(0, 5).join('; ');
  return problems.length > 5 ? `${shown}; and ${problems.length - 5} more` : shown;
}

/** Pretty JSON with arrays of numbers kept on one line. */
function formatJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2).replace(/\[\s*(-?[\d.e+-]+(?:,\s*-?[\d.e+-]+)*)\s*\]/g, (_, items: string) => `[${items.split(/,\s*/).join(', ')}]`)}\n`;
}

export interface WritePriorOptions {
  name?: string;
  diffusion?: PriorDiffusion;
  training?: Record<string, unknown>;
  metrics?: Record<string, unknown>;
}

/** Writes a prior directory; the weights must be exactly the config's UNet weights. */
export async function writePrior(dir: string, config: UNetConfig, weights: ReadonlyMap<string, NdArray>, options: WritePriorOptions = {}): Promise<void> {
  const problems = weightProblems(config, weights);
  if (problems.length) throw new Error(`the weights do not match the UNet config: ${describeProblems(problems)}`);
  const diffusion = options.diffusion ?? defaultDiffusion(config);
  checkVariance(config, diffusion, 'writePrior');
  await mkdir(dir, { recursive: true });
  const meta: PriorMeta = {
    kind: 'prior',
    format: PRIOR_FORMAT,
    name: options.name ?? dir,
    architecture: { type: 'adm-unet', unet: config },
    image: { size: config.imageSize, channels: config.inChannels, ...PIXELS_TO_PRIOR },
    diffusion,
    training: options.training,
    metrics: options.metrics,
  };
  // in the config's parameter order, so the file reads like the state_dict
  const ordered = new Map([...unetWeightShapes(config).keys()].map((name) => [name, weights.get(name)!]));
  await writeSafetensors(join(dir, 'weights.safetensors'), ordered, { format: String(PRIOR_FORMAT), kind: 'prior' });
  await writeFile(join(dir, 'model.json'), formatJson(meta));
}

function checkVariance(config: UNetConfig, diffusion: PriorDiffusion, where: string): void {
  if (diffusion.variance === 'learned-range' && !config.learnSigma) throw new Error(`${where}: learned-range variance needs a UNet with learnSigma`);
}

/** Loads a prior directory, checking its kind, format, image space and weights against the config. */
export async function loadPrior(path: string): Promise<Prior> {
  const dir = resolve(path);
  const file = join(dir, 'model.json');
  const json = await readJsonWithin(file, undefined, 'does not exist (a prior directory holds model.json and weights.safetensors)');
  const meta = json as PriorMeta;
  if (meta?.kind !== 'prior') throw new DataFileError(file, `kind "${(meta as { kind?: string })?.kind}" is not a prior${meta?.kind === 'encoder' || meta?.kind === ('ensemble' as string) ? ' (this is an encoder model: pass it as --model)' : ''}`);
  if (meta.format !== PRIOR_FORMAT) throw new DataFileError(file, `format ${meta.format} is not supported (this excite reads format ${PRIOR_FORMAT})`);
  const config = meta.architecture?.unet;
  if (meta.architecture?.type !== 'adm-unet' || !config) throw new DataFileError(file, 'architecture is not an "adm-unet" with its "unet" arguments');
  if (meta.image?.size !== config.imageSize || meta.image?.channels !== config.inChannels) {
    throw new DataFileError(file, `image ${meta.image?.channels}x${meta.image?.size}x${meta.image?.size} does not match the UNet's ${config.inChannels}x${config.imageSize}x${config.imageSize}`);
  }
  const d = meta.diffusion;
  if (d?.schedule !== 'linear' || d.prediction !== 'eps') throw new DataFileError(file, `diffusion ${JSON.stringify(d)} is not supported (linear schedule, eps prediction)`);
  if (!['learned-range', 'fixed-large', 'fixed-small'].includes(d.variance)) throw new DataFileError(file, `variance "${d.variance}" is not learned-range, fixed-large or fixed-small`);
  try {
    checkVariance(config, d, 'model.json');
  } catch (e) {
    throw new DataFileError(file, (e as Error).message);
  }
  const weightsFile = join(dir, 'weights.safetensors');
  const { tensors } = await readSafetensors(weightsFile);
  let problems: string[];
  try {
    problems = weightProblems(config, tensors);
  } catch (e) {
    throw new DataFileError(file, `the UNet config cannot be built: ${(e as Error).message}`);
  }
  if (problems.length) throw new DataFileError(weightsFile, `does not match the UNet config in model.json: ${describeProblems(problems)}`);
  return { dir, meta, config, weights: tensors };
}

/** The prior's UNet with its weights baked in: inputs `x` [batch, C, H, W], `t` [batch]; output `eps` (and `v`). */
export function priorGraph(prior: Pick<Prior, 'config' | 'weights'>): Graph {
  return unetGraph(prior.config, { weights: prior.weights }).graph;
}

/** The prior's process respaced to `steps` sampling steps. */
export function priorSchedule(prior: Pick<Prior, 'meta'>, steps: number): DiffusionSchedule {
  const d = prior.meta.diffusion;
  const T = d.trainSteps;
  // linearBetas scales its bounds by 1000 / T (ADM); the stored bounds are the T = 1000 values
  return respaceSchedule(linearBetas(T, d.betaStart, d.betaEnd), respacedTimesteps(T, steps));
}

/** Copies of weights (float32), e.g. to keep an EMA apart from the trained weights. */
export function copyWeights(weights: ReadonlyMap<string, NdArray>): Map<string, NdArray> {
  return new Map([...weights].map(([k, v]) => [k, float32(v.shape, Float32Array.from(v.data as Float32Array))]));
}
