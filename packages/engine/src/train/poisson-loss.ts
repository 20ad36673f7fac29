/** Poisson negative log-likelihood of spike counts y under rates r, up to terms without r. */
import type { Value } from '../onnx/graph.ts';
import { add, log, mul, sub } from '../onnx/ops/elementwise.ts';
import { reduceSum } from '../onnx/ops/reduce.ts';

/** sum(r - y log(r + 1e-12)) over the batch and the neurons (a scalar). */
export function poissonLoss(rates: Value, responses: Value): Value {
  return reduceSum(sub(rates, mul(responses, log(add(rates, 1e-12)))), undefined, false);
}

/** The same on the host, for validation. */
export function poissonLossHost(rates: ArrayLike<number>, responses: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < rates.length; i++) s += rates[i] - responses[i] * Math.log(rates[i] + 1e-12);
  return s;
}
