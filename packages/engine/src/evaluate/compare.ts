/**
 * `excite compare` (docs/cli.md): images synthesized by each generator with each method for
 * the chosen neurons and seeds, each scored by every evaluator in its own input space (raw
 * responses; normalization is the reader's choice). Rows follow the architecture contract.
 */
import { mkdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { writeImageGrid } from '../data/image-grid.ts';
import { loadStimuli, standardize } from '../data/stimuli.ts';
import { readDataset } from '../data/dataset.ts';
import { loadPrior } from '../diffusion/prior.ts';
import { type ScoringModel, loadScoringModel, synthesisInput } from '../models/scoring-model.ts';
import { type NdArray, float32 } from '../onnx/ndarray.ts';
import { priorImageShape } from '../synthesis/guidance-scale.ts';
import type { ProgressCallback } from '../synthesis/progress.ts';
import { type MethodName, resolveBatchSettings } from '../synthesis/methods/registry.ts';
import { type SynthesizeSettings, synthesize } from '../synthesis/synthesize.ts';
import { synthesisPrior } from '../synthesis/synthesis-prior.ts';
import { parseRange } from '../train/sessions.ts';
import { parseNeurons } from './neuron-spec.ts';
import { scoreImages } from './transfer.ts';

export interface CompareOptions {
  generators: readonly string[];
  evaluators: readonly string[];
  neurons: string;
  methods: readonly MethodName[];
  prior?: string;
  seeds?: readonly number[];
  /** folder for the PNG images (default ./compare) */
  out?: string;
  settings?: SynthesizeSettings;
  /** top-k: dataset folders of the neurons' sessions and the candidate image columns */
  data?: readonly string[];
  images?: string;
  /** images synthesized per call (default 16) */
  batch?: number;
  onProgress?: (generator: string, method: MethodName) => ProgressCallback | undefined;
}

export interface CompareRow {
  generator: string;
  method: MethodName;
  neuron: string | number;
  session: string;
  row: number;
  seed: number;
  /** wall time of the batch divided by its images */
  seconds: number;
  activation: number;
  image: string;
  scores: Record<string, number | null>;
}

const slug = (s: string) => basename(s.replace(/\/+$/, '')).replace(/[^A-Za-z0-9_.-]+/g, '_');

/** Candidate natural images per session in the generator's input space. */
async function naturalImages(generator: ScoringModel, data: readonly string[], images: string | undefined): Promise<NdArray<Float32Array>> {
  const input = synthesisInput(generator);
  const parts: NdArray<Float32Array>[] = [];
  for (const dir of data) {
    const dataset = await readDataset(dir);
    parts.push(standardize(await loadStimuli(dataset.images, parseRange(images, dataset.images.count), input), input));
  }
  const n = parts.reduce((s, p) => s + p.shape[0], 0);
  const out = float32([n, ...parts[0].shape.slice(1)], new Float32Array(n * parts[0].data.length / parts[0].shape[0]));
  let o = 0;
  for (const p of parts) {
    out.data.set(p.data, o);
    o += p.data.length;
  }
  return out;
}

export async function compare(o: CompareOptions): Promise<{ rows: CompareRow[] }> {
  const out = o.out ?? 'compare';
  await mkdir(out, { recursive: true });
  const seeds = o.seeds?.length ? o.seeds : [0];
  const prior = o.prior ? synthesisPrior(await loadPrior(o.prior)) : undefined;
  const generators = await Promise.all(o.generators.map((g) => loadScoringModel(g)));
  const evaluators = await Promise.all(o.evaluators.map((e) => loadScoringModel(e)));
  const choices = parseNeurons(o.neurons, generators[0].neurons);
  const settings = resolveBatchSettings(o.methods, o.settings, {}, { priorShape: prior && priorImageShape(prior) });
  const rows: CompareRow[] = [];
  for (const [gi, generator] of generators.entries()) {
    const natural = o.methods.includes('topk') ? await naturalImages(generator, o.data ?? [], o.images) : undefined;
    for (const method of o.methods) {
      // the same neurons (by session and row) in this generator's columns
      const items = choices.flatMap((c) => {
        const column = generator.neurons.findIndex((n) => n.session === c.neuron.session && n.neuron === c.neuron.neuron);
        if (column < 0) throw new Error(`${o.generators[gi]} has no neuron ${c.neuron.session}:${c.neuron.neuron}`);
        return seeds.map((seed) => ({ choice: c, item: { neuron: column, seed } }));
      });
      const batch = o.batch ?? 16;
      for (let start = 0; start < items.length; start += batch) {
        const chunk = items.slice(start, start + batch);
        const result = await synthesize({ method, generator, prior, items: chunk.map((c) => c.item), settings: settings.get(method), natural, onProgress: o.onProgress?.(o.generators[gi], method) });
        const pixels = float32([chunk.length, ...result.images[0].pixels.shape], new Float32Array(chunk.length * result.images[0].pixels.data.length));
        result.images.forEach((im, i) => pixels.data.set(im.pixels.data, i * im.pixels.data.length));
        // the stimulus at the generator's input: grayscale, or gray in three channels for an RGB generator
        const [C, H, W] = result.images[0].pixels.shape;
        const scores = await Promise.all(evaluators.map((e) => scoreImages(e, pixels, chunk.map((c) => c.choice.neuron), { channels: C as 1 | 3, height: H, width: W })));
        for (const [i, im] of result.images.entries()) {
          const file = join(out, `${slug(o.generators[gi])}-${method}-${chunk[i].choice.neuron.session}_${chunk[i].choice.neuron.neuron}-s${im.seed}.png`);
          await writeImageGrid(file, float32([1, ...im.pixels.shape], im.pixels.data), { padding: 0 });
          rows.push({
            generator: o.generators[gi],
            method,
            neuron: chunk[i].choice.label,
            session: chunk[i].choice.neuron.session,
            row: chunk[i].choice.neuron.neuron,
            seed: im.seed,
            seconds: result.seconds / chunk.length,
            activation: im.activation,
            image: file,
            scores: Object.fromEntries(o.evaluators.map((name, k) => [name, Number.isNaN(scores[k][i]) ? null : scores[k][i]])),
          });
        }
      }
    }
  }
  return { rows };
}
