/** Shape, Reshape, Flatten, Squeeze, Unsqueeze: views that keep the elements in order. */
import type { Value } from '../graph.ts';
import { type OpDef, defineOp } from '../op.ts';
import { type Ref, ints, ref } from '../reference.ts';
import { type Dim, type Shape, divDims, isStatic, normalizeAxis, product } from '../shape.ts';

export function shapeOf(x: Value): Value {
  return x.graph.node('Shape', [x])[0];
}

/** Number of elements, as an int64 scalar computed at run time. */
export function sizeOf(x: Value): Value {
  return x.graph.node('Size', [x])[0];
}

/** Reshape to `shape` (0 copies the input dimension, -1 is inferred; symbolic dims allowed). */
export function reshape(x: Value, shape: readonly Dim[]): Value {
  const g = x.graph;
  const symbolic = shape.filter((d) => !isStatic(d));
  if (symbolic.length === 0) return g.node('Reshape', [x, g.ints(shape as number[])])[0];
  if (symbolic.length === 1 && !shape.includes(-1)) return g.node('Reshape', [x, g.ints(shape.map((d) => (isStatic(d) ? d : -1)))])[0];
  throw new Error(`reshape to [${shape}] needs a shape value (use reshapeLike)`);
}

/** Reshape x to like's shape. */
export function reshapeLike(x: Value, like: Value): Value {
  const symbolic = like.shape.filter((d) => !isStatic(d)).length;
  return symbolic <= 1 ? reshape(x, like.shape) : x.graph.node('Reshape', [x, shapeOf(like)])[0];
}

export const flatten = (x: Value, axis = 1) => x.graph.node('Flatten', [x], { axis })[0];
export const squeeze = (x: Value, axes: readonly number[]) => x.graph.node('Squeeze', [x, x.graph.ints(axes)])[0];
export const unsqueeze = (x: Value, axes: readonly number[]) => x.graph.node('Unsqueeze', [x, x.graph.ints(axes)])[0];

function constantAxes(v: Value | undefined, what: string): number[] | undefined {
  if (!v) return undefined;
  const known = v.knownInts();
  if (!known || !known.every(isStatic)) throw new Error(`${what} must be a constant`);
  return known as number[];
}

/** The output shape of Reshape (allowzero = 0). */
export function reshapeTarget(input: Shape, target: readonly Dim[]): Dim[] {
  const out = target.map((d, i) => (d === 0 ? input[i] : d));
  const inferred = out.indexOf(-1);
  if (out.filter((d) => d === -1).length > 1) throw new Error(`more than one -1 in [${target}]`);
  if (inferred >= 0) {
    const rest = product(out.filter((_, i) => i !== inferred));
    const q = divDims(product(input), rest);
    if (q === undefined) throw new Error(`cannot reshape [${input}] to [${target}]`);
    out[inferred] = q;
  } else if (divDims(product(input), product(out)) !== 1) {
    throw new Error(`cannot reshape [${input}] (${product(input)} elements) to [${target}] (${product(out)})`);
  }
  return out;
}

/** Shape's dimensions from start to end (exclusive), negative ones counting from the end, clamped. */
function shapeRange<D extends Dim>(shape: readonly D[], start: number, end = shape.length): D[] {
  const at = (i: number) => Math.min(Math.max(i < 0 ? i + shape.length : i, 0), shape.length);
  return shape.slice(at(start), at(end));
}

/** The known elements of x, for a result that holds them in the same order at rank 0 or 1. */
const keptKnown = (x: Value, rank: number) => (rank <= 1 && x.rank <= 1 ? x.knownInts() : undefined);

const backToInput: OpDef['backward'] = ({ node, dy }) => [reshapeLike(dy[0]!, node.inputs[0]!)];
const view = (x: Ref, shape: number[]): Ref => ref(x.dtype, shape, x.data);

