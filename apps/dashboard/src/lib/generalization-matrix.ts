/**
 * The generalization matrix of a comparison: rows are generator x method, columns the evaluating
 * models (compact ground-truth models included). Each cell holds the service's mean and median
 * over its scored images, and the distribution over neurons built from the images' scores: a
 * neuron's value is the mean over its seeds (and set members).
 *
 * Normalized activation: raw rates are not comparable across evaluators (nor across neurons), so
 * each evaluator's rate of a neuron is divided by the largest rate that evaluator gives that
 * neuron's images across all rows. 1 is the row that drove the evaluator's neuron most (the
 * heatmap). The paper's normalization (EGG paper) is `byGa`: the rate over the same
 * evaluator's rate of the same generator's GA MEI of that neuron, so GA is 1 and a method above
 * 1 drives the evaluator more than gradient ascent did; the bar chart shows its mean over neurons
 * and standard error when the comparison has GA, and the best-row normalization otherwise.
 */
import type { Comparison, Image, Method } from '@excite/sdk';
import { METHOD_LABEL } from './format.ts';

export interface MatrixRow {
  key: string;
  generator: { id: string; name: string };
  method: Method;
  label: string;
}

export interface MatrixColumn {
  id: string;
  name: string;
  kind: string;
}

export interface MatrixCell {
  row: string;
  evaluator: string;
  mean: number | null;
  median: number | null;
  count: number;
  /** neuron (session:index) -> its raw rate, mean over seeds */
  perNeuron: Map<string, number>;
  /** per neuron: the rate over the evaluator's best row for that neuron */
  normalized: number[];
  /** per neuron: the rate over the evaluator's rate of the same generator's GA MEI (empty without GA) */
  byGa: number[];
}

export interface GeneralizationMatrix {
  rows: MatrixRow[];
  columns: MatrixColumn[];
  /** cells[row][column] */
  cells: MatrixCell[][];
  neurons: string[];
}

const rowKey = (generator: string, method: Method) => `${generator}|${method}`;
const neuronKey = (n: { session: string; index: number }) => `${n.session}:${n.index}`;

export function generalizationMatrix(comparison: Pick<Comparison, 'generators' | 'evaluators' | 'methods' | 'neurons' | 'cells'>, images: readonly Pick<Image, 'generator' | 'method' | 'neuron' | 'scores'>[]): GeneralizationMatrix {
  const rows: MatrixRow[] = comparison.generators.flatMap((g) => comparison.methods.map((m) => ({ key: rowKey(g.id, m), generator: g, method: m, label: `${g.name} · ${METHOD_LABEL[m]}` })));
  const columns: MatrixColumn[] = comparison.evaluators.map((e) => ({ id: e.id, name: e.name, kind: e.kind }));

  // row|evaluator -> neuron -> [sum, n]
  const sums = new Map<string, Map<string, [number, number]>>();
  for (const image of images) {
    if (!image.neuron) continue;
    const row = rowKey(image.generator.id, image.method);
    for (const s of image.scores) {
      const key = `${row}#${s.evaluator.id}`;
      let byNeuron = sums.get(key);
      if (!byNeuron) sums.set(key, (byNeuron = new Map()));
      const acc = byNeuron.get(neuronKey(image.neuron)) ?? [0, 0];
      acc[0] += s.value;
      acc[1] += 1;
      byNeuron.set(neuronKey(image.neuron), acc);
    }
  }
  const perNeuron = (row: string, evaluator: string) => new Map([...(sums.get(`${row}#${evaluator}`) ?? [])].map(([n, [sum, k]]) => [n, sum / k]));

  const apiCell = new Map(comparison.cells.map((c) => [`${rowKey(c.generator.id, c.method)}#${c.evaluator.id}`, c]));
  const cells: MatrixCell[][] = rows.map((r) =>
    columns.map((c) => {
      const cell = apiCell.get(`${r.key}#${c.id}`);
      return { row: r.key, evaluator: c.id, mean: cell?.mean ?? null, median: cell?.median ?? null, count: cell?.count ?? 0, perNeuron: perNeuron(r.key, c.id), normalized: [], byGa: [] };
    }),
  );

  const neurons = comparison.neurons.map(neuronKey);
  columns.forEach((_, j) => {
    for (const n of neurons) {
      const best = Math.max(...cells.map((row) => row[j].perNeuron.get(n) ?? -Infinity));
      if (!(best > 0)) continue;
      for (const row of cells) {
        const v = row[j].perNeuron.get(n);
        if (v !== undefined) row[j].normalized.push(v / best);
      }
    }
  });
  rows.forEach((r, i) => {
    const ga = rows.findIndex((o) => o.generator.id === r.generator.id && o.method === 'GA');
    if (ga < 0) return;
    columns.forEach((_, j) => {
      for (const n of neurons) {
        const v = cells[i][j].perNeuron.get(n);
        const reference = cells[ga][j].perNeuron.get(n);
        if (v !== undefined && reference !== undefined && reference > 0) cells[i][j].byGa.push(v / reference);
      }
    });
  });
  return { rows, columns, cells, neurons };
}

export interface Summary {
  mean: number;
  sem: number;
  min: number;
  q1: number;
  median: number;
  q3: number;
  max: number;
  n: number;
}

/** Mean, standard error and the five numbers of a box plot (linear interpolation between order statistics). */
export function summarize(values: readonly number[]): Summary | null {
  const n = values.length;
  if (!n) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const q = (p: number) => {
    const x = (n - 1) * p;
    const lo = Math.floor(x);
    return sorted[lo] + (sorted[Math.min(n - 1, lo + 1)] - sorted[lo]) * (x - lo);
  };
  const mean = sorted.reduce((a, b) => a + b, 0) / n;
  const variance = n > 1 ? sorted.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1) : 0;
  return { mean, sem: Math.sqrt(variance / n), min: sorted[0], q1: q(0.25), median: q(0.5), q3: q(0.75), max: sorted[n - 1], n };
}
