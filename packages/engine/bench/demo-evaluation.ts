/**
 * What the synthesis benchmarks on the demo models share (bench:synthesis, bench:guidance): the
 * demo generator, evaluators and prior, the V4 data (sessions and their compact ground-truth
 * models), the best-predicted neurons, the sessions' natural images, and scoring images by every
 * evaluator, each evaluator's response normalized by its best response over the session's natural
 * images (docs/benchmarks.md).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readDataset } from '../src/data/dataset.ts';
import { stackImages } from '../src/data/images.ts';
import { loadStimuli, standardize } from '../src/data/stimuli.ts';
import { loadPrior } from '../src/diffusion/prior.ts';
import { evaluateModel } from '../src/evaluate/evaluate-model.ts';
import { maxRates, scoreImages } from '../src/evaluate/transfer.ts';
import type { NeuronRef } from '../src/models/encoder-graph.ts';
import { membersOf } from '../src/models/model-dir.ts';
import { type ScoringModel, loadScoringModel } from '../src/models/scoring-model.ts';
import type { NdArray } from '../src/onnx/ndarray.ts';
import { type SynthesisPrior, synthesisPrior } from '../src/synthesis/synthesis-prior.ts';
import type { SynthesizedImage } from '../src/synthesis/synthesize.ts';

export const repo = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
/** the V4 data: sessions/<session> (images and responses) and compact/<session> (the ground-truth models) */
export const v4Data = process.env.EXCITE_V4_DATA ?? join(repo, '../shared/data/v4');
export const demo = join(repo, 'models/demo');
export const SESSIONS = ['201025', '210225'] as const;
/** the evaluators besides the compact models, by the names the tables print */
export const EVALUATOR_NAMES = ['train', 'val', 'cross', 'compact'] as const;

/** The 22 neurons of two bench:synthesis runs (docs/benchmarks.md): what the paired checks compare generators on. */
export const PAIRED_NEURONS: NeuronRef[] = ['201025:77', '201025:84', '201025:75', '201025:47', '201025:53', '201025:87', '201025:68', '201025:46', '201025:42', '201025:73', '201025:80', '210225:47', '210225:22', '210225:30', '210225:46', '210225:42', '210225:27', '210225:3', '210225:24', '210225:21', '210225:53', '210225:20'].map((k) => ({ session: k.split(':')[0], neuron: Number(k.split(':')[1]) }));

/** Whether the V4 data are there; if not, says why the benchmark skips. */
export function v4DataPresent(bench: string): boolean {
  const present = SESSIONS.every((s) => existsSync(join(v4Data, 'sessions', s)) && existsSync(join(v4Data, 'compact', s)));
  if (!present) console.log(`${bench}: skipped: the V4 data folder ${v4Data} (sessions/ and compact/ of ${SESSIONS.join(', ')}) is absent; set EXCITE_V4_DATA to it`);
  return present;
}

export interface DemoModels {
  /** the demo "train" ensemble, the generator */
  generator: ScoringModel;
  /** train (the generator), val, cross */
  evaluators: Record<'train' | 'val' | 'cross', ScoringModel>;
  /** the generator's input (its size and standardization) */
  input: ReturnType<typeof membersOf>[number]['spec']['input'];
  prior: SynthesisPrior;
}

export async function loadDemoModels(): Promise<DemoModels> {
  const generator = await loadScoringModel(join(demo, 'attention-train'));
  const evaluators = { train: generator, val: await loadScoringModel(join(demo, 'attention-val')), cross: await loadScoringModel(join(demo, 'gaussian-cross')) };
  const input = membersOf(generator.encoder!)[0].spec.input;
  const prior = synthesisPrior(await loadPrior(join(demo, 'prior')));
  return { generator, evaluators, input, prior };
}

/**
 * The `perSession` best-predicted neurons of each session (held-out r of the "val" ensemble on
 * images 600..1200): MEIs of neurons the models do not predict say little.
 */
export async function bestPredictedNeurons(perSession: number): Promise<NeuronRef[]> {
  const neurons: NeuronRef[] = [];
  for (const s of SESSIONS) {
    const e = await evaluateModel({ model: join(demo, 'attention-val'), data: join(v4Data, 'sessions', s), images: '600:1200' });
    const best = e.neurons.map((n, i) => ({ n, r: e.per_neuron[i] })).sort((a, b) => b.r - a.r).slice(0, perSession);
    neurons.push(...best.map((b) => ({ session: s, neuron: b.n })));
  }
  return neurons;
}

