/** Pad (constant, reflect, edge): the adjoint folds padded borders back onto the input. */
import type { Value } from '../graph.ts';
import { type AttrSchema, type OpDef, defineOp } from '../op.ts';
import { type Ref, ints, ref } from '../reference.ts';
import { type Dim, isStatic, mulDims, strides } from '../shape.ts';
import { add } from './elementwise.ts';
import { reduceSum } from './reduce.ts';
import { slice } from './slice.ts';

export type PadMode = 'constant' | 'reflect' | 'edge';

/** pads: [x1_begin, x2_begin, ..., x1_end, x2_end, ...] over all axes. */
export function pad(x: Value, pads: readonly number[], mode: PadMode = 'constant', value = 0): Value {
  const g = x.graph;
  const constantValue = mode === 'constant' && value !== 0 ? g.scalar(value, x) : undefined;
  return g.node('Pad', [x, g.ints(pads), constantValue], { mode })[0];
}

function padsOf(x: { rank: number }, padsInput: Value | undefined): number[] {
  const p = padsInput?.knownInts();
  if (!p || !p.every(isStatic)) throw new Error('pads must be a constant');
  if (p.length !== 2 * x.rank) throw new Error(`pads has ${p.length} entries, input rank ${x.rank} needs ${2 * x.rank}`);
  return p as number[];
}

/** Source index along one axis for an output index, per mode (-1: the constant). */
function source(i: number, n: number, mode: PadMode): number {
  if (i >= 0 && i < n) return i;
  if (mode === 'constant') return -1;
  if (mode === 'edge') return i < 0 ? 0 : n - 1;
  // reflect without repeating the edge; periods longer than the axis are not allowed by infer
  return i < 0 ? -i : 2 * (n - 1) - i;
}

/** The adjoint of padding one axis: `dy` has the padded length along `axis`. */
function unpadAxis(dy: Value, axis: number, n: number, begin: number, end: number, mode: PadMode): Value {
  const core = slice(dy, [begin], [begin + n], [axis]);
  if (mode === 'constant' || (begin === 0 && end === 0)) return core;
  const zeros = (pads: [number, number]) => {
    const p = new Array<number>(2 * dy.rank).fill(0);
    p[axis] = pads[0];
    p[dy.rank + axis] = pads[1];
    return p;
  };
  let g = core;
  if (begin > 0) {
    const border = slice(dy, [0], [begin], [axis]);
    const folded = mode === 'edge' ? pad(reduceSum(border, [axis]), zeros([0, n - 1])) : pad(slice(border, [-1], [-begin - 1], [axis], [-1]), zeros([1, n - 1 - begin]));
    g = add(g, folded);
  }
  if (end > 0) {
    const border = slice(dy, [begin + n], [begin + n + end], [axis]);
    const folded = mode === 'edge' ? pad(reduceSum(border, [axis]), zeros([n - 1, 0])) : pad(slice(border, [-1], [-end - 1], [axis], [-1]), zeros([n - 1 - end, 1]));
    g = add(g, folded);
  }
  return g;
}

const PAD_ATTRS = { mode: { type: 'string', default: 'constant' } } as const satisfies AttrSchema;

function padMode(mode: string): PadMode {
  if (mode === 'constant' || mode === 'reflect' || mode === 'edge') return mode;
  throw new Error(`mode "${mode}" is not supported`);
}

export const PAD_OPS: OpDef[] = [
  // infer checks the mode and keeps it as a PadMode for evaluate and backward
  defineOp<typeof PAD_ATTRS, { mode: PadMode }>({
    opType: 'Pad',
    attrs: PAD_ATTRS,
    differentiable: [0],
    infer([x, padsInput, value, axes], attrs) {
      if (!x) throw new Error('missing input');
      if (axes) throw new Error('the axes input is not supported: give pads for every axis');
      const mode = padMode(attrs.mode);
      if (value && (value.rank !== 0 || value.dtype !== x.dtype)) throw new Error('constant_value must be a scalar of the input type');
      const p = padsOf(x, padsInput);
      const shape: Dim[] = x.shape.map((d, i) => {
        const b = p[i];
        const e = p[x.rank + i];
        if (b === 0 && e === 0) return d;
        if (!isStatic(d)) throw new Error(`cannot pad symbolic axis ${i}`);
        if (mode !== 'constant' && (b < 0 || e < 0)) throw new Error(`negative pads need mode constant`);
        if (mode === 'reflect' && (b >= d || e >= d)) throw new Error(`reflect pads [${b}, ${e}] must be smaller than the axis (${d})`);
        return d + b + e;
      });
      if (shape.some((d) => isStatic(d) && d < 0)) throw new Error(`pads [${p}] crop more than the input`);
      return { outputs: [{ dtype: x.dtype, shape: shape.map((d) => mulDims(d, 1)) }], attrs: { mode } };
    },
    evaluate([x, padsInput, value], attrs) {
      const p = ints(padsInput);
      const r = x!.shape.length;
      const shape = x!.shape.map((d, i) => d + p[i] + p[r + i]);
      const out = ref(x!.dtype, shape);
      const inStrides = strides(x!.shape);
      const c = value ? value.data[0] : 0;
      const idx = shape.map(() => 0);
      for (let flat = 0; flat < out.data.length; flat++) {
        let off = 0;
        for (let d = 0; d < r && off >= 0; d++) {
          const s = source(idx[d] - p[d], x!.shape[d], attrs.mode);
          off = s < 0 ? -1 : off + s * inStrides[d];
        }
        out.data[flat] = off < 0 ? c : x!.data[off];
        for (let d = r - 1; d >= 0; d--) {
          if (++idx[d] < shape[d]) break;
          idx[d] = 0;
        }
      }
      return [out];
    },
    backward({ node, dy }) {
      const x = node.inputs[0]!;
      const p = padsOf(x, node.inputs[1]);
      const mode = node.attrs.mode;
      let g = dy[0]!;
      // negative pads crop: their adjoint pads with zeros first
      const grow = p.map((v) => Math.max(-v, 0));
      if (grow.some((v) => v > 0)) g = pad(g, grow);
      for (let axis = x.rank - 1; axis >= 0; axis--) {
        const b = Math.max(p[axis], 0);
        const e = Math.max(p[x.rank + axis], 0);
        if (b === 0 && e === 0) continue;
        g = unpadAxis(g, axis, x.shape[axis] as number, b, e, mode);
      }
      return [g];
    },
  }),
];
