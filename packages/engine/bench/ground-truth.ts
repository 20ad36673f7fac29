/**
 * The ground-truth part of bench:synthesis: how well MEIs drive each neuron's published compact
 * model (the in-silico V4 neuron), per neuron and over seeds, against GA MEIs and against the
 * session's best natural image, both as it is and rescaled to the MEI's contrast (its L2 norm in
 * the generator's standardized input, where the MEI's norm budget c is set).
 */
import { mean, median } from '../src/evaluate/correlation.ts';
import { maxRates, neuronKey } from '../src/evaluate/transfer.ts';
import type { NeuronRef } from '../src/models/encoder-graph.ts';
import type { ScoringModel } from '../src/models/scoring-model.ts';
import { type NdArray, float32 } from '../src/onnx/ndarray.ts';
import type { SynthesizedImage } from '../src/synthesis/synthesize.ts';
import { type DemoModels, type NaturalImages, SESSIONS, groundTruthScores, scoringSpace } from './demo-evaluation.ts';

export interface GroundTruthReport {
  /** L2 norm of the MEIs in the generator's standardized input, and of the natural images there */
  norm: { mei: number; naturalMedian: number; natural5: number; natural95: number };
  /** responses (seed means) and their ratios; natural, naturalMatched: the best natural image's response as it is and at the MEI's norm */
  perNeuron: { neuron: string; egg: number; ga: number; natural: number; naturalMatched: number; eggByGa: number; eggByNatural: number; gaByNatural: number; eggByNaturalMatched: number; gaByNaturalMatched: number }[];
  /** fraction of neurons where the first drives the ground truth at least as well as the second */
  fractions: Record<'eggGeGa' | 'eggGeNatural' | 'gaGeNatural' | 'eggGeNaturalMatched' | 'gaGeNaturalMatched', number>;
  /** median over neurons, as mean ± sd over seeds (each seed's median) */
  /** eggByGa: ill-defined where GA's response is negative (compact models' responses can be) */
  medians: Record<'eggByGa' | 'eggMinusGaByNatural' | 'eggByNatural' | 'gaByNatural' | 'eggByNaturalMatched' | 'gaByNaturalMatched', { mean: number; sd: number }>;
  seeds: number;
}

const norm = (a: Float32Array) => Math.sqrt(a.reduce((s, v) => s + v * v, 0));
const sd = (v: readonly number[]) => {
  const m = mean(v);
  return Math.sqrt(v.reduce((s, x) => s + (x - m) ** 2, 0) / Math.max(1, v.length - 1));
};

/** Each natural image rescaled (around the standardized space's origin) to L2 norm `c`, back in pixels. */
function rescaledToNorm(natural: NaturalImages, c: number, input: DemoModels['input']): NdArray<Float32Array> {
  const [N, C, H, W] = natural.standardized.shape as number[];
  const size = C * H * W;
  const out = new Float32Array(N * size);
  for (let i = 0; i < N; i++) {
    const x = natural.standardized.data.subarray(i * size, (i + 1) * size);
    const k = c / Math.max(norm(x), 1e-8);
    for (let p = 0; p < size; p++) out[i * size + p] = x[p] * k * input.std + input.mean;
  }
  return float32([N, C, H, W], out);
}

/** What every method's report is measured against: GA's MEIs and the sessions' best natural images, scored once. */
export interface GroundTruthReference {
  neurons: readonly NeuronRef[];
  compact: Record<string, ScoringModel>;
  space: ReturnType<typeof scoringSpace>;
  /** the MEIs' norm budget c */
  c: number;
  /** GA's ground-truth responses, per seed, per neuron */
  ga: number[][];
  /** the best natural image's response by neuronKey, as it is and rescaled to norm c */
  asIs: Map<string, number>;
  matched: Map<string, number>;
  /** the natural images' L2 norms in the standardized input, ascending */
  norms: number[];
}

export async function groundTruthReference(o: {
  /** per seed, neuron i's GA MEI */
  ga: SynthesizedImage[][];
  neurons: readonly NeuronRef[];
  compact: Record<string, ScoringModel>;
  natural: Map<string, NaturalImages>;
  models: DemoModels;
  /** the MEIs' norm budget c */
  c: number;
}): Promise<GroundTruthReference> {
  const space = scoringSpace(o.models.input);
  const ga = await Promise.all(o.ga.map((list) => groundTruthScores(list, o.neurons, o.compact, space)));
  // the best natural image of the session for each ground-truth neuron, as it is and at the MEI's norm
  const asIs = new Map<string, number>();
  const matched = new Map<string, number>();
  const norms: number[] = [];
  for (const s of SESSIONS) {
    const natural = o.natural.get(s)!;
    const [N, C, H, W] = natural.standardized.shape as number[];
    for (let i = 0; i < N; i++) norms.push(norm(natural.standardized.data.subarray(i * C * H * W, (i + 1) * C * H * W)));
    for (const [k, v] of await maxRates(o.compact[s], natural.pixels, space)) asIs.set(k, v);
    for (const [k, v] of await maxRates(o.compact[s], rescaledToNorm(natural, o.c, o.models.input), space)) matched.set(k, v);
  }
  norms.sort((a, b) => a - b);
  return { neurons: o.neurons, compact: o.compact, space, c: o.c, ga, asIs, matched, norms };
}

