/** Scaled dot-product attention composed from MatMul and Softmax. */
import type { Value } from '../onnx/graph.ts';
import { mul } from '../onnx/ops/elementwise.ts';
import { matmul } from '../onnx/ops/matmul.ts';
import { softmax } from '../onnx/ops/softmax.ts';
import { transposeLast2 } from '../onnx/ops/transpose.ts';

/**
 * softmax(q k^T * scale) v over the key axis: q [.., Lq, D], k [.., Lk, D], v [.., Lk, Dv]
 * (leading axes broadcast) -> [.., Lq, Dv].
 */
export function scaledDotProductAttention(q: Value, k: Value, v: Value, scale = 1 / Math.sqrt(q.shape[q.rank - 1] as number)): Value {
  const weights = softmax(mul(matmul(q, transposeLast2(k)), scale), -1);
  return matmul(weights, v);
}
