/**
 * One entry point for every method, as the command line, the comparisons and the service's worker
 * call it: items name neurons by the generator's output columns, results come back per image, in
 * pixel space (grayscale 0..255 at the encoder's resolution, as a stimulus rig shows it) and
 * in the encoder's standardized space.
 */
import type { NeuronRef } from '../models/encoder-graph.ts';
import type { ScoringModel } from '../models/scoring-model.ts';
import type { UNetPrecision } from '../models/unet.ts';
import { type NdArray, float32 } from '../onnx/ndarray.ts';
import { takeRows } from '../runtime/batched.ts';
import type { SessionCache } from '../runtime/session.ts';
import { diverseMeis } from './diverse-set.ts';
import { eggMei, eggX0Mei, type GuidedMeiSettings } from './egg.ts';
import { gaMei, type GradientAscentSettings } from './ga.ts';
import { meni } from './meni.ts';
import { naturalTopK } from './natural-top-k.ts';
import type { ProgressCallback, SynthesisMethod } from './progress.ts';
import { reconstruct, type ReconstructionTargets } from './reconstruction.ts';
import { type SynthesisEncoder, synthesisEncoder } from './synthesis-encoder.ts';
import type { SynthesisPrior } from './synthesis-prior.ts';
import type { SynthesisItem, SynthesisResult } from './synthesis-result.ts';

export type MethodName = SynthesisMethod | 'topk';
export const METHODS: readonly MethodName[] = ['ga', 'egg', 'egg-x0', 'meni', 'recon', 'topk', 'diverse'];
const NEEDS_PRIOR: readonly MethodName[] = ['egg', 'egg-x0', 'meni', 'recon', 'diverse'];

export interface SynthesizeSettings {
  /** iterations: GA steps (default 1001) or diffusion steps K (default per method) */
  steps?: number;
  /** guidance scale lambda (diffusion methods) */
  scale?: number;
  /** L2 norm of the encoder input */
  norm?: number;
  /** GA's optimizer and learning rate */
  optimizer?: 'adamw' | 'sgd';
  lr?: number;
  /** diverse sets: weight of the similarity penalty */
  diversity?: number;
}

export interface SynthesizeRequest {
  method: MethodName;
  /** the model whose neurons drive synthesis (ours; a compact model needs `standardization`) */
  generator: ScoringModel;
  /** grayscale standardization of the synthesis space, for a compact generator */
  standardization?: { mean: number; std: number };
  prior?: SynthesisPrior;
  /** neuron (a column of the generator's rates) and seed; for top-k the seed is the rank (0 = best) */
  items: readonly SynthesisItem[];
  settings?: SynthesizeSettings;
  /** top-k: candidate images in the generator's standardized input space [N, 1, H, W] */
  natural?: NdArray<Float32Array>;
  /** reconstruction: target rates or images, one per item */
  targets?: ReconstructionTargets;
  onProgress?: ProgressCallback;
  signal?: AbortSignal;
  /** compiled sessions kept across requests (a worker's): the same generator and prior compile once */
  sessions?: SessionCache;
  /** the prior's UNet in 'float16' (guided-diffusion's use_fp16; for GPUs) or 'float32' (default) */
  precision?: UNetPrecision;
}

export interface SynthesizedImage {
  column: number;
  neuron: NeuronRef;
  seed: number;
  /** the generator's rate of the target neuron for this image */
  activation: number;
  /** [1, H, W] grayscale pixel values (0..255 on a display; not clamped) */
  pixels: NdArray<Float32Array>;
  /** [1, H, W] what the encoder saw, standardized */
  standardized: NdArray<Float32Array>;
  /** top-k: the candidate's row */
  sourceIndex?: number;
}

export interface Synthesized {
  method: MethodName;
  images: SynthesizedImage[];
  /** wall time of the whole batch */
  seconds: number;
}

/**
 * Standardized images of the encoder to pixels: p = x * std + mean. Not clamped: models score the
 * image synthesis produced, as the paper evaluates its MEI tensors; PNG files clamp to 0..255.
 */
export function toPixels(x: NdArray<Float32Array>, standardization: { mean: number; std: number }): NdArray<Float32Array> {
  return float32(x.shape, x.data.map((v) => v * standardization.std + standardization.mean));
}

