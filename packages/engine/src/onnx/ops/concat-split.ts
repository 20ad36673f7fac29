/** Concat and Split along one axis: each is the other's adjoint. */
import type { Value } from '../graph.ts';
import { type OpDef, defineOp } from '../op.ts';
import { type Ref, ints, ref } from '../reference.ts';
import { type Dim, dimEquals, isStatic, normalizeAxis, size } from '../shape.ts';
import { expandTo } from './expand.ts';

export function concat(xs: readonly Value[], axis: number): Value {
  if (xs.length === 0) throw new Error('concat needs at least one input');
  return xs[0].graph.node('Concat', xs, { axis })[0];
}

/** Splits x along `axis` into parts of the given sizes. */
export function split(x: Value, sizes: readonly number[], axis: number): Value[] {
  return x.graph.node('Split', [x, x.graph.ints(sizes)], { axis }, { outputs: sizes.length });
}

/** Copies blocks along `axis` between arrays of equal shape elsewhere. */
function copyAlong(src: Ref, dst: Float64Array, dstShape: readonly number[], axis: number, dstOffset: number): void {
  const outer = size(src.shape.slice(0, axis));
  const inner = size(src.shape.slice(axis + 1));
  const n = src.shape[axis];
  for (let o = 0; o < outer; o++) {
    for (let k = 0; k < n; k++) {
      const s = (o * n + k) * inner;
      const d = (o * dstShape[axis] + dstOffset + k) * inner;
      dst.set(src.data.subarray(s, s + inner), d);
    }
  }
}

function staticSizes(parts: Dim[], axis: number, what: string): number[] {
  if (!parts.every(isStatic)) throw new Error(`${what} along axis ${axis} needs static sizes, got [${parts}]`);
  return parts as number[];
}

/** Split without sizes: num_outputs parts of ceil(size / n), the last ones smaller. */
function evenSizes(dimSize: number, n: number | undefined): number[] {
  if (!n) throw new Error('give split sizes or num_outputs');
  const chunk = Math.ceil(dimSize / n);
  return Array.from({ length: n }, (_, i) => Math.max(0, Math.min(chunk, dimSize - i * chunk)));
}

export const CONCAT_SPLIT_OPS: OpDef[] = [
  defineOp({
    opType: 'Concat',
    attrs: { axis: { type: 'int', required: true } },
    differentiable: 'all',
    infer(inputs, attrs) {
      const xs = inputs as Value[];
      if (xs.length === 0 || xs.some((x) => !x)) throw new Error('missing inputs');
      const axis = normalizeAxis(attrs.axis, xs[0].rank);
      const shape = [...xs[0].shape];
      for (const x of xs) {
        if (x.rank !== shape.length || x.dtype !== xs[0].dtype) throw new Error(`inputs differ in rank or type: ${x}`);
        x.shape.forEach((d, i) => {
          if (i !== axis && !dimEquals(d, shape[i])) throw new Error(`shapes differ off axis ${axis}: [${x.shape}] vs [${shape}]`);
        });
      }
      shape[axis] = staticSizes(xs.map((x) => x.shape[axis]), axis, 'Concat').reduce((a, b) => a + b, 0);
      // shape arithmetic: the joined elements of 1-D values known while building
      const parts = shape.length === 1 ? xs.map((x) => x.knownInts()) : [];
      const known = parts.length && parts.every((k) => k !== undefined) ? parts.flat() : undefined;
      return { outputs: [{ dtype: xs[0].dtype, shape, known }], attrs: { axis } };
    },
    evaluate(inputs, attrs) {
      const xs = inputs as Ref[];
      const axis = attrs.axis;
      const shape = [...xs[0].shape];
      shape[axis] = xs.reduce((s, x) => s + x.shape[axis], 0);
      const out = ref(xs[0].dtype, shape);
      let offset = 0;
      for (const x of xs) {
        copyAlong(x, out.data, shape, axis, offset);
        offset += x.shape[axis];
      }
      return [out];
    },
    backward({ node, dy, needs }) {
      const axis = node.attrs.axis;
      const parts = split(dy[0]!, node.inputs.map((x) => x!.shape[axis] as number), axis);
      return parts.map((p, i) => (needs[i] ? p : undefined));
    },
  }),
  defineOp({
    opType: 'Split',
    attrs: { axis: { type: 'int', default: 0 }, num_outputs: { type: 'int' } },
    differentiable: [0],
    infer([x, sizesInput], attrs) {
      if (!x) throw new Error('missing input');
      const axis = normalizeAxis(attrs.axis, x.rank);
      const dimSize = x.shape[axis];
      if (!isStatic(dimSize)) throw new Error(`Split along symbolic axis ${axis}`);
      let sizes: number[];
      if (sizesInput) {
        const known = sizesInput.knownInts();
        if (!known || !known.every(isStatic)) throw new Error('split sizes must be a constant');
        sizes = known as number[];
      } else sizes = evenSizes(dimSize, attrs.num_outputs);
      if (sizes.reduce((a, b) => a + b, 0) !== dimSize) throw new Error(`split sizes [${sizes}] do not add up to ${dimSize}`);
      return {
        outputs: sizes.map((s) => ({ dtype: x.dtype, shape: x.shape.map((d, i) => (i === axis ? s : d)) })),
        attrs: { ...attrs, axis },
      };
    },
    evaluate([x, sizesInput], attrs) {
      const axis = attrs.axis;
      let sizes = ints(sizesInput);
      if (sizes.length === 0) sizes = evenSizes(x!.shape[axis], attrs.num_outputs);
      const outer = size(x!.shape.slice(0, axis));
      const inner = size(x!.shape.slice(axis + 1));
      let offset = 0;
      return sizes.map((s) => {
        const shape = x!.shape.map((d, i) => (i === axis ? s : d));
        const out = ref(x!.dtype, shape);
        for (let o = 0; o < outer; o++) {
          const from = (o * x!.shape[axis] + offset) * inner;
          out.data.set(x!.data.subarray(from, from + s * inner), o * s * inner);
        }
        offset += s;
        return out;
      });
    },
    backward({ node, dy }) {
      const axis = node.attrs.axis;
      const parts = node.outputs.map((y, i) => dy[i] ?? expandTo(y.graph.scalar(0, y), y));
      return [concat(parts, axis)];
    },
  }),
];
