import type { Comparison, Image } from '@excite/sdk';
import { describe, expect, it } from 'vitest';
import { generalizationMatrix, summarize } from './generalization-matrix.ts';

const a = { id: 'a', name: 'attention-train', kind: 'ENSEMBLE' as const };
const g = { id: 'g', name: 'gaussian-cross', kind: 'ENSEMBLE' as const };
const truth = { id: 't', name: 'compact 201025', kind: 'COMPACT' as const };

type ComparisonPart = Pick<Comparison, 'generators' | 'evaluators' | 'methods' | 'neurons' | 'cells'>;
type ImagePart = Pick<Image, 'generator' | 'method' | 'neuron' | 'scores'>;

const image = (generator: typeof a, method: 'GA' | 'EGG', index: number, scores: Record<string, number>): ImagePart => ({
  generator,
  method,
  neuron: { session: '201025', index },
  scores: Object.entries(scores).map(([id, value]) => ({ evaluator: [a, g, truth].find((e) => e.id === id)!, value, generator: id === generator.id })),
});

describe('the generalization matrix', () => {
  const comparison: ComparisonPart = {
    generators: [a, g],
    evaluators: [a, g, truth],
    methods: ['GA', 'EGG'],
    neurons: [
      { session: '201025', index: 0 },
      { session: '201025', index: 1 },
    ],
    cells: [{ generator: a, evaluator: truth, method: 'GA', mean: 3, median: 3, count: 2 }],
  };
  const images = [
    image(a, 'GA', 0, { a: 8, g: 2, t: 4 }),
    image(a, 'GA', 1, { a: 6, g: 3, t: 2 }),
    image(a, 'EGG', 0, { a: 4, g: 4, t: 2 }),
    // two seeds of one neuron: their mean
    image(g, 'GA', 0, { a: 2, g: 6, t: 1 }),
    image(g, 'GA', 0, { a: 2, g: 2, t: 3 }),
  ];

  it('has a row per generator and method and a column per evaluator, ground truth included', () => {
    const m = generalizationMatrix(comparison, images);
    expect(m.rows.map((r) => r.label)).toEqual(['attention-train · GA', 'attention-train · EGG', 'gaussian-cross · GA', 'gaussian-cross · EGG']);
    expect(m.columns.map((c) => c.name)).toEqual(['attention-train', 'gaussian-cross', 'compact 201025']);
    // the service's mean and median where it has a cell
    expect(m.cells[0][2]).toMatchObject({ mean: 3, median: 3, count: 2 });
    expect(m.cells[3][0]).toMatchObject({ mean: null, count: 0, normalized: [] });
  });

  it("normalizes each evaluator's rate of a neuron by the row that drove it most", () => {
    const m = generalizationMatrix(comparison, images);
    // gaussian-cross on neuron 0: GA of a 2, EGG of a 4, GA of g (6+2)/2 = 4: best 4
    expect(m.cells[2][1].perNeuron.get('201025:0')).toBe(4);
    expect(m.cells[0][1].normalized).toEqual([0.5, 1]);
    expect(m.cells[1][1].normalized).toEqual([1]);
    // the ground truth: a's GA is best on both neurons
    expect(m.cells[0][2].normalized).toEqual([1, 1]);
    expect(m.cells[2][2].normalized).toEqual([0.5]);
  });

  it("normalizes by the same generator's GA MEI, as the paper does", () => {
    const m = generalizationMatrix(comparison, images);
    // attention-train's EGG on neuron 0 over its GA on neuron 0: a 4/8, g 4/2, t 2/4
    expect(m.cells[1][0].byGa).toEqual([0.5]);
    expect(m.cells[1][1].byGa).toEqual([2]);
    expect(m.cells[1][2].byGa).toEqual([0.5]);
    expect(m.cells[0][0].byGa).toEqual([1, 1]);
    // gaussian-cross has no EGG images; its GA is 1 where it has images
    expect(m.cells[3][0].byGa).toEqual([]);
    expect(m.cells[2][1].byGa).toEqual([1]);
  });

  it('summarizes a distribution for the box plot and the bars', () => {
    expect(summarize([])).toBeNull();
    const s = summarize([1, 2, 3, 4])!;
    expect(s).toMatchObject({ mean: 2.5, min: 1, q1: 1.75, median: 2.5, q3: 3.25, max: 4, n: 4 });
    expect(s.sem).toBeCloseTo(Math.sqrt(5 / 3 / 4));
  });
});