function standardizationOf(req: SynthesizeRequest): { mean: number; std: number } {
  if (req.standardization) return req.standardization;
  const encoder = req.generator.encoder;
  if (!encoder) throw new Error(`${req.generator.name}: give the standardization of the synthesis space`);
  const input = ('members' in encoder ? encoder.members[0] : encoder).spec.input;
  return { mean: input.mean, std: input.std };
}

async function run(req: SynthesizeRequest, encoder: SynthesisEncoder): Promise<SynthesisResult | { topk: { column: number; rank: number; index: number; activation: number; image: NdArray<Float32Array> }[]; seconds: number }> {
  const s = req.settings ?? {};
  const guided: GuidedMeiSettings = { steps: s.steps, scale: s.scale, norm: s.norm, signal: req.signal, sessions: req.sessions, precision: req.precision };
  const prior = req.prior!;
  switch (req.method) {
    case 'ga': {
      const ga: Omit<GradientAscentSettings, 'seeds'> = { steps: s.steps, norm: s.norm, optimizer: s.optimizer, lr: s.lr, signal: req.signal, sessions: req.sessions };
      return gaMei(encoder, req.items, ga, req.onProgress);
    }
    case 'egg':
      return eggMei(encoder, prior, req.items, guided, req.onProgress);
    case 'egg-x0':
      return eggX0Mei(encoder, prior, req.items, guided, req.onProgress);
    case 'meni':
      return meni(encoder, prior, req.items, guided, req.onProgress);
    case 'diverse':
      return diverseMeis(encoder, prior, req.items, { ...guided, diversity: s.diversity }, req.onProgress);
    case 'recon':
      if (!req.targets) throw new Error('recon: give target rates or images');
      return reconstruct(encoder, prior, req.targets, { ...guided, seeds: req.items.map((i) => i.seed) }, req.onProgress);
    case 'topk': {
      if (!req.natural) throw new Error('topk: give the candidate natural images');
      const started = performance.now();
      const out: { column: number; rank: number; index: number; activation: number; image: NdArray<Float32Array> }[] = [];
      const byNeuron = new Map<number, number>();
      for (const it of req.items) byNeuron.set(it.neuron, Math.max(byNeuron.get(it.neuron) ?? 0, it.seed + 1));
      for (const [column, k] of byNeuron) {
        const top = await naturalTopK(encoder, req.natural, column, k);
        top.indices.forEach((index, rank) => out.push({ column, rank, index, activation: top.activations[rank], image: takeRows(top.images, [rank]) }));
      }
      return { topk: out, seconds: (performance.now() - started) / 1000 };
    }
  }
}

export async function synthesize(req: SynthesizeRequest): Promise<Synthesized> {
  if (!METHODS.includes(req.method)) throw new Error(`unknown method "${req.method}" (one of ${METHODS.join(', ')})`);
  if (NEEDS_PRIOR.includes(req.method) && !req.prior) throw new Error(`${req.method} needs a diffusion prior (--prior DIR)`);
  const columns = req.generator.neurons.length;
  for (const it of req.items) {
    if (!Number.isInteger(it.neuron) || it.neuron < 0 || it.neuron >= columns) throw new Error(`neuron ${it.neuron} is not one of the ${columns} neurons of ${req.generator.name}`);
    if (!Number.isInteger(it.seed) || it.seed < 0) throw new Error(`seed ${it.seed} must be a non-negative integer`);
  }
  const standardization = standardizationOf(req);
  const encoder = synthesisEncoder(req.generator, standardization);
  const result = await run(req, encoder);
  const one = (x: NdArray<Float32Array>) => float32(x.shape.slice(1), x.data);
  if ('topk' in result) {
    const images = req.items.map((it) => {
      const hit = result.topk.find((t) => t.column === it.neuron && t.rank === it.seed);
      if (!hit) throw new Error(`topk: no candidate of rank ${it.seed} for neuron ${it.neuron}`);
      return { column: it.neuron, neuron: req.generator.neurons[it.neuron], seed: it.seed, activation: hit.activation, standardized: one(hit.image), pixels: one(toPixels(hit.image, standardization)), sourceIndex: hit.index };
    });
    return { method: 'topk', images, seconds: result.seconds };
  }
  const images = req.items.map((it, i) => {
    const x = takeRows(result.encoderImages, [i]);
    return { column: it.neuron, neuron: req.generator.neurons[it.neuron], seed: it.seed, activation: result.activation[i], standardized: one(x), pixels: one(toPixels(x, standardization)) };
  });
  return { method: req.method, images, seconds: result.seconds };
}
