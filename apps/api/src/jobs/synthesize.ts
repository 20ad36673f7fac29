/**
 * One job's engine call: the runs of a job become the items of one batched synthesis (or one
 * natural top-k pass), the engine's per-step events are split per run, and the results come back
 * per run as images in pixel space (0..255, what PNGs and evaluators see) and in the space the
 * method ran in. Nothing here knows the database; worker.ts does the storing.
 */
import {
  type NdArray,
  type SynthesisCheckpoint,
  type SynthesisPrior,
  type SynthesisProgress,
  type SynthesisResult,
  diverseMeis,
  eggMei,
  eggX0Mei,
  encoderResponses,
  float32,
  gaMei,
  joinCheckpoints,
  membersOf,
  meni,
  previewOf,
  priorToPixels,
  reconstruct,
  sliceCheckpoint,
  synthesisEncoder,
} from '@excite/engine';
import { loadStimuli, standardize } from '@excite/engine/data/stimuli.ts';
import type { ImageArchive, SessionCache } from '@excite/engine';
import type { ScoringModel } from '@excite/engine/models/scoring-model.ts';
import type { ImageKind, Method, RunSettings } from '../db/schema.ts';

export interface TaskRun {
  /** the generator's output column of the run's neuron (null: reconstruction) */
  column: number | null;
  targetImage: number | null;
  seed: number;
}

export interface SynthesisTask {
  method: Method;
  settings: RunSettings;
  generator: ScoringModel;
  prior?: SynthesisPrior;
  dataset?: ImageArchive;
  runs: TaskRun[];
  signal?: AbortSignal;
  /** one checkpoint per run, all at the same step: the call resumes from them */
  resume?: SynthesisCheckpoint[];
  /** the worker's compiled sessions, kept between jobs */
  sessions?: SessionCache;
}

/** Each run's share of the engine's state after a step (worker.ts stores them). */
export type RunCheckpoints = () => SynthesisCheckpoint[];

/** A run's images at one step (one for MEIs, a set's for DIVERSE). */
export interface RunStep {
  run: number;
  step: number;
  steps: number;
  timestep?: number;
  energy: number[];
  activation: number[];
  /** the run's first image, small, in pixel space [C, h, w] */
  preview: NdArray<Float32Array>;
}

export interface RunImage {
  index: number;
  kind: ImageKind;
  seed: number;
  sourceIndex: number | null;
  /** [C, H, W], 0..255 */
  pixels: NdArray<Float32Array>;
  /** [C, H, W] in `space` */
  array: NdArray<Float32Array>;
  space: 'prior' | 'encoder' | 'pixels';
  activation: number;
  energy: number;
}

export interface SynthesisOutput {
  /** per run */
  images: RunImage[][];
  seconds: number;
}

const KIND: Record<Method, ImageKind> = { ga: 'mei', egg: 'mei', 'egg-x0': 'mei', meni: 'meni', diverse: 'diverse', recon: 'recon', topk: 'natural' };

/** Pixel space of the generator's standardized input: p = s * std + mean, clipped to 0..255. */
export function standardizedToPixels(x: ArrayLike<number>, standardization: { mean: number; std: number }): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = Math.min(255, Math.max(0, x[i] * standardization.std + standardization.mean));
  return out;
}

function inputSpec(generator: ScoringModel) {
  if (!generator.encoder) throw new Error(`${generator.name} is not one of our encoders: it cannot generate`);
  return membersOf(generator.encoder)[0].spec.input;
}

function row(a: NdArray<Float32Array>, i: number): NdArray<Float32Array> {
  const size = a.data.length / a.shape[0];
  return float32(a.shape.slice(1), a.data.slice(i * size, (i + 1) * size));
}

