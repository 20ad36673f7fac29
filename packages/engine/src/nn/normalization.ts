/**
 * Normalizations: batch and layer norm composed from ReduceMean, Sub, Mul, Sqrt and Div, so their
 * gradients come from the primitives' rules; group norm as one LayerNormalization node.
 */
import type { Value } from '../onnx/graph.ts';
import { add, div, mul, sqrt, sub } from '../onnx/ops/elementwise.ts';
import { reduceMean } from '../onnx/ops/reduce.ts';
import { reshape, reshapeLike } from '../onnx/ops/reshape.ts';
import { fromNumbers } from '../onnx/ndarray.ts';
import { layerNormalizationWithStatistics } from '../onnx/ops/normalization.ts';

/** Normalizes x over `axes` to zero mean and unit variance (biased variance, like the frameworks). */
export function standardize(x: Value, axes: readonly number[], eps: number): { y: Value; mean: Value; variance: Value } {
  const mean = reduceMean(x, axes, true);
  const centered = sub(x, mean);
  const variance = reduceMean(mul(centered, centered), axes, true);
  return { y: div(centered, sqrt(add(variance, eps))), mean, variance };
}

/** Per-channel parameters [C] as [1, C, 1, 1] for broadcasting over NCHW. */
function channelwise(p: Value, rank: number): Value {
  return reshape(p, [1, p.shape[0], ...new Array<number>(rank - 2).fill(1)]);
}

export interface BatchNormParams {
  gamma?: Value;
  beta?: Value;
  runningMean: Value;
  runningVar: Value;
}

/**
 * Batch normalization over N and the spatial axes. Training normalizes with the batch statistics
 * and returns them (for the running averages); inference uses the running statistics.
 */
export function batchNorm(x: Value, p: BatchNormParams, options: { training: boolean; eps?: number }): { y: Value; mean?: Value; variance?: Value } {
  const eps = options.eps ?? 1e-5;
  const axes = [0, ...Array.from({ length: x.rank - 2 }, (_, i) => i + 2)];
  let y: Value;
  let stats: { mean?: Value; variance?: Value } = {};
  if (options.training) {
    const s = standardize(x, axes, eps);
    y = s.y;
    stats = { mean: reshape(s.mean, [x.shape[1]]), variance: reshape(s.variance, [x.shape[1]]) };
  } else {
    y = div(sub(x, channelwise(p.runningMean, x.rank)), sqrt(add(channelwise(p.runningVar, x.rank), eps)));
  }
  if (p.gamma) y = mul(y, channelwise(p.gamma, x.rank));
  if (p.beta) y = add(y, channelwise(p.beta, x.rank));
  return { y, ...stats };
}

/**
 * Group normalization of [N, C, ...] with per-channel affine parameters: the groups as the last
 * axis of one LayerNormalization node (unit scale), which onnxruntime runs as one fused kernel
 * where the composed form took seven nodes and three passes over the activations; the diffusion
 * UNet normalizes before every convolution.
 */
export function groupNorm(x: Value, groups: number, gamma: Value | undefined, beta: Value | undefined, eps = 1e-5): Value {
  const [N, C, ...spatial] = x.shape;
  if (typeof C !== 'number' || C % groups !== 0) throw new Error(`groupNorm: ${C} channels are not divisible into ${groups} groups`);
  const size = (C / groups) * spatial.reduce<number>((a, d) => a * (d as number), 1);
  const grouped = reshape(x, [N, groups, size]);
  const unit = x.graph.constant(fromNumbers(x.dtype, [size], new Float64Array(size).fill(1)), 'group_norm_scale');
  // with its statistics: its gradient then reuses Y and InvStdDev instead of normalizing again
  let y = reshapeLike(layerNormalizationWithStatistics(grouped, unit, undefined, { axis: 2, epsilon: eps })[0], x);
  if (gamma) y = mul(y, channelwise(gamma, x.rank));
  if (beta) y = add(y, channelwise(beta, x.rank));
  return y;
}

/** Layer normalization over the trailing `axes` (default: the last) with affine parameters of their shape. */
export function layerNorm(x: Value, gamma: Value | undefined, beta: Value | undefined, eps = 1e-5, axes: readonly number[] = [x.rank - 1]): Value {
  let y = standardize(x, axes, eps).y;
  if (gamma) y = mul(y, gamma);
  if (beta) y = add(y, beta);
  return y;
}