/** The generator's output column of each neuron. */
export const columnsOf = (generator: ScoringModel, neurons: readonly NeuronRef[]): number[] => neurons.map((n) => generator.neurons.findIndex((m) => m.session === n.session && m.neuron === n.neuron));

/** Each session's compact models of the given neurons only (every neuron is its own network). */
export async function loadCompact(neurons: readonly NeuronRef[]): Promise<Record<string, ScoringModel>> {
  return Object.fromEntries(await Promise.all(SESSIONS.map(async (s) => [s, await loadScoringModel(join(v4Data, 'compact', s), { compactNeurons: [...new Set(neurons.filter((n) => n.session === s).map((n) => n.neuron))] })] as const)));
}

export interface NaturalImages {
  /** the session's images at the generator's input size, 0..255 [N, 1, H, W] */
  pixels: NdArray<Float32Array>;
  /** the same, standardized as the generator's input */
  standardized: NdArray<Float32Array>;
}

/** Each session's 1200 natural images at the generator's input size. */
export async function loadNatural(input: DemoModels['input']): Promise<Map<string, NaturalImages>> {
  const natural = new Map<string, NaturalImages>();
  for (const s of SESSIONS) {
    const ds = await readDataset(join(v4Data, 'sessions', s));
    const pixels = await loadStimuli(ds.images, Array.from({ length: ds.images.count }, (_, i) => i), input);
    natural.set(s, { pixels, standardized: standardize(pixels, input) });
  }
  return natural;
}

/** The grayscale pixel space of the generator's input, where every evaluator scores. */
export const scoringSpace = (input: DemoModels['input']) => ({ channels: 1 as const, height: input.height, width: input.width });

/**
 * Every evaluator's response to each image for the image's neuron (`neurons[i]` for `images[i]`):
 * train, val, cross, and compact (each session's ground-truth models score that session's images).
 */
export async function scoreByEvaluators(images: readonly SynthesizedImage[], neurons: readonly NeuronRef[], models: DemoModels, compact: Record<string, ScoringModel>): Promise<Map<string, number[]>> {
  const space = scoringSpace(models.input);
  const out = new Map<string, number[]>();
  for (const [name, model] of Object.entries(models.evaluators)) out.set(name, await scoreImages(model, stackImages(images.map((i) => i.pixels)), [...neurons], space));
  out.set('compact', await groundTruthScores(images, neurons, compact, space));
  return out;
}

/** Each image's response of its neuron's compact model (`neurons[i]` for `images[i]`): each session's models score that session's images. */
export async function groundTruthScores(images: readonly SynthesizedImage[], neurons: readonly NeuronRef[], compact: Record<string, ScoringModel>, space: ReturnType<typeof scoringSpace>): Promise<number[]> {
  const gt: number[] = new Array(neurons.length).fill(NaN);
  for (const s of SESSIONS) {
    const idx = neurons.flatMap((n, i) => (n.session === s ? [i] : []));
    if (idx.length === 0) continue;
    const sc = await scoreImages(compact[s], stackImages(idx.map((i) => images[i].pixels)), idx.map((i) => neurons[i]), space);
    idx.forEach((i, j) => (gt[i] = sc[j]));
  }
  return gt;
}

/** Each evaluator's best response over its sessions' natural images, by evaluator and neuronKey. */
export async function bestNaturalResponses(models: DemoModels, compact: Record<string, ScoringModel>, natural: Map<string, NaturalImages>): Promise<Map<string, Map<string, number>>> {
  const space = scoringSpace(models.input);
  const best = new Map<string, Map<string, number>>();
  const evaluators = [...Object.entries(models.evaluators).map(([n, m]) => [n, m, SESSIONS] as const), ...SESSIONS.map((s) => ['compact', compact[s], [s]] as const)];
  for (const [name, model, sessions] of evaluators) {
    const acc = best.get(name) ?? new Map<string, number>();
    for (const s of sessions) for (const [k, v] of await maxRates(model, natural.get(s)!.pixels, space)) if (k.startsWith(`${s}:`)) acc.set(k, v);
    best.set(name, acc);
  }
  return best;
}
