/** Softmax over one axis (opset 13 semantics). */
import type { Value } from '../graph.ts';
import { isFloat } from '../ndarray.ts';
import { type OpDef, defineOp } from '../op.ts';
import { ref } from '../reference.ts';
import { normalizeAxis, size } from '../shape.ts';
import { mul, sub } from './elementwise.ts';
import { reduceSum } from './reduce.ts';

export function softmax(x: Value, axis = -1): Value {
  return x.graph.node('Softmax', [x], { axis })[0];
}

export const SOFTMAX_OPS: OpDef[] = [
  defineOp({
    opType: 'Softmax',
    attrs: { axis: { type: 'int', default: -1 } },
    differentiable: [0],
    infer([x], attrs) {
      if (!x || !isFloat(x.dtype)) throw new Error('input must be a float tensor');
      return { outputs: [{ dtype: x.dtype, shape: x.shape }], attrs: { axis: normalizeAxis(attrs.axis, x.rank) } };
    },
    evaluate([x], attrs) {
      const axis = attrs.axis;
      const n = x!.shape[axis];
      const inner = size(x!.shape.slice(axis + 1));
      const outer = size(x!.shape.slice(0, axis));
      const out = ref(x!.dtype, x!.shape);
      for (let o = 0; o < outer; o++) {
        for (let i = 0; i < inner; i++) {
          const at = (k: number) => (o * n + k) * inner + i;
          let max = -Infinity;
          for (let k = 0; k < n; k++) max = Math.max(max, x!.data[at(k)]);
          let sum = 0;
          for (let k = 0; k < n; k++) sum += out.data[at(k)] = Math.exp(x!.data[at(k)] - max);
          for (let k = 0; k < n; k++) out.data[at(k)] /= sum;
        }
      }
      return [out];
    },
    backward({ node, dy }) {
      // dx = y * (dy - sum(dy * y))
      const y = node.outputs[0];
      const axis = node.attrs.axis;
      return [mul(y, sub(dy[0]!, reduceSum(mul(dy[0]!, y), [axis], true)))];
    },
  }),
];
