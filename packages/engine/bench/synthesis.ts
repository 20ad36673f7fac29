/**
 * `npm run bench:synthesis`: GA, EGG, EGG-x0 and MENI MEIs and the most activating natural image
 * for 10 neurons each of sessions 201025 and 210225, made with the demo "train" ensemble and scored
 * by the "train", "val" and "cross" ensembles and by each neuron's published compact model (the
 * in-silico ground truth). Times per image at batch 1 and batched, the cost model of EGG vs GA,
 * and a figure per neuron in docs/figures/synthesis.
 *
 * BENCH_NORM sets the norm budget c of every method (default each method's own, 25) to compare
 * budgets, e.g. the natural images' median norm; such a run writes no figures.
 *
 * Normalizations (docs/benchmarks.md): by each evaluator's response to the same neuron's GA MEI (the
 * paper's; GA is 1 by construction), and by each evaluator's largest response over the session's
 * 1200 natural images.
 */
import os from 'node:os';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { stackImages } from '../src/data/images.ts';
import { writeImageGrid } from '../src/data/image-grid.ts';
import { median } from '../src/evaluate/correlation.ts';
import { neuronKey } from '../src/evaluate/transfer.ts';
import { unetGraph } from '../src/models/unet.ts';
import { appendBackward } from '../src/onnx/autodiff.ts';
import { Graph } from '../src/onnx/graph.ts';
import { type NdArray, float32 } from '../src/onnx/ndarray.ts';
import { Rng } from '../src/random.ts';
import { createSession } from '../src/runtime/session.ts';
import { EGG_DEFAULTS } from '../src/synthesis/egg.ts';
import { GA_DEFAULTS } from '../src/synthesis/ga.ts';
import type { MethodName } from '../src/synthesis/methods/registry.ts';
import { type SynthesizedImage, synthesize } from '../src/synthesis/synthesize.ts';
import { inline } from '../src/models/scoring-model.ts';
import { EVALUATOR_NAMES, SESSIONS, bestNaturalResponses, bestPredictedNeurons, columnsOf, loadCompact, loadDemoModels, loadNatural, repo, scoreByEvaluators, v4DataPresent } from './demo-evaluation.ts';
import { formatGroundTruth, groundTruthReference, groundTruthReport } from './ground-truth.ts';
import { medianMs } from './measure.ts';

const figures = join(repo, 'docs/figures/synthesis');
const PER_SESSION = Number(process.env.BENCH_NEURONS ?? 10);
const METHODS: MethodName[] = ['ga', 'egg', 'egg-x0', 'meni'];
/** seeds of GA, EGG and EGG-x0 MEIs per neuron for the ground-truth figures (seed 0 at batch 1, the others batched) */
const SEEDS = Number(process.env.BENCH_SEEDS ?? 3);
/** the norm budget c of every method, when not its default */
const NORM = process.env.BENCH_NORM ? Number(process.env.BENCH_NORM) : undefined;
if (NORM !== undefined && !(NORM > 0)) throw new Error(`BENCH_NORM must be a positive number, got "${process.env.BENCH_NORM}"`);
const settings = NORM === undefined ? undefined : { norm: NORM };
const json = process.argv.includes('--json');
const log = (...a: unknown[]) => (json ? console.error(...a) : console.log(...a));

/** Forward + input-gradient time (ms, batch 1) of a graph with input `inputName`. */
async function gradientMs(graph: Graph, inputName: string, output: string, shape: number[], extra: Record<string, NdArray> = {}): Promise<number> {
  appendBackward(graph, { outputs: [output], wrt: [inputName] });
  const session = await createSession(graph);
  const rng = new Rng(1);
  const out = graph.value(output);
  const feeds = { ...extra, [inputName]: float32(shape, rng.normals(shape.reduce((a, b) => a * b, 1))), [`${output}_seed`]: float32([1, ...(out.shape.slice(1) as number[])], rng.normals((out.shape.slice(1) as number[]).reduce((a, b) => a * b, 1))) };
  const ms = await medianMs(() => session.run(feeds), 5);
  await session.release();
  return ms;
}