export const RESHAPE_OPS: OpDef[] = [
  defineOp({
    opType: 'Shape',
    attrs: { start: { type: 'int', default: 0 }, end: { type: 'int' } },
    infer([x], attrs) {
      if (!x) throw new Error('missing input');
      const dims = shapeRange(x.shape, attrs.start, attrs.end);
      return { outputs: [{ dtype: 'int64', shape: [dims.length], known: dims }] };
    },
    evaluate([x], attrs) {
      const dims = shapeRange(x!.shape, attrs.start, attrs.end);
      return [ref('int64', [dims.length], dims)];
    },
  }),
  defineOp({
    opType: 'Size',
    attrs: {},
    infer([x]) {
      if (!x) throw new Error('missing input');
      return { outputs: [{ dtype: 'int64', shape: [] }] };
    },
    evaluate([x]) {
      return [ref('int64', [], [x!.data.length])];
    },
  }),
  defineOp({
    opType: 'Reshape',
    attrs: { allowzero: { type: 'int', default: 0 } },
    differentiable: [0],
    infer([x, shape], attrs) {
      if (!x || !shape) throw new Error('needs an input and a shape');
      if (attrs.allowzero) throw new Error('allowzero=1 is not supported');
      const target = shape.knownInts();
      if (!target) throw new Error('shape must be known while building (a constant or the output of Shape)');
      const out = reshapeTarget(x.shape, target);
      return { outputs: [{ dtype: x.dtype, shape: out, known: keptKnown(x, out.length) }] };
    },
    evaluate([x, shape]) {
      return [view(x!, reshapeTarget(x!.shape, ints(shape)) as number[])];
    },
    backward: backToInput,
  }),
  defineOp({
    opType: 'Flatten',
    attrs: { axis: { type: 'int', default: 1 } },
    differentiable: [0],
    infer([x], attrs) {
      if (!x) throw new Error('missing input');
      const axis = attrs.axis === x.rank ? x.rank : normalizeAxis(attrs.axis, x.rank);
      return { outputs: [{ dtype: x.dtype, shape: [product(x.shape.slice(0, axis)), product(x.shape.slice(axis))] }] };
    },
    evaluate([x], attrs) {
      const r = x!.shape.length;
      const axis = attrs.axis === r ? r : normalizeAxis(attrs.axis, r);
      return [view(x!, [product(x!.shape.slice(0, axis)), product(x!.shape.slice(axis))] as number[])];
    },
    backward: backToInput,
  }),
  defineOp({
    opType: 'Squeeze',
    attrs: {},
    differentiable: [0],
    infer([x, axesInput]) {
      if (!x) throw new Error('missing input');
      const axes = constantAxes(axesInput, 'axes')?.map((a) => normalizeAxis(a, x.rank)) ?? x.shape.flatMap((d, i) => (d === 1 ? [i] : []));
      for (const a of axes) if (x.shape[a] !== 1) throw new Error(`cannot squeeze axis ${a} of size ${x.shape[a]}`);
      const shape = x.shape.filter((_, i) => !axes.includes(i));
      return { outputs: [{ dtype: x.dtype, shape, known: keptKnown(x, shape.length) }] };
    },
    evaluate([x, axesInput]) {
      const r = x!.shape.length;
      const axes = axesInput ? ints(axesInput).map((a) => normalizeAxis(a, r)) : x!.shape.flatMap((d, i) => (d === 1 ? [i] : []));
      return [view(x!, x!.shape.filter((_, i) => !axes.includes(i)))];
    },
    backward: backToInput,
  }),
  defineOp({
    opType: 'Unsqueeze',
    attrs: {},
    differentiable: [0],
    infer([x, axesInput]) {
      if (!x) throw new Error('missing input');
      const axes = constantAxes(axesInput, 'axes');
      if (!axes) throw new Error('axes are required');
      const shape = unsqueezeShape(x.shape, axes);
      return { outputs: [{ dtype: x.dtype, shape, known: keptKnown(x, shape.length) }] };
    },
    evaluate([x, axesInput]) {
      return [view(x!, unsqueezeShape(x!.shape, ints(axesInput)) as number[])];
    },
    backward: backToInput,
  }),
];

function unsqueezeShape(shape: Shape, axes: readonly number[]): Dim[] {
  const rank = shape.length + axes.length;
  const norm = axes.map((a) => normalizeAxis(a, rank));
  if (new Set(norm).size !== norm.length) throw new Error(`repeated axes ${axes}`);
  const out: Dim[] = [];
  let k = 0;
  for (let i = 0; i < rank; i++) out.push(norm.includes(i) ? 1 : shape[k++]);
  return out;
}