export async function synthesize(task: SynthesisTask, onSteps: (steps: RunStep[], checkpoints?: RunCheckpoints) => Promise<void>): Promise<SynthesisOutput> {
  const { method, settings, runs } = task;
  const spec = inputSpec(task.generator);
  const standardization = { mean: spec.mean, std: spec.std };
  if (method === 'topk') return topK(task, spec, onSteps);

  const encoder = synthesisEncoder(task.generator);
  const needPrior = () => {
    if (!task.prior) throw new Error(`${method} needs a prior`);
    return task.prior;
  };
  // the items of the batch and the run each belongs to
  const items =
    method === 'diverse'
      ? Array.from({ length: settings.setSize ?? 4 }, (_, j) => ({ neuron: runs[0].column!, seed: runs[0].seed + j }))
      : method === 'recon'
        ? runs.map((r) => ({ neuron: -1, seed: r.seed }))
        : runs.map((r) => ({ neuron: r.column!, seed: r.seed }));
  const runOf = (item: number) => (method === 'diverse' ? 0 : item);
  const inPrior = method !== 'ga';
  const toPixels = (x: ArrayLike<number>) => (inPrior ? priorToPixels(x) : standardizedToPixels(x, standardization));

  const onProgress = async (e: SynthesisProgress) => {
    const [B, C, h, w] = e.preview.shape;
    const perRun = new Map<number, RunStep>();
    for (let i = 0; i < B; i++) {
      const r = runOf(i);
      let s = perRun.get(r);
      if (!s) {
        const preview = float32([C, h, w], toPixels(e.preview.data.subarray(i * C * h * w, (i + 1) * C * h * w)));
        s = { run: r, step: e.step, steps: e.steps, timestep: e.timestep, energy: [], activation: [], preview };
        perRun.set(r, s);
      }
      s.energy.push(e.energy[i]);
      s.activation.push(e.activation[i]);
    }
    // a run's images are consecutive items of the batch (a diverse set: all of them)
    const checkpoint = e.checkpoint;
    const perRunCheckpoints = checkpoint && (() => {
      const all = checkpoint();
      const size = all.images / runs.length;
      return runs.map((_, r) => sliceCheckpoint(all, r * size, (r + 1) * size));
    });
    await onSteps([...perRun.values()], perRunCheckpoints);
  };

  // a setting left undefined takes the method's default in the engine
  const common = { steps: settings.steps, norm: settings.norm, signal: task.signal, resume: task.resume && joinCheckpoints(task.resume), sessions: task.sessions };
  const guided = { ...common, scale: settings.scale };
  let result: SynthesisResult;
  switch (method) {
    case 'ga':
      result = await gaMei(encoder, items, { ...common, lr: settings.lr, optimizer: settings.optimizer }, onProgress);
      break;
    case 'egg':
      result = await eggMei(encoder, needPrior(), items, guided, onProgress);
      break;
    case 'egg-x0':
      result = await eggX0Mei(encoder, needPrior(), items, guided, onProgress);
      break;
    case 'meni':
      result = await meni(encoder, needPrior(), items, guided, onProgress);
      break;
    case 'diverse':
      result = await diverseMeis(encoder, needPrior(), items, { ...guided, diversity: settings.diversity }, onProgress);
      break;
    case 'recon': {
      if (!task.dataset) throw new Error('recon needs a dataset');
      const pixels = await loadStimuli(task.dataset, runs.map((r) => r.targetImage!), spec);
      result = await reconstruct(encoder, needPrior(), { images: standardize(pixels, standardization) }, { ...guided, seeds: items.map((i) => i.seed) }, onProgress);
      break;
    }
  }

  const images: RunImage[][] = runs.map(() => []);
  items.forEach((item, i) => {
    const array = row(result.images, i);
    images[runOf(i)].push({
      index: images[runOf(i)].length,
      kind: KIND[method],
      seed: item.seed,
      sourceIndex: method === 'recon' ? runs[i].targetImage : null,
      pixels: float32(array.shape, toPixels(array.data)),
      array,
      space: inPrior ? 'prior' : 'encoder',
      activation: result.activation[i],
      energy: result.energy[i],
    });
  });
  return { images, seconds: result.seconds };
}

/** Natural top-k: the generator's rates of every dataset image, computed once for all the job's neurons. */
async function topK(task: SynthesisTask, spec: ReturnType<typeof inputSpec>, onSteps: (steps: RunStep[]) => Promise<void>): Promise<SynthesisOutput> {
  const started = performance.now();
  if (!task.dataset) throw new Error('topk needs a dataset');
  task.signal?.throwIfAborted();
  const all = Array.from({ length: task.dataset.count }, (_, k) => k);
  const pixels = await loadStimuli(task.dataset, all, spec);
  const rates = await encoderResponses(synthesisEncoder(task.generator), standardize(pixels, spec));
  task.signal?.throwIfAborted();
  const neurons = rates.shape[1];
  const k = Math.min(task.settings.k ?? 8, all.length);
  const images = task.runs.map((r) => {
    const rate = (i: number) => rates.data[i * neurons + r.column!];
    // most activating first; ties keep the earlier image first (as the engine's naturalTopK)
    const order = [...all].sort((a, b) => rate(b) - rate(a) || a - b).slice(0, k);
    return order.map(
      (source, index): RunImage => ({ index, kind: 'natural', seed: r.seed, sourceIndex: source, pixels: row(pixels, source), array: row(pixels, source), space: 'pixels', activation: rate(source), energy: -rate(source) }),
    );
  });
  await onSteps(
    images.map((set, run) => {
      const { data, shape } = previewOf(float32([1, ...set[0].pixels.shape], set[0].pixels.data));
      return { run, step: 1, steps: 1, energy: [set[0].energy], activation: [set[0].activation], preview: float32(shape.slice(1), data) };
    }),
  );
  return { images, seconds: (performance.now() - started) / 1000 };
}
