/**
 * `npm run bench:guidance`: what the guidance scale lambda does on the demo prior (1x40x40). EGG's
 * step subtracts lambda g / ||g|| from x_{t-1}; the paper's lambda = 10 was set for a 3x256x256
 * prior, where it moves each pixel about 11 times less than on the demo prior. This sweeps lambda
 * over {the size-scaled default, 1, 3, 10} for EGG MEIs of the demo "train" ensemble's
 * best-predicted neurons (half of BENCH_NEURONS from each of sessions 201025 and 210225, seeds
 * 0..BENCH_SEEDS-1), with GA MEIs of the same neurons and seeds as the reference, and prints per
 * setting:
 *   - the median activation by train, val, cross and the compact ground-truth models, each as a
 *     ratio to that evaluator's best response over the session's 1200 natural images;
 *   - the fraction of MEIs for which EGG >= GA on each evaluator (same neuron and seed);
 *   - how far the final x0 strays from the prior's data: its median L2 norm in the prior's [-1, 1]
 *     space against the median norm of the session's natural images mapped into that space
 *     (resized to the prior's size, gray, p / 127.5 - 1), and the fraction of x0's pixels outside [-1, 1].
 *
 * Environment: BENCH_NEURONS (default 8), BENCH_SEEDS (2), BENCH_STEPS (EGG's K, 100),
 * BENCH_GA_STEPS (GA's steps, its default 1001), EXCITE_V4_DATA (the V4 data folder). `--json`
 * prints the table as JSON on stdout (the log goes to stderr).
 */
import os from 'node:os';
import { join } from 'node:path';
import { readDataset } from '../src/data/dataset.ts';
import { loadStimuli } from '../src/data/stimuli.ts';
import { pixelsToPrior } from '../src/diffusion/prior.ts';
import { median } from '../src/evaluate/correlation.ts';
import { neuronKey } from '../src/evaluate/transfer.ts';
import type { NeuronRef } from '../src/models/encoder-graph.ts';
import type { NdArray } from '../src/onnx/ndarray.ts';
import { EGG_DEFAULTS } from '../src/synthesis/egg.ts';
import { GA_DEFAULTS } from '../src/synthesis/ga.ts';
import { guidanceScaleFor, priorImageShape } from '../src/synthesis/guidance-scale.ts';
import { type Synthesized, synthesize } from '../src/synthesis/synthesize.ts';
import { EVALUATOR_NAMES, SESSIONS, bestNaturalResponses, bestPredictedNeurons, columnsOf, loadCompact, loadDemoModels, loadNatural, scoreByEvaluators, v4Data, v4DataPresent } from './demo-evaluation.ts';

const NEURONS = Number(process.env.BENCH_NEURONS ?? 8);
const SEEDS = Number(process.env.BENCH_SEEDS ?? 2);
const STEPS = Number(process.env.BENCH_STEPS ?? EGG_DEFAULTS.steps);
const GA_STEPS = Number(process.env.BENCH_GA_STEPS ?? GA_DEFAULTS.steps);
const FIXED_SCALES = [1, 3, 10];
const json = process.argv.includes('--json');
const log = (...a: unknown[]) => (json ? console.error(...a) : console.log(...a));

/** Per image: its L2 norm, and the count of its values outside [-1, 1]. */
function normsAndOutside(x: NdArray<Float32Array>): { norms: number[]; outside: number } {
  const [N] = x.shape as number[];
  const n = x.data.length / N;
  const norms: number[] = [];
  let outside = 0;
  for (let i = 0; i < N; i++) {
    let s = 0;
    for (let k = i * n; k < (i + 1) * n; k++) {
      const v = x.data[k];
      s += v * v;
      if (v < -1 || v > 1) outside++;
    }
    norms.push(Math.sqrt(s));
  }
  return { norms, outside };
}

interface Row {
  setting: string;
  scale: number | null;
  /** evaluator -> median of response / best natural response */
  byNatural: Record<string, number>;
  /** evaluator -> fraction of MEIs with EGG >= GA */
  eggAtLeastGa?: Record<string, number>;
  x0Norm?: number;
  outsideFraction?: number;
  seconds: number;
}