/** One method's MEIs (per seed, neuron i's image) against the reference; the report calls the method EGG. */
export async function groundTruthReport(ref: GroundTruthReference, method: SynthesizedImage[][]): Promise<GroundTruthReport> {
  const seeds = Math.min(ref.ga.length, method.length);
  const ga = ref.ga.slice(0, seeds);
  const egg = await Promise.all(method.slice(0, seeds).map((list) => groundTruthScores(list, ref.neurons, ref.compact, ref.space)));
  const { asIs, matched, norms } = ref;
  const at = (q: number) => norms[Math.min(norms.length - 1, Math.floor(q * norms.length))];

  const perSeed = (f: (i: number, s: number) => number) => Array.from({ length: seeds }, (_, s) => median(ref.neurons.map((_, i) => f(i, s))));
  const nat = (i: number) => asIs.get(neuronKey(ref.neurons[i]))!;
  const natM = (i: number) => matched.get(neuronKey(ref.neurons[i]))!;
  const meanOver = (r: number[][], i: number) => mean(r.map((seed) => seed[i]));
  const perNeuron = ref.neurons.map((n, i) => {
    const e = meanOver(egg, i);
    const g = meanOver(ga, i);
    return { neuron: neuronKey(n), egg: e, ga: g, natural: nat(i), naturalMatched: natM(i), eggByGa: e / g, eggByNatural: e / nat(i), gaByNatural: g / nat(i), eggByNaturalMatched: e / natM(i), gaByNaturalMatched: g / natM(i) };
  });
  const fraction = (f: (p: (typeof perNeuron)[number]) => boolean) => perNeuron.filter(f).length / perNeuron.length;
  const stat = (v: number[]) => ({ mean: mean(v), sd: sd(v) });
  return {
    norm: { mei: ref.c, naturalMedian: at(0.5), natural5: at(0.05), natural95: at(0.95) },
    perNeuron,
    fractions: {
      // compared as responses, not as ratios: a compact model's response can be negative, the
      // rescaled best natural image's too (then a ratio >= 1 would mean the MEI drives it less)
      eggGeGa: fraction((p) => p.egg >= p.ga),
      eggGeNatural: fraction((p) => p.egg >= p.natural),
      gaGeNatural: fraction((p) => p.ga >= p.natural),
      eggGeNaturalMatched: fraction((p) => p.egg >= p.naturalMatched),
      gaGeNaturalMatched: fraction((p) => p.ga >= p.naturalMatched),
    },
    medians: {
      eggByGa: stat(perSeed((i, s) => egg[s][i] / ga[s][i])),
      eggMinusGaByNatural: stat(perSeed((i, s) => (egg[s][i] - ga[s][i]) / nat(i))),
      eggByNatural: stat(perSeed((i, s) => egg[s][i] / nat(i))),
      gaByNatural: stat(perSeed((i, s) => ga[s][i] / nat(i))),
      eggByNaturalMatched: stat(perSeed((i, s) => egg[s][i] / natM(i))),
      gaByNaturalMatched: stat(perSeed((i, s) => ga[s][i] / natM(i))),
    },
    seeds,
  };
}

/** The report as the bench prints it; `method` names what the report calls EGG (e.g. EGG-x0). */
export function formatGroundTruth(r: GroundTruthReport, method = 'EGG'): string[] {
  const pm = (x: { mean: number; sd: number }) => `${x.mean.toFixed(2)} ± ${x.sd.toFixed(2)}`;
  const pct = (f: number) => `${Math.round(100 * f)} %`;
  const lines = [
    `ground truth (each neuron's published compact model), ${method} against GA, ${r.perNeuron.length} neurons x ${r.seeds} seeds:`,
    `  norm budget: MEIs have L2 norm ${r.norm.mei} in the generator's standardized input; the sessions' natural images there: median ${r.norm.naturalMedian.toFixed(1)} (5-95 %: ${r.norm.natural5.toFixed(1)}-${r.norm.natural95.toFixed(1)})`,
    `  median over neurons (mean ± sd over seeds): (${method} - GA) / best natural ${pm(r.medians.eggMinusGaByNatural)}; ${method}/GA ${pm(r.medians.eggByGa)} (meaningless where GA's response is negative); ${method} / best natural ${pm(r.medians.eggByNatural)} (at the MEI's norm: ${pm(r.medians.eggByNaturalMatched)}); GA / best natural ${pm(r.medians.gaByNatural)} (at the MEI's norm: ${pm(r.medians.gaByNaturalMatched)})`,
    `  neurons where ${method} >= GA: ${pct(r.fractions.eggGeGa)}; ${method} >= best natural: ${pct(r.fractions.eggGeNatural)} (at the MEI's norm: ${pct(r.fractions.eggGeNaturalMatched)}); GA >= best natural: ${pct(r.fractions.gaGeNatural)} (at the MEI's norm: ${pct(r.fractions.gaGeNaturalMatched)})`,
    `  per neuron (seed means): neuron, ${method}/GA, ${method}/natural, GA/natural, ${method}/natural at the MEI's norm, GA/natural at the MEI's norm`,
  ];
  for (const p of r.perNeuron) lines.push(`    ${p.neuron.padEnd(10)} ${[p.eggByGa, p.eggByNatural, p.gaByNatural, p.eggByNaturalMatched, p.gaByNaturalMatched].map((v) => v.toFixed(2).padStart(6)).join(' ')}`);
  return lines;
}
