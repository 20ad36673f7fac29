/**
 * Do better twins make better EGG MEIs on the ground truth? EGG MEIs of two or more generators
 * (e.g. the demo `attention-train` of two releases, or one core with readouts fitted two ways) for
 * the same neurons and fresh seeds, with the demo prior, each scored by the neuron's compact model
 * over its best natural image; every generator after the first is compared with the first:
 *
 *   git archive <revision> models/demo/attention-train | tar -x -C /tmp/previous
 *   npx tsx packages/engine/bench/egg-paired-generators.ts /tmp/previous/models/demo/attention-train models/demo/attention-train
 *
 * The neurons: the 22 of the two bench:synthesis runs in docs/benchmarks.md; seeds 10..15.
 * `--method egg-x0` makes the MEIs with EGG's cheap variant (the gradient with respect to x0 only)
 * instead.
 */
import os from 'node:os';
import { mean, median } from '../src/evaluate/correlation.ts';
import { maxRates, neuronKey } from '../src/evaluate/transfer.ts';
import { loadScoringModel } from '../src/models/scoring-model.ts';
import { type MethodName, methodOf } from '../src/synthesis/methods/registry.ts';
import { synthesize } from '../src/synthesis/synthesize.ts';
import { PAIRED_NEURONS as neurons, SESSIONS, columnsOf, groundTruthScores, loadCompact, loadDemoModels, loadNatural, scoringSpace, v4DataPresent } from './demo-evaluation.ts';

const SEEDS = [10, 11, 12, 13, 14, 15];
const sd = (v: number[]) => Math.sqrt(v.reduce((s, x) => s + (x - mean(v)) ** 2, 0) / (v.length - 1));

async function main() {
  const args = process.argv.slice(2);
  const at = args.indexOf('--method');
  const method = (at >= 0 ? args.splice(at, 2)[1] : 'egg') as MethodName;
  methodOf(method); // an unknown name fails here, before the minutes of loading
  const dirs = args;
  if (dirs.length < 1) throw new Error('usage: egg-paired-generators.ts [--method egg|egg-x0] GENERATOR_A [GENERATOR_B ...]');
  if (!v4DataPresent('egg-paired-generators')) return;
  const models = await loadDemoModels();
  const compact = await loadCompact(neurons);
  const natural = await loadNatural(models.input);
  const space = scoringSpace(models.input);
  const best = new Map<string, number>();
  for (const s of SESSIONS) for (const [k, v] of await maxRates(compact[s], natural.get(s)!.pixels, space)) best.set(k, v);
  // ratios[generator][seed][neuron]: ground-truth response / best natural image
  const ratios: number[][][] = [];
  for (const dir of dirs) {
    const generator = await loadScoringModel(dir);
    const columns = columnsOf(generator, neurons);
    const perSeed: number[][] = [];
    for (const seed of SEEDS) {
      const r = await synthesize({ method, generator, prior: models.prior, items: columns.map((c) => ({ neuron: c, seed })) });
      const scores = await groundTruthScores(r.images, neurons, compact, space);
      perSeed.push(neurons.map((n, i) => scores[i] / best.get(neuronKey(n))!));
    }
    ratios.push(perSeed);
  }
  console.log(`${method} MEIs on the ground truth, ${neurons.length} neurons x seeds ${SEEDS.join(', ')} (machine: ${os.cpus()[0]?.model}, ${os.cpus().length} cores, CPU)`);
  const perNeuron = ratios.map((g) => neurons.map((_, i) => mean(g.map((seed) => seed[i]))));
  dirs.forEach((dir, g) => {
    const medians = ratios[g].map((seed) => median(seed));
    console.log(`${dir}: median over neurons / best natural image ${mean(medians).toFixed(2)} ± ${sd(medians).toFixed(2)} (mean ± sd over seeds); median of per-neuron means ${median(perNeuron[g]).toFixed(2)}`);
  });
  for (let g = 1; g < dirs.length; g++) {
    console.log(`neurons driven more by ${dirs[g]}'s MEIs than by ${dirs[0]}'s (mean over seeds): ${perNeuron[g].filter((v, i) => v > perNeuron[0][i]).length} of ${neurons.length}`);
  }
  console.log(`per neuron, in the order of the generators: ${neurons.map((n, i) => `${n.session}:${n.neuron} ${perNeuron.map((p) => p[i].toFixed(2)).join(' ')}`).join('; ')}`);
}

await main();
