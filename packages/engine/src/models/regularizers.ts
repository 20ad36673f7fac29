/** Regularizers of the encoders (docs/encoders.md): of their weights, and of the attention readout's attention; scalar graph values. */
import type { Value } from '../onnx/graph.ts';
import { fromNumbers } from '../onnx/ndarray.ts';
import { abs, add, div, log, mul } from '../onnx/ops/elementwise.ts';
import { conv } from '../onnx/ops/conv.ts';
import { reduceSum } from '../onnx/ops/reduce.ts';
import { reshape } from '../onnx/ops/reshape.ts';

/**
 * 3x3 discrete Laplacians: the 5-point stencil (the paper's code, and the default) and the
 * isotropic 9-point one (excite's first recipe; 3.4 times the penalty on the same kernels).
 */
export const LAPLACE_STENCILS = {
  5: [0, 1, 0, 1, -4, 1, 0, 1, 0],
  9: [0.5, 1, 0.5, 1, -6, 1, 0.5, 1, 0.5],
} as const;
export type LaplaceStencil = keyof typeof LAPLACE_STENCILS;

/**
 * Smoothness of convolution kernels w [out, in, k, k]: sum((L * w)^2) / sum(w^2), L a 3x3
 * Laplacian applied with zero padding 1 to every 2-D kernel. Scale-free, so it shapes the kernels
 * without shrinking them.
 */
export function laplaceSmoothness(w: Value, stencil: LaplaceStencil = 5): Value {
  const g = w.graph;
  const [o, i, kh, kw] = w.shape as number[];
  const kernels = reshape(w, [o * i, 1, kh, kw]);
  const laplace = g.constant(fromNumbers(w.dtype, [1, 1, 3, 3], LAPLACE_STENCILS[stencil]), 'laplace');
  const filtered = conv(kernels, laplace, undefined, { pads: [1, 1, 1, 1] });
  return div(reduceSum(mul(filtered, filtered), undefined, false), reduceSum(mul(w, w), undefined, false));
}

/** sum |w| */
export function l1(w: Value): Value {
  return reduceSum(abs(w), undefined, false);
}

/**
 * Entropy in nats of attention weights a [N, neurons, S] (each row sums to 1), summed over images
 * and neurons: -sum a log a. ln S for a neuron that attends uniformly, 0 for one that attends to a
 * single position. A data term (it grows with the batch), so the objective scales it as the loss.
 */
export function attentionEntropy(a: Value): Value {
  return mul(reduceSum(mul(a, log(add(a, 1e-12))), undefined, false), -1);
}
