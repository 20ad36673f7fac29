/** ReduceSum, ReduceMean and ReduceMax (opset 18: axes as an input). */
import type { Value } from '../graph.ts';
import { isFloat } from '../ndarray.ts';
import { type AttrSchema, type AttrsOf, type OpDef, defineOp } from '../op.ts';
import { type Ref, ints, ref } from '../reference.ts';
import { type Dim, isStatic, normalizeAxis, size, strides } from '../shape.ts';
import { cast, div, equal, mul } from './elementwise.ts';
import { expandTo } from './expand.ts';
import { sizeOf, unsqueeze } from './reshape.ts';

function reduceNode(op: string, x: Value, axes: readonly number[] | undefined, keepdims: boolean): Value {
  const g = x.graph;
  return g.node(op, [x, axes === undefined ? undefined : g.ints(axes)], { keepdims: keepdims ? 1 : 0 })[0];
}
/** Sum over `axes` (all axes when omitted). */
export const reduceSum = (x: Value, axes?: readonly number[], keepdims = true) => reduceNode('ReduceSum', x, axes, keepdims);
export const reduceMean = (x: Value, axes?: readonly number[], keepdims = true) => reduceNode('ReduceMean', x, axes, keepdims);
export const reduceMax = (x: Value, axes?: readonly number[], keepdims = true) => reduceNode('ReduceMax', x, axes, keepdims);

const REDUCE_ATTRS = { keepdims: { type: 'int', default: 1 }, noop_with_empty_axes: { type: 'int', default: 0 } } as const satisfies AttrSchema;

/** The reduced axes of a Reduce node, normalized and sorted. */
function reducedAxes(x: { rank: number }, axesInput: Value | undefined, attrs: AttrsOf<typeof REDUCE_ATTRS>): number[] {
  let axes: number[];
  if (!axesInput) axes = [];
  else {
    const known = axesInput.knownInts();
    if (!known || !known.every(isStatic)) throw new Error('axes must be a constant');
    axes = known as number[];
  }
  if (axes.length === 0) return attrs.noop_with_empty_axes ? [] : Array.from({ length: x.rank }, (_, i) => i);
  const norm = axes.map((a) => normalizeAxis(a, x.rank));
  if (new Set(norm).size !== norm.length) throw new Error(`repeated axes ${axes}`);
  return norm.sort((a, b) => a - b);
}

function reduceKernel(x: Ref, axes: number[], keepdims: boolean, init: number, step: (acc: number, v: number) => number, finish: (acc: number, n: number) => number): Ref {
  const keptShape = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const outShape = keepdims ? keptShape : x.shape.filter((_, i) => !axes.includes(i));
  const out = ref(x.dtype, outShape).data.fill(init);
  const outStrides = strides(keptShape);
  const count = size(axes.map((a) => x.shape[a]));
  const idx = new Array<number>(x.shape.length).fill(0);
  for (let flat = 0; flat < x.data.length; flat++) {
    let o = 0;
    for (let d = 0; d < idx.length; d++) if (!axes.includes(d)) o += idx[d] * outStrides[d];
    out[o] = step(out[o], x.data[flat]);
    for (let d = idx.length - 1; d >= 0; d--) {
      if (++idx[d] < x.shape[d]) break;
      idx[d] = 0;
    }
  }
  for (let i = 0; i < out.length; i++) out[i] = finish(out[i], count);
  return ref(x.dtype, outShape, out);
}

/** dy of a reduction brought back to x's rank (keepdims layout) and broadcast to x's shape. */
function spread(x: Value, dy: Value, axes: number[], keepdims: boolean): Value {
  return expandTo(keepdims ? dy : unsqueeze(dy, axes), x);
}

function reduction(opType: string, init: number, step: (a: number, v: number) => number, finish: (a: number, n: number) => number, backward: (x: Value, y: Value, dy: Value, axes: number[], keepdims: boolean) => Value): OpDef {
  return defineOp({
    opType,
    attrs: REDUCE_ATTRS,
    differentiable: [0],
    infer([x, axesInput], attrs) {
      if (!x || !isFloat(x.dtype)) throw new Error('input must be a float tensor');
      const axes = reducedAxes(x, axesInput, attrs);
      const shape: Dim[] = [];
      x.shape.forEach((d, i) => {
        if (!axes.includes(i)) shape.push(d);
        else if (attrs.keepdims) shape.push(1);
      });
      return { outputs: [{ dtype: x.dtype, shape }] };
    },
    evaluate([x, axesInput], attrs) {
      let axes = ints(axesInput).map((a) => normalizeAxis(a, x!.shape.length));
      if (axes.length === 0 && !attrs.noop_with_empty_axes) axes = x!.shape.map((_, i) => i);
      return [reduceKernel(x!, axes, !!attrs.keepdims, init, step, finish)];
    },
    backward({ node, dy }) {
      const x = node.inputs[0]!;
      const axes = reducedAxes(x, node.inputs[1], node.attrs);
      return [backward(x, node.outputs[0], dy[0]!, axes, !!node.attrs.keepdims)];
    },
  });
}

export const REDUCE_OPS: OpDef[] = [
  reduction('ReduceSum', 0, (a, v) => a + v, (a) => a, (x, _y, dy, axes, keep) => spread(x, dy, axes, keep)),
  reduction('ReduceMean', 0, (a, v) => a + v, (a, n) => a / n, (x, y, dy, axes, keep) => {
    const dims = axes.map((a) => x.shape[a]);
    // the count of a symbolic (batch) axis is known at run time only: size(y) / size(x)
    const scale = dims.every(isStatic) ? 1 / size(dims) : div(cast(sizeOf(y), x.dtype), cast(sizeOf(x), x.dtype));
    return spread(x, mul(dy, scale), axes, keep);
  }),
  reduction('ReduceMax', -Infinity, Math.max, (a) => a, (x, y, dy, axes, keep) => {
    // the gradient goes to the maxima, split evenly between ties
    const yKept = keep ? y : unsqueeze(y, axes);
    const mask = cast(equal(x, yKept), x.dtype);
    const ties = reduceSum(mask, axes, true);
    return mul(mask, spread(x, div(keep ? dy : unsqueeze(dy, axes), ties), axes, true));
  }),
];
