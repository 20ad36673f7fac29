/** Activations composed from primitives. */
import type { Value } from '../onnx/graph.ts';
import { mul, sigmoid } from '../onnx/ops/elementwise.ts';

/** SiLU (swish): x * sigmoid(x). */
export function silu(x: Value): Value {
  return mul(x, sigmoid(x));
}
