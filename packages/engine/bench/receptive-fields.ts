/**
 * Where in the image do the twins look, against the ground truth? For each neuron, the mean over
 * natural images of |d rate / d pixel| on the generator's 40x40 grayscale pixel grid (the
 * image-space receptive field as the model sees it), for each given model and for the neuron's
 * published compact model; printed per model: the correlation of its map with the compact model's,
 * the distance between the maps' centres of mass (pixels of 40), and how much of the image the map
 * covers (participation ratio (sum m)^2 / sum m^2 over the 1600 pixels); beside the correlation,
 * its control: the same map against the other neurons' compact maps of the session:
 *
 *   npx tsx packages/engine/bench/receptive-fields.ts models/demo/attention-train [OTHER_MODEL ...]
 *
 * The neurons: the 22 of egg-paired-generators.ts (PAIRED_NEURONS); images 600..699 of each session (held out).
 */
import os from 'node:os';
import { appendBackward } from '../src/onnx/autodiff.ts';
import { float32, type NdArray } from '../src/onnx/ndarray.ts';
import { mul } from '../src/onnx/ops/elementwise.ts';
import { reduceSum } from '../src/onnx/ops/reduce.ts';
import { median, pearsonPerNeuron } from '../src/evaluate/correlation.ts';
import { columnOf } from '../src/evaluate/transfer.ts';
import type { NeuronRef } from '../src/models/encoder-graph.ts';
import { type ScoringModel, loadScoringModel, pixelScoringGraph } from '../src/models/scoring-model.ts';
import { createSession } from '../src/runtime/session.ts';
import { PAIRED_NEURONS as neurons, SESSIONS, loadCompact, loadDemoModels, loadNatural, scoringSpace, v4DataPresent } from './demo-evaluation.ts';

const IMAGES = [600, 700] as const;

/** Per neuron (in `neurons` order), the mean |d rate / d pixel| map [H*W] over `pixels`. */
async function sensitivity(model: ScoringModel, neurons: readonly NeuronRef[], pixels: NdArray<Float32Array>, space: ReturnType<typeof scoringSpace>): Promise<Float64Array[]> {
  const g = pixelScoringGraph(model, space);
  const rates = g.outputs.find((o) => o.name === 'rates')!;
  const pick = g.input('pick', 'float32', [model.neurons.length]);
  g.output(reduceSum(mul(rates, pick), undefined, false), 'drive');
  appendBackward(g, { outputs: ['drive'], wrt: ['pixels'] });
  const session = await createSession(g);
  const size = space.height * space.width;
  try {
    const maps: Float64Array[] = [];
    for (const n of neurons) {
      const column = columnOf(model, n);
      if (column < 0) throw new Error(`${model.name} does not predict ${n.session}:${n.neuron}`);
      const oneHot = float32([model.neurons.length]);
      oneHot.data[column] = 1;
      const out = await session.run({ pixels, pick: oneHot, drive_seed: float32([], [1]) }, ['pixels_grad']);
      const grad = out.pixels_grad.data as Float32Array;
      const map = new Float64Array(size);
      const count = pixels.shape[0];
      for (let i = 0; i < count; i++) for (let k = 0; k < size; k++) map[k] += Math.abs(grad[i * size + k]) / count;
      maps.push(map);
    }
    return maps;
  } finally {
    await session.release();
  }
}

/** Pearson correlation of two maps over their pixels (each map one column of observations). */
const correlation = (a: Float64Array, b: Float64Array): number => pearsonPerNeuron(a, b, a.length, 1)[0];

function centre(m: Float64Array, width: number): [number, number] {
  let s = 0;
  let r = 0;
  let c = 0;
  for (let k = 0; k < m.length; k++) {
    s += m[k];
    r += m[k] * Math.floor(k / width);
    c += m[k] * (k % width);
  }
  return [r / s, c / s];
}

/** the fraction of the image a map covers: (sum m)^2 / sum m^2 over the number of pixels */
function coverage(m: Float64Array): number {
  let s = 0;
  let sq = 0;
  for (const v of m) {
    s += v;
    sq += v * v;
  }
  return (s * s) / sq / m.length;
}

async function main() {
  const dirs = process.argv.slice(2);
  if (dirs.length < 1) throw new Error('usage: receptive-fields.ts MODEL [MODEL ...]');
  if (!v4DataPresent('receptive-fields')) return;
  const { input } = await loadDemoModels();
  const space = scoringSpace(input);
  const natural = await loadNatural(input);
  const compact = await loadCompact(neurons);
  const models = await Promise.all(dirs.map((d) => loadScoringModel(d)));
  const maps = new Map<string, Float64Array[]>(); // model name -> per neuron, in `order` (session by session)
  for (const s of SESSIONS) {
    const here = neurons.filter((n) => n.session === s);
    const all = natural.get(s)!.pixels;
    const per = all.data.length / all.shape[0];
    const pixels = float32([IMAGES[1] - IMAGES[0], ...all.shape.slice(1)], all.data.subarray(IMAGES[0] * per, IMAGES[1] * per));
    for (const [name, model] of [['compact', compact[s]] as const, ...models.map((m, i) => [dirs[i], m] as const)]) {
      maps.set(name, [...(maps.get(name) ?? []), ...(await sensitivity(model, here, pixels, space))]);
    }
  }
  const order = SESSIONS.flatMap((s) => neurons.filter((n) => n.session === s));
  const truth = maps.get('compact')!;
  console.log(`image-space receptive fields, ${neurons.length} neurons, mean |d rate / d pixel| over images ${IMAGES[0]}..${IMAGES[1] - 1} on the ${space.width}x${space.height} grid (machine: ${os.cpus()[0]?.model}, ${os.cpus().length} cores, CPU)`);
  console.log(`compact (ground truth): median coverage ${median(truth.map(coverage)).toFixed(2)} of the image`);
  for (const dir of dirs) {
    const m = maps.get(dir)!;
    const r = m.map((x, i) => correlation(x, truth[i]));
    const shift = m.map((x, i) => {
      const [a, b] = [centre(x, space.width), centre(truth[i], space.width)];
      return Math.hypot(a[0] - b[0], a[1] - b[1]);
    });
    // the control: the same map against the compact maps of the session's other neurons (what any
    // map near the image's centre would reach)
    const others = m.flatMap((x, i) => order.flatMap((n, j) => (j !== i && n.session === order[i].session ? [correlation(x, truth[j])] : [])));
    console.log(`${dir}: median correlation with the compact model's map ${median(r).toFixed(2)} (with other neurons' compact maps of the session: ${median(others).toFixed(2)}), centre ${median(shift).toFixed(1)} pixels away (median), median coverage ${median(m.map(coverage)).toFixed(2)}`);
    console.log(`  per neuron (correlation): ${order.map((n, i) => `${n.session}:${n.neuron} ${r[i].toFixed(2)}`).join('; ')}`);
  }
}

await main();
