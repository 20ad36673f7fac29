/** Sinusoidal timestep embedding of diffusion models, as ADM's timestep_embedding. */
import type { Value } from '../onnx/graph.ts';
import { fromNumbers } from '../onnx/ndarray.ts';
import { concat } from '../onnx/ops/concat-split.ts';
import { cos, mul, sin } from '../onnx/ops/elementwise.ts';
import { unsqueeze } from '../onnx/ops/reshape.ts';

/**
 * t [B] (timestep values, possibly fractional) -> [B, dim] = cat[cos(t f), sin(t f)] with
 * half = dim / 2 frequencies f_i = exp(-log(maxPeriod) i / half), cosines first (ADM's order).
 */
export function timestepEmbedding(t: Value, dim: number, maxPeriod = 10000): Value {
  if (t.rank !== 1) throw new Error(`timestepEmbedding: t must be [batch], got [${t.shape}]`);
  if (dim % 2 !== 0) throw new Error(`timestepEmbedding: dim must be even, got ${dim}`);
  const half = dim / 2;
  const freqs = Array.from({ length: half }, (_, i) => Math.exp((-Math.log(maxPeriod) * i) / half));
  const args = mul(unsqueeze(t, [1]), t.graph.constant(fromNumbers(t.dtype, [1, half], freqs), 'timestep_freqs'));
  return concat([cos(args), sin(args)], 1);
}