async function main() {
  if (!Number.isInteger(NEURONS) || NEURONS < 2 || NEURONS % 2) throw new Error(`BENCH_NEURONS must be an even integer >= 2 (half from each session), got ${process.env.BENCH_NEURONS}`);
  if (!v4DataPresent('bench:guidance')) return;
  const started = performance.now();
  const models = await loadDemoModels();
  const { generator, input, prior } = models;
  const neurons = await bestPredictedNeurons(NEURONS / 2);
  const columns = columnsOf(generator, neurons);
  const compact = await loadCompact(neurons);
  const natural = await loadNatural(input);
  const best = await bestNaturalResponses(models, compact, natural);

  // the MEIs: every neuron with every seed, one batch per setting
  const items = columns.flatMap((neuron) => Array.from({ length: SEEDS }, (_, seed) => ({ neuron, seed })));
  const targets: NeuronRef[] = neurons.flatMap((n) => Array.from({ length: SEEDS }, () => n));

  // the natural images in the prior's space: resized to its size, gray, p / 127.5 - 1 (its training data's map)
  const shape = priorImageShape(prior);
  const naturalNorms: number[] = [];
  for (const s of SESSIONS) {
    const ds = await readDataset(join(v4Data, 'sessions', s));
    const gray = await loadStimuli(ds.images, Array.from({ length: ds.images.count }, (_, i) => i), { height: shape.height, width: shape.width, fit: 'resize' });
    // a gray image shown on C channels: its norm is sqrt(C) times the one channel's
    for (const norm of normsAndOutside({ ...gray, data: pixelsToPrior(gray.data) } as NdArray<Float32Array>).norms) naturalNorms.push(norm * Math.sqrt(shape.channels));
  }
  const naturalNorm = median(naturalNorms);

  const rowOf = async (setting: string, result: Synthesized, ga?: Map<string, number[]>): Promise<{ row: Row; scores: Map<string, number[]> }> => {
    const scores = await scoreByEvaluators(result.images, targets, models, compact);
    const byNatural: Record<string, number> = {};
    const eggAtLeastGa: Record<string, number> = {};
    for (const e of EVALUATOR_NAMES) {
      const own = scores.get(e)!;
      byNatural[e] = median(own.map((v, i) => v / best.get(e)!.get(neuronKey(targets[i]))!));
      if (ga) eggAtLeastGa[e] = own.filter((v, i) => v >= ga.get(e)![i]).length / own.length;
    }
    const row: Row = { setting, scale: result.settings.scale ?? null, byNatural, seconds: result.seconds };
    if (ga) row.eggAtLeastGa = eggAtLeastGa;
    if (result.priorImages) {
      const { norms, outside } = normsAndOutside(result.priorImages);
      row.x0Norm = median(norms);
      row.outsideFraction = outside / result.priorImages.data.length;
    }
    return { row, scores };
  };

  const ga = await synthesize({ method: 'ga', generator, items, settings: { steps: GA_STEPS } });
  const { row: gaRow, scores: gaScores } = await rowOf(`GA (${GA_STEPS} steps)`, ga);
  log(`GA: ${ga.seconds.toFixed(1)} s for ${items.length} MEIs`);
  const rows: Row[] = [gaRow];
  const settings: { name: string; scale?: number }[] = [{ name: 'size-scaled' }, ...FIXED_SCALES.map((scale) => ({ name: `lambda ${scale}`, scale }))];
  for (const s of settings) {
    // the size-scaled default: no scale given, the registry resolves it against the prior (recorded in the result's settings)
    const result = await synthesize({ method: 'egg', generator, prior, items, settings: { steps: STEPS, scale: s.scale } });
    const { row } = await rowOf(`EGG ${s.name}`, result, gaScores);
    log(`EGG ${s.name} (lambda ${row.scale!.toFixed(3)}): ${result.seconds.toFixed(1)} s for ${items.length} MEIs`);
    rows.push(row);
  }

  const cpu = os.cpus()[0]?.model ?? 'unknown';
  const scaled = guidanceScaleFor(EGG_DEFAULTS.scale, shape);
  log(`\nguidance scale sweep (generator attention-train; prior ${shape.channels}x${shape.height}x${shape.width}, size-scaled default lambda = 10 x sqrt(${shape.channels * shape.height * shape.width} / 196608) = ${scaled.toFixed(3)}; ${neurons.length} neurons: ${SESSIONS.map((s) => `${NEURONS / 2} of ${s}`).join(', ')}; seeds 0..${SEEDS - 1}; EGG ${STEPS} steps, GA ${GA_STEPS} steps; machine: ${cpu}, ${os.cpus().length} cores; device: cpu)`);
  log(`activation: median over MEIs of each evaluator's response / its best response over the session's natural images; EGG>=GA: fraction of MEIs (same neuron and seed)`);
  log(`x0 norm: median L2 norm of the final x0 in the prior's [-1, 1] space (natural images of the sessions in that space: median ${naturalNorm.toFixed(1)}); outside: fraction of x0's pixels outside [-1, 1]`);
  const head = `${'setting'.padEnd(22)}${'lambda'.padStart(8)}${EVALUATOR_NAMES.map((e) => e.padStart(9)).join('')}   ${EVALUATOR_NAMES.map((e) => `>=GA ${e}`.padStart(13)).join('')}${'x0 norm'.padStart(9)}${'outside'.padStart(9)}${'s'.padStart(8)}`;
  log(head);
  for (const r of rows) {
    const cells = EVALUATOR_NAMES.map((e) => r.byNatural[e].toFixed(2).padStart(9)).join('');
    const wins = EVALUATOR_NAMES.map((e) => (r.eggAtLeastGa ? r.eggAtLeastGa[e].toFixed(2) : '-').padStart(13)).join('');
    log(`${r.setting.padEnd(22)}${(r.scale === null ? '-' : r.scale.toFixed(3)).padStart(8)}${cells}   ${wins}${(r.x0Norm === undefined ? '-' : r.x0Norm.toFixed(1)).padStart(9)}${(r.outsideFraction === undefined ? '-' : r.outsideFraction.toFixed(3)).padStart(9)}${r.seconds.toFixed(1).padStart(8)}`);
  }
  log(`total ${((performance.now() - started) / 60000).toFixed(1)} min`);
  if (json) console.log(JSON.stringify({ machine: { cpu, cores: os.cpus().length }, device: 'cpu', prior: shape, sizeScaledScale: scaled, neurons, seeds: SEEDS, steps: STEPS, gaSteps: GA_STEPS, naturalNorm, rows }));
}

await main();
