/**
 * The closed-loop analysis of a recording (Recording.analysis) in the shapes the recording's page
 * shows: per method the neurons' responses relative to the best natural image, a neuron x method
 * table, the pair for the paired plot (EGG vs GA when both were recorded), and the noise ceiling
 * that the evaluators' correlations are drawn against.
 */
import type { Method, RecordingAnalysisFieldsFragment } from '@excite/sdk';
import { summarize } from './generalization-matrix.ts';

export type Analysis = RecordingAnalysisFieldsFragment;
type PerNeuron = Analysis['perNeuron'][number];
export type MethodPair = Analysis['methodPairs'][number];

const key = (n: { session: string; index: number }) => `${n.session}:${n.index}`;

/** The methods recorded, in the order the analysis gives them (its per-neuron rows are by neuron, then method). */
export function recordedMethods(analysis: Pick<Analysis, 'perNeuron'>): Method[] {
  return [...new Set(analysis.perNeuron.map((p) => p.method))];
}

export interface MethodSpread {
  method: Method;
  /** each neuron's response relative to its best natural image (neurons without one left out) */
  points: { neuron: string; relative: number }[];
  median: number | null;
  /** neurons where the method beat the best natural image */
  above: number;
}

/** Per method, the neurons' responses relative to the best natural image (the strip and box plot). */
export function relativeSpread(analysis: Pick<Analysis, 'perNeuron'>): MethodSpread[] {
  return recordedMethods(analysis).map((method) => {
    const points = analysis.perNeuron.flatMap((p) => (p.method === method && p.relativeToNatural !== null ? [{ neuron: key(p.neuron), relative: p.relativeToNatural }] : []));
    return { method, points, median: summarize(points.map((p) => p.relative))?.median ?? null, above: points.filter((p) => p.relative > 1).length };
  });
}

export interface NeuronRow {
  neuron: { session: string; index: number };
  bestNatural: number | null;
  bestNaturalStimulus: number | null;
  /** by method (undefined: the recording showed none of the method's images for the neuron) */
  cells: Partial<Record<Method, PerNeuron>>;
}

/** One row per neuron (in the analysis' order), a cell per method. */
export function neuronRows(analysis: Pick<Analysis, 'perNeuron'>): NeuronRow[] {
  const rows = new Map<string, NeuronRow>();
  for (const p of analysis.perNeuron) {
    let row = rows.get(key(p.neuron));
    if (!row) rows.set(key(p.neuron), (row = { neuron: p.neuron, bestNatural: p.bestNatural, bestNaturalStimulus: p.bestNaturalStimulus, cells: {} }));
    row.cells[p.method] = p;
  }
  return [...rows.values()];
}

/** The pair of the paired plot: EGG vs GA when both were recorded, else the first pair of two methods. */
export function featuredPair(analysis: Pick<Analysis, 'methodPairs'>): { a: Method; b: Method } | null {
  const pairs = analysis.methodPairs.filter((p): p is MethodPair & { b: Method } => p.b !== null);
  const egg = pairs.find((p) => (p.a === 'EGG' && p.b === 'GA') || (p.a === 'GA' && p.b === 'EGG'));
  if (egg) return { a: 'EGG', b: 'GA' };
  return pairs[0] ? { a: pairs[0].a, b: pairs[0].b } : null;
}

export interface PairedPoint {
  neuron: string;
  a: number;
  b: number;
}

/**
 * Each neuron's responses to the two methods' images, relative to its best natural image when
 * every such neuron has one (comparable across neurons), else as recorded.
 */
export function pairedPoints(analysis: Pick<Analysis, 'perNeuron'>, a: Method, b: Method): { points: PairedPoint[]; relative: boolean } {
  const rows = neuronRows(analysis).flatMap((r) => {
    const [x, y] = [r.cells[a], r.cells[b]];
    return x && y ? [{ neuron: key(r.neuron), x, y }] : [];
  });
  const relative = rows.length > 0 && rows.every((r) => r.x.relativeToNatural !== null && r.y.relativeToNatural !== null);
  return {
    relative,
    points: rows.map((r) => ({ neuron: r.neuron, a: relative ? r.x.relativeToNatural! : r.x.response, b: relative ? r.y.relativeToNatural! : r.y.response })),
  };
}

/** Which side a pair's test favours: by the rank-biserial effect's sign (null: a tie). */
export function pairWinner(p: MethodPair): string | null {
  if (p.effectSize > 0) return p.a;
  if (p.effectSize < 0) return p.b ?? 'best natural';
  return null;
}

/**
 * The correlation a perfect model could reach with a neuron's recorded means: the square root of
 * their split-half reliability (Spearman-Brown corrected); the median over neurons is the line the
 * evaluators' per-neuron correlations are drawn against. Null without reliabilities.
 */
export function correlationCeiling(noise: Analysis['noiseCeiling']): number | null {
  const values = noise.neurons.flatMap((n) => (n.splitHalfR === null ? [] : [Math.sqrt(Math.max(0, n.splitHalfR))]));
  return summarize(values)?.median ?? null;
}
