/**
 * One job's engine call: the job's runs become the items of one call of the engine's `synthesize`
 * (a MEI run is one item, a diverse set `setSize` items of its neuron, a top-k run `k` items of its
 * neuron ranked 0..k-1, a reconstruction one item with its target image), the engine's per-step
 * events are split per run, and each run gets back its images as the engine made them: the
 * stimulus in pixels, the same image `excite compare` scores. Nothing here knows the database;
 * worker.ts does the storing.
 */
import { type ImageArchive, type MethodName, type NdArray, type SessionCache, type SynthesisCheckpoint, type SynthesisItem, type SynthesisPrior, type SynthesisProgress, float32, joinCheckpoints, methodOf, sliceCheckpoint, synthesize as synthesizeImages, loadStimuli, standardize, type ScoringModel, synthesisInput } from '@excite/engine';
import type { ImageKind, RunSettings } from '../db/schema.ts';

export interface TaskRun {
  /** the generator's output column of the run's neuron (null: reconstruction) */
  column: number | null;
  targetImage: number | null;
  seed: number;
}

export interface SynthesisTask {
  method: MethodName;
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
  /** [C, H, W] the stimulus, 0..255 in 8-bit levels: stored, exported and scored as it is */
  pixels: NdArray<Float32Array>;
  activation: number;
  energy: number;
}

export interface SynthesisOutput {
  /** per run */
  images: RunImage[][];
  seconds: number;
}

/** The engine's items for the job's runs, and the run each item belongs to (a run's items are consecutive). */
function itemsOf(task: SynthesisTask): { items: SynthesisItem[]; runOf: number[] } {
  const items: SynthesisItem[] = [];
  const runOf: number[] = [];
  task.runs.forEach((run, r) => {
    const own: SynthesisItem[] =
      task.method === 'diverse'
        ? Array.from({ length: task.settings.setSize! }, (_, j) => ({ neuron: run.column!, seed: run.seed + j }))
        : task.method === 'topk'
          ? Array.from({ length: Math.min(task.settings.k!, task.dataset?.count ?? 0) }, (_, rank) => ({ neuron: run.column!, seed: rank }))
          : [{ neuron: run.column ?? -1, seed: run.seed }];
    for (const item of own) {
      items.push(item);
      runOf.push(r);
    }
  });
  return { items, runOf };
}

export async function synthesize(task: SynthesisTask, onSteps: (steps: RunStep[], checkpoints?: RunCheckpoints) => Promise<void>): Promise<SynthesisOutput> {
  const { runs } = task;
  const method = methodOf(task.method);
  const spec = synthesisInput(task.generator);
  const { items, runOf } = itemsOf(task);
  const first = runOf.map((r, i) => (i === 0 || runOf[i - 1] !== r ? i : -1)).filter((i) => i >= 0);

  let natural: NdArray<Float32Array> | undefined;
  let targets: { images: NdArray<Float32Array> } | undefined;
  if (method.needs.dataset) {
    if (!task.dataset) throw new Error(`${method.name} needs a dataset`);
    const rows = method.target === 'responses' ? runs.map((r) => r.targetImage!) : Array.from({ length: task.dataset.count }, (_, k) => k);
    const images = standardize(await loadStimuli(task.dataset, rows, spec), spec);
    if (method.target === 'responses') targets = { images };
    else natural = images;
  }

  const onProgress = async (e: SynthesisProgress) => {
    const [, C, h, w] = e.preview.shape;
    const size = C * h * w;
    const steps = new Map<number, RunStep>();
    runOf.forEach((r, i) => {
      let s = steps.get(r);
      if (!s) {
        const preview = float32([C, h, w], e.preview.data.slice(i * size, (i + 1) * size));
        s = { run: r, step: e.step, steps: e.steps, timestep: e.timestep, energy: [], activation: [], preview };
        steps.set(r, s);
      }
      s.energy.push(e.energy[i]);
      s.activation.push(e.activation[i]);
    });
    const checkpoint = e.checkpoint;
    const perRun = checkpoint && (() => {
      const all = checkpoint();
      return first.map((from, r) => sliceCheckpoint(all, from, first[r + 1] ?? items.length));
    });
    await onSteps([...steps.values()], perRun);
  };

  const result = await synthesizeImages({
    method: method.name,
    generator: task.generator,
    prior: task.prior,
    items,
    settings: settingsFor(task),
    natural,
    targets,
    onProgress,
    signal: task.signal,
    sessions: task.sessions,
    resume: task.resume && joinCheckpoints(task.resume),
  });

  const images: RunImage[][] = runs.map(() => []);
  result.images.forEach((image, i) => {
    const r = runOf[i];
    images[r].push({
      index: images[r].length,
      kind: method.imageKind,
      // top-k items are ranks; the images keep their run's seed
      seed: method.name === 'topk' ? runs[r].seed : image.seed,
      sourceIndex: image.sourceIndex ?? (method.target === 'responses' ? runs[r].targetImage : null),
      pixels: image.pixels,
      activation: image.activation,
      energy: image.energy,
    });
  });
  return { images, seconds: result.seconds };
}

/** The run's settings that its method declares: runs stored by earlier versions may hold others (top-k's steps: 1), which the engine would refuse. */
function settingsFor(task: SynthesisTask): RunSettings {
  const method = methodOf(task.method);
  return Object.fromEntries(Object.entries(task.settings).filter(([name]) => name in method.settings)) as RunSettings;
}
