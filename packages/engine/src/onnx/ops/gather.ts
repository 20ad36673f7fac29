/** Gather along one axis; its gradient scatters back through a one-hot matrix (MatMul). */
import type { Value } from '../graph.ts';
import { isFloat } from '../ndarray.ts';
import { type OpDef, defineOp } from '../op.ts';
import { ref } from '../reference.ts';
import { type Dim, isStatic, normalizeAxis, product, size } from '../shape.ts';
import { add, cast, equal, less, where } from './elementwise.ts';
import { matmul } from './matmul.ts';
import { reshape, unsqueeze } from './reshape.ts';
import { transpose } from './transpose.ts';

export function gather(x: Value, indices: Value | readonly number[], axis = 0): Value {
  const g = x.graph;
  return g.node('Gather', [x, Array.isArray(indices) ? g.ints(indices) : (indices as Value)], { axis })[0];
}

export const GATHER_OPS: OpDef[] = [
  defineOp({
    opType: 'Gather',
    attrs: { axis: { type: 'int', default: 0 } },
    differentiable: [0],
    infer([x, idx], attrs) {
      if (!x || !idx) throw new Error('needs data and indices');
      if (isFloat(idx.dtype)) throw new Error('indices must be integers');
      const axis = normalizeAxis(attrs.axis, x.rank);
      // shape arithmetic: elements of a 1-D value known while building, at constant indices
      const elements = x.rank === 1 && idx.rank <= 1 ? x.knownInts() : undefined;
      const at = elements && idx.knownInts();
      const known = at?.every(isStatic) ? at.map((i) => elements![i < 0 ? i + elements!.length : i]) : undefined;
      if (known?.some((d) => d === undefined)) throw new Error(`indices [${at}] out of range for ${elements!.length} elements`);
      return { outputs: [{ dtype: x.dtype, shape: [...x.shape.slice(0, axis), ...idx.shape, ...x.shape.slice(axis + 1)], known }], attrs: { axis } };
    },
    evaluate([x, idx], attrs) {
      const axis = attrs.axis;
      const outer = size(x!.shape.slice(0, axis));
      const inner = size(x!.shape.slice(axis + 1));
      const n = x!.shape[axis];
      const k = idx!.data.length;
      const out = ref(x!.dtype, [...x!.shape.slice(0, axis), ...idx!.shape, ...x!.shape.slice(axis + 1)]);
      for (let o = 0; o < outer; o++) {
        for (let j = 0; j < k; j++) {
          let i = idx!.data[j];
          if (i < 0) i += n;
          if (i < 0 || i >= n) throw new Error(`index ${idx!.data[j]} out of range for axis of size ${n}`);
          const from = (o * n + i) * inner;
          out.data.set(x!.data.subarray(from, from + inner), (o * k + j) * inner);
        }
      }
      return [out];
    },
    backward({ node, dy }) {
      const [x, idx] = node.inputs as Value[];
      const axis = node.attrs.axis;
      const n = x.shape[axis];
      if (!isStatic(n) || !idx.shape.every(isStatic)) throw new Error('the gradient of Gather needs a static axis and static index shape');
      const g = x.graph;
      // one-hot [k, n] of the (wrapped) indices: dx = dy^T-ish @ onehot, summing repeated indices
      const flat = reshape(idx, [size(idx.shape as number[])]);
      const wrapped = where(less(flat, g.scalar(0, flat)), add(flat, g.scalar(n, flat)), flat);
      const arange = g.constant({ dtype: idx.dtype, shape: [n], data: idx.dtype === 'int64' ? BigInt64Array.from({ length: n }, (_, i) => BigInt(i)) : Int32Array.from({ length: n }, (_, i) => i) });
      const onehot = cast(equal(unsqueeze(wrapped, [1]), arange), x.dtype);
      // dy [pre, idx..., post] -> [pre, post, k] @ [k, n] -> [pre, post, n] -> x's layout
      const pre: Dim[] = x.shape.slice(0, axis);
      const post: Dim[] = x.shape.slice(axis + 1);
      const k = size(idx.shape as number[]);
      const d3 = reshape(dy[0]!, [product(pre), k, product(post)]);
      const moved = matmul(transpose(d3, [0, 2, 1]), onehot);
      const back = transpose(moved, [0, 2, 1]);
      return [reshape(back, [...pre, n, ...post])];
    },
  }),
];
