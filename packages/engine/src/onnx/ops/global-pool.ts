/** GlobalAveragePool and GlobalMaxPool: one value per [n, c] over all spatial axes, kept as size 1. */
import type { Value } from '../graph.ts';
import { isFloat } from '../ndarray.ts';
import { type OpDef, defineOp } from '../op.ts';
import { type Ref, ref } from '../reference.ts';
import { isStatic, size } from '../shape.ts';
import { cast, div, equal, mul } from './elementwise.ts';
import { expandTo } from './expand.ts';
import { reduceSum } from './reduce.ts';

export const globalAveragePool = (x: Value) => x.graph.node('GlobalAveragePool', [x])[0];
export const globalMaxPool = (x: Value) => x.graph.node('GlobalMaxPool', [x])[0];

const spatialAxes = (rank: number) => Array.from({ length: rank - 2 }, (_, i) => i + 2);

function globalPool(opType: string, fold: (values: Float64Array) => number, backward: (x: Value, y: Value, dy: Value) => Value): OpDef {
  return defineOp({
    opType,
    attrs: {},
    differentiable: [0],
    infer([x]) {
      if (!x || x.rank < 3 || !isFloat(x.dtype)) throw new Error('input must be a float [N, C, ...spatial] tensor');
      return { outputs: [{ dtype: x.dtype, shape: [x.shape[0], x.shape[1], ...spatialAxes(x.rank).map(() => 1)] }] };
    },
    evaluate([x]) {
      const [N, C, ...spatial] = x!.shape;
      const n = size(spatial);
      const y: Ref = ref(x!.dtype, [N, C, ...spatial.map(() => 1)]);
      for (let nc = 0; nc < N * C; nc++) y.data[nc] = fold(x!.data.subarray(nc * n, (nc + 1) * n));
      return [y];
    },
    backward: ({ node, dy }) => [backward(node.inputs[0]!, node.outputs[0], dy[0]!)],
  });
}

export const GLOBAL_POOL_OPS: OpDef[] = [
  globalPool(
    'GlobalAveragePool',
    (v) => v.reduce((a, b) => a + b, 0) / v.length,
    (x, _y, dy) => {
      const spatial = x.shape.slice(2);
      if (!spatial.every(isStatic)) throw new Error('the gradient of GlobalAveragePool needs static spatial dimensions');
      return expandTo(mul(dy, 1 / size(spatial)), x);
    },
  ),
  globalPool(
    'GlobalMaxPool',
    (v) => v.reduce((a, b) => Math.max(a, b), -Infinity),
    (x, y, dy) => {
      // to the maxima, split evenly between ties
      const mask = cast(equal(x, y), x.dtype);
      return mul(mask, expandTo(div(dy, reduceSum(mask, spatialAxes(x.rank), true)), x));
    },
  ),
];
