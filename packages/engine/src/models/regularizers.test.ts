import { describe, expect, it } from 'vitest';
import { evaluate } from '../onnx/evaluate.ts';
import { Graph } from '../onnx/graph.ts';
import { appendBackward } from '../onnx/autodiff.ts';
import { float32, float64 } from '../onnx/ndarray.ts';
import { softmax } from '../onnx/ops/softmax.ts';
import { attentionEntropy, laplaceSmoothness } from './regularizers.ts';

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

describe('attention entropy', () => {
  /** attentionEntropy of softmax(logits [N, neurons, S]) and its gradient with respect to the logits (float64) */
  function entropyOf(shape: number[], logits: number[]) {
    const g = new Graph('entropy');
    const l = g.weight('logits', float64(shape, logits));
    g.output(attentionEntropy(softmax(l, -1)), 'entropy');
    const { grads } = appendBackward(g, { outputs: ['entropy'], wrt: ['logits'] });
    g.output(grads[0], 'grad');
    const out = evaluate(g, { entropy_seed: float64([], [1]) });
    return { value: out.entropy.data[0] as number, grad: Array.from(out.grad.data as Float64Array) };
  }

  it('is ln S for every uniform row, about 0 for a row on one position, and -sum a ln a otherwise', () => {
    expect(entropyOf([2, 3, 16], new Array(96).fill(0.5)).value).toBeCloseTo(6 * Math.log(16), 8);
    expect(entropyOf([1, 1, 4], [60, 0, 0, 0]).value).toBeLessThan(1e-20);
    const row = [0.3, -1.2, 2, 0.7];
    const z = row.reduce((s, v) => s + Math.exp(v), 0);
    const expected = -row.reduce((s, v) => s + (Math.exp(v) / z) * Math.log(Math.exp(v) / z), 0);
    expect(entropyOf([1, 1, 4], row).value).toBeCloseTo(expected, 8);
  });

  it('its gradient through the softmax matches finite differences', () => {
    const shape = [2, 2, 5];
    const logits = Array.from({ length: 20 }, (_, i) => Math.sin(1.3 * i) * 2);
    const { grad } = entropyOf(shape, logits);
    const h = 1e-6;
    for (let i = 0; i < logits.length; i++) {
      const plus = entropyOf(shape, logits.map((v, j) => (j === i ? v + h : v))).value;
      const minus = entropyOf(shape, logits.map((v, j) => (j === i ? v - h : v))).value;
      expect(grad[i]).toBeCloseTo((plus - minus) / (2 * h), 6);
    }
  });
});
