import { describe, expect, it } from 'vitest';
import { evaluate } from '../onnx/evaluate.ts';
import { Graph } from '../onnx/graph.ts';
import { float32 } from '../onnx/ndarray.ts';
import { laplaceSmoothness } from './regularizers.ts';

/** sum((L * w)^2) / sum(w^2) for one 3x3 kernel w that is a unit impulse at its center: the stencil's own squares. */
function impulsePenalty(stencil: 5 | 9): number {
  const g = new Graph('laplace');
  const w = g.weight('w', float32([1, 1, 3, 3], [0, 0, 0, 0, 1, 0, 0, 0, 0]));
  g.output(laplaceSmoothness(w, stencil), 'penalty');
  return evaluate(g, {}).penalty.data[0] as number;
}

describe('Laplace smoothness', () => {
  it('the 5-point stencil (the paper code) and the isotropic 9-point one penalize an impulse by their squared coefficients', () => {
    expect(impulsePenalty(5)).toBeCloseTo(16 + 4 * 1, 5);
    expect(impulsePenalty(9)).toBeCloseTo(36 + 4 * 1 + 4 * 0.25, 5);
  });

  it('is scale-free: a kernel and ten times that kernel are penalized alike', () => {
    const penalty = (scale: number) => {
      const g = new Graph('laplace');
      g.output(laplaceSmoothness(g.weight('w', float32([2, 1, 3, 3], Array.from({ length: 18 }, (_, i) => scale * Math.sin(i * 1.7)))), 5), 'penalty');
      return evaluate(g, {}).penalty.data[0] as number;
    };
    expect(penalty(10)).toBeCloseTo(penalty(1), 4);
  });
});