async function main() {
  if (!v4DataPresent('bench:synthesis')) return;
  const started = performance.now();
  mkdirSync(figures, { recursive: true });
  const models = await loadDemoModels();
  const { generator, input, prior } = models;

  // the 10 best-predicted neurons of each session (held-out r of the "val" ensemble)
  const neurons = await bestPredictedNeurons(PER_SESSION);
  const columns = columnsOf(generator, neurons);
  const compact = await loadCompact(neurons);

  // natural images: candidates for top-1 and the normalization by the best natural image
  const natural = await loadNatural(input);

  // synthesis at batch 1 (per-image time) and batched (all neurons in one call)
  const images = new Map<MethodName, SynthesizedImage[]>();
  const seconds = new Map<MethodName, number[]>();
  const batched = new Map<MethodName, number>();
  const bySeed = new Map<MethodName, SynthesizedImage[][]>();
  for (const method of METHODS) {
    const single: SynthesizedImage[] = [];
    const times: number[] = [];
    for (const column of columns) {
      const r = await synthesize({ method, generator, prior, settings, items: [{ neuron: column, seed: 0 }] });
      single.push(r.images[0]);
      times.push(r.seconds);
    }
    images.set(method, single);
    seconds.set(method, times);
    const all = await synthesize({ method, generator, prior, settings, items: columns.map((c) => ({ neuron: c, seed: 1 })) });
    batched.set(method, all.seconds / columns.length);
    const seeds = [single, all.images];
    if (method === 'ga' || method === 'egg' || method === 'egg-x0') {
      for (let seed = 2; seed < SEEDS; seed++) seeds.push((await synthesize({ method, generator, prior, settings, items: columns.map((c) => ({ neuron: c, seed })) })).images);
    }
    bySeed.set(method, seeds);
    log(`${method}: median ${median(times).toFixed(1)} s per image at batch 1, ${(all.seconds / columns.length).toFixed(1)} s per image at batch ${columns.length}`);
  }
  // the most activating natural image per neuron, for the generator
  const top: SynthesizedImage[] = [];
  for (const [i, column] of columns.entries()) {
    const s = neurons[i].session;
    const r = await synthesize({ method: 'topk', generator, items: [{ neuron: column, seed: 0 }], natural: natural.get(s)!.standardized });
    top.push(r.images[0]);
  }
  images.set('topk', top);

  // scores: every image by every evaluator in its own space; compact models per session
  const H = input.height;
  const scores = new Map<string, Map<string, number[]>>(); // method -> evaluator -> per neuron
  for (const [method, list] of images) scores.set(method, await scoreByEvaluators(list, neurons, models, compact));
  // each evaluator's best response over the session's natural images
  const best = await bestNaturalResponses(models, compact, natural);

  const reference = await groundTruthReference({ ga: bySeed.get('ga')!, neurons, compact, natural, models, c: NORM ?? EGG_DEFAULTS.norm });
  const groundTruthFigures = await groundTruthReport(reference, bySeed.get('egg')!);
  const groundTruthX0 = await groundTruthReport(reference, bySeed.get('egg-x0')!);

  const evaluatorNames = EVALUATOR_NAMES;
  const table: Record<string, Record<string, { byGa: number; byNatural: number }>> = {};
  for (const method of [...METHODS, 'topk' as MethodName]) {
    table[method] = {};
    for (const e of evaluatorNames) {
      const own = scores.get(method)!.get(e)!;
      const ga = scores.get('ga')!.get(e)!;
      table[method][e] = {
        byGa: median(own.map((v, i) => v / ga[i])),
        byNatural: median(own.map((v, i) => v / best.get(e)!.get(neuronKey(neurons[i]))!)),
      };
    }
  }

  // cost model: EGG / GA time as a function of the encoder's cost (spec: 4.7x less compute claimed)
  const encG = new Graph('enc');
  const x = encG.input('image', 'float32', ['batch', 1, H, input.width]);
  encG.output(inline(generator.graph, x), 'rates');
  const encoderMs = await gradientMs(encG, 'image', 'rates', [1, 1, H, input.width]);
  const { graph: unet } = unetGraph(prior.unet, { weights: prior.weights });
  const unetMs = await gradientMs(unet, 'x', 'eps', [1, prior.channels, prior.imageSize, prior.imageSize], { t: float32([1], [500]) });
  const gaSteps = GA_DEFAULTS.steps;
  const eggSteps = EGG_DEFAULTS.steps;
  const ratio = (e: number) => (eggSteps * (unetMs + e)) / (gaSteps * e);

  const cpu = os.cpus()[0]?.model ?? 'unknown';
  log(`\nsynthesis with the demo models (generator: attention-train; ${neurons.length} neurons: ${SESSIONS.map((s) => `${PER_SESSION} of ${s}`).join(', ')}; machine: ${cpu}, ${os.cpus().length} cores, CPU)`);
  for (const line of formatGroundTruth(groundTruthFigures)) log(line);
  for (const line of formatGroundTruth(groundTruthX0, 'EGG-x0')) log(line);
  log('');
  log(`normalized activation, median over neurons: by each evaluator's response to the GA MEI | by its best natural image`);
  log(`${'method'.padEnd(8)}${evaluatorNames.map((e) => e.padStart(18)).join('')}${'s/image b1'.padStart(12)}${`s/image b${columns.length}`.padStart(13)}`);
  for (const method of [...METHODS, 'topk' as MethodName]) {
    const cells = evaluatorNames.map((e) => `${table[method][e].byGa.toFixed(2)} | ${table[method][e].byNatural.toFixed(2)}`.padStart(18)).join('');
    const t = seconds.get(method);
    log(`${method.padEnd(8)}${cells}${(t ? median(t).toFixed(1) : '-').padStart(12)}${(batched.has(method) ? batched.get(method)!.toFixed(1) : '-').padStart(13)}`);
  }
  const egg = median(seconds.get('egg')!);
  const ga = median(seconds.get('ga')!);
  log(`\nEGG/GA time per image: ${(egg / ga).toFixed(2)} at batch 1, ${(batched.get('egg')! / batched.get('ga')!).toFixed(2)} batched; EGG-x0/EGG ${(median(seconds.get('egg-x0')!) / egg).toFixed(2)}`);
  log(`cost model: encoder forward+gradient ${encoderMs.toFixed(1)} ms, prior UNet forward+gradient ${unetMs.toFixed(1)} ms (batch 1);`);
  log(`  EGG/GA = ${eggSteps}(U + E) / (${gaSteps} E): ${[1, 4, 16, 64].map((f) => `E = ${f}x demo encoder: ${ratio(encoderMs * f).toFixed(2)}`).join('; ')}; EGG is cheaper once E > ${((eggSteps * unetMs) / (gaSteps - eggSteps)).toFixed(1)} ms`);
  const crossWin = table.egg.cross.byGa >= 1;
  log(`claim "EGG transfers across architectures at least as well as GA": cross ${table.egg.cross.byGa.toFixed(2)} and compact ${table.egg.compact.byGa.toFixed(2)} of GA's: ${crossWin ? 'holds' : 'does not hold'} on these data for the cross ensemble`);
  log(`claim "MENIs reach the most activating natural images": MENI ${table.meni.val.byNatural.toFixed(2)} vs top natural ${table.topk.val.byNatural.toFixed(2)} (val, by best natural image), compact ${table.meni.compact.byNatural.toFixed(2)} vs ${table.topk.compact.byNatural.toFixed(2)}`);

  // figures of the default settings: one row per neuron (GA, EGG, EGG-x0, MENI, top natural image)
  if (NORM === undefined) {
    for (const [i, n] of neurons.entries()) {
      const row = [...METHODS, 'topk' as MethodName].map((m) => images.get(m)![i].pixels);
      await writeImageGrid(join(figures, `${n.session}_${n.neuron}.png`), stackImages(row), { columns: 5, scale: 3, padding: 2 });
    }
    log('figures: docs/figures/synthesis/<session>_<neuron>.png (GA, EGG, EGG-x0, MENI, top natural image)');
  } else log(`norm budget c = ${NORM} for every method (BENCH_NORM): no figures written`);
  log(`total ${((performance.now() - started) / 60000).toFixed(1)} min`);
  if (json) console.log(JSON.stringify({ machine: { cpu, cores: os.cpus().length }, device: 'cpu', neurons, groundTruth: groundTruthFigures, groundTruthX0, table, seconds: Object.fromEntries(seconds), batched: Object.fromEntries(batched), encoderMs, unetMs }));
}

await main();
