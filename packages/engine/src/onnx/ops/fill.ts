/**
 * ConstantOfShape and Range: tensors made from a shape or bounds rather than from data. Not
 * differentiable. When the result is a 1-D integer tensor of known length, its elements are known
 * while building, so shape arithmetic through them still gives static (or symbolic) shapes.
 */
import type { Value } from '../graph.ts';
import { type DType, type NdArray, float32, isFloat, toNumbers } from '../ndarray.ts';
import { type OpDef, defineOp } from '../op.ts';
import { ints, ref } from '../reference.ts';
import { type Dim, isStatic } from '../shape.ts';

/** A tensor of `shape` (a 1-D int64 value) filled with `value` (a one-element array; float32 0 by default). */
export function constantOfShape(shape: Value, value?: NdArray): Value {
  return shape.graph.node('ConstantOfShape', [shape], { value })[0];
}

/** [start, start + delta, ...) up to limit (exclusive); scalars of one type. */
export function range(start: Value, limit: Value, delta: Value): Value {
  return start.graph.node('Range', [start, limit, delta])[0];
}

const ZERO = float32([1], [0]);

function fillValue(value: NdArray | undefined): { dtype: DType; v: number } {
  const t = value ?? ZERO;
  if (t.data.length !== 1) throw new Error(`value must hold one element, got shape [${t.shape}]`);
  return { dtype: t.dtype, v: toNumbers(t)[0] };
}

/** A scalar known while building (constant or symbolic). */
function knownScalar(v: Value | undefined, what: string): Dim | undefined {
  if (!v) throw new Error(`missing ${what}`);
  if (v.rank !== 0 && !(v.rank === 1 && v.shape[0] === 1)) throw new Error(`${what} must be a scalar, got [${v.shape}]`);
  const k = v.knownInts();
  if (k) return k[0];
  if (v.kind === 'constant' && v.data) return toNumbers(v.data)[0];
  return undefined;
}

/** Number of elements of Range: max(ceil((limit - start) / delta), 0). */
function rangeLength(start: number, limit: number, delta: number): number {
  if (delta === 0) throw new Error('delta must not be 0');
  return Math.max(Math.ceil((limit - start) / delta), 0);
}

export const FILL_OPS: OpDef[] = [
  defineOp({
    opType: 'ConstantOfShape',
    attrs: { value: { type: 'tensor' } },
    infer([shape], attrs) {
      if (!shape || shape.rank !== 1 || shape.dtype !== 'int64') throw new Error('input must be a 1-D int64 shape');
      const dims = shape.knownInts();
      if (!dims) throw new Error('the shape must be known while building (a constant or computed from Shape)');
      if (dims.some((d) => isStatic(d) && d < 0)) throw new Error(`negative dimension in [${dims}]`);
      const { dtype, v } = fillValue(attrs.value);
      const known = dims.length === 1 && isStatic(dims[0]) && !isFloat(dtype) ? new Array<number>(dims[0]).fill(v) : undefined;
      return { outputs: [{ dtype, shape: dims, known }] };
    },
    evaluate([shape], attrs) {
      const { dtype, v } = fillValue(attrs.value);
      const out = ref(dtype, ints(shape));
      out.data.fill(v);
      return [out];
    },
  }),
  defineOp({
    opType: 'Range',
    attrs: {},
    infer([start, limit, delta]) {
      const dtype = start?.dtype;
      if (!dtype || limit?.dtype !== dtype || delta?.dtype !== dtype) throw new Error('start, limit and delta must be scalars of one type');
      const [s, l, d] = [knownScalar(start, 'start'), knownScalar(limit, 'limit'), knownScalar(delta, 'delta')];
      let length: Dim;
      if ([s, l, d].every((v) => v !== undefined && isStatic(v))) length = rangeLength(s as number, l as number, d as number);
      // Range(0, n, 1) over a symbolic n (e.g. a batch size): n elements
      else if (s === 0 && d === 1 && l !== undefined) length = l;
      else throw new Error('start, limit and delta must be known while building (constants, or Range(0, n, 1) over a symbolic n)');
      const known = isStatic(length) && !isFloat(dtype) ? Array.from({ length }, (_, i) => (s as number) + i * (d as number)) : undefined;
      return { outputs: [{ dtype, shape: [length], known }] };
    },
    evaluate([start, limit, delta]) {
      const [s, l, d] = [start!.data[0], limit!.data[0], delta!.data[0]];
      const n = rangeLength(s, l, d);
      return [ref(start!.dtype, [n], Array.from({ length: n }, (_, i) => s + i * d))];
    },
  }),
];
