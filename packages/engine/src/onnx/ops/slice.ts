/** Slice: a strided window along some axes (starts, ends, axes and steps are constants). */
import type { Value } from '../graph.ts';
import { type OpDef, defineOp } from '../op.ts';
import { type Ref, ints, ref } from '../reference.ts';
import { type Dim, type Shape, isStatic, normalizeAxis, strides } from '../shape.ts';
import { pad } from './pad.ts';

export function slice(x: Value, starts: readonly number[], ends: readonly number[], axes?: readonly number[], steps?: readonly number[]): Value {
  const g = x.graph;
  return g.node('Slice', [x, g.ints(starts), g.ints(ends), axes && g.ints(axes), steps && g.ints(steps)])[0];
}

interface Window {
  /** per axis of the input: first index, step and count */
  start: number[];
  step: number[];
  count: Dim[];
}

function windowOf(shape: Shape, starts: number[], ends: number[], axesIn: number[] | undefined, stepsIn: number[] | undefined): Window {
  const rank = shape.length;
  const axes = (axesIn ?? starts.map((_, i) => i)).map((a) => normalizeAxis(a, rank));
  const steps = stepsIn ?? starts.map(() => 1);
  if (ends.length !== starts.length || axes.length !== starts.length || steps.length !== starts.length) throw new Error('starts, ends, axes and steps differ in length');
  const w: Window = { start: shape.map(() => 0), step: shape.map(() => 1), count: [...shape] };
  axes.forEach((axis, i) => {
    const dim = shape[axis];
    if (!isStatic(dim)) throw new Error(`cannot slice symbolic axis ${axis}`);
    const step = steps[i];
    if (step === 0) throw new Error('step 0');
    const norm = (v: number) => (v < 0 ? v + dim : v);
    const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
    let start: number;
    let count: number;
    if (step > 0) {
      start = clamp(norm(starts[i]), 0, dim);
      count = Math.max(0, Math.ceil((clamp(norm(ends[i]), 0, dim) - start) / step));
    } else {
      start = clamp(norm(starts[i]), 0, dim - 1);
      count = Math.max(0, Math.ceil((start - clamp(norm(ends[i]), -1, dim - 1)) / -step));
    }
    w.start[axis] = start;
    w.step[axis] = step;
    w.count[axis] = count;
  });
  return w;
}

function constants(v: Value | undefined, what: string): number[] | undefined {
  if (!v) return undefined;
  const k = v.knownInts();
  if (!k || !k.every(isStatic)) throw new Error(`${what} must be a constant`);
  return k as number[];
}

function windowOfNode(inputs: readonly (Value | undefined)[]): Window {
  const [x, s, e, a, st] = inputs;
  return windowOf(x!.shape, constants(s, 'starts')!, constants(e, 'ends')!, constants(a, 'axes'), constants(st, 'steps'));
}

export const SLICE_OPS: OpDef[] = [
  defineOp({
    opType: 'Slice',
    attrs: {},
    differentiable: [0],
    infer(inputs) {
      if (!inputs[0] || !inputs[1] || !inputs[2]) throw new Error('needs data, starts and ends');
      const w = windowOfNode(inputs);
      // shape arithmetic: the picked elements of a 1-D value known while building
      const elements = inputs[0].rank === 1 ? inputs[0].knownInts() : undefined;
      const known = elements && Array.from({ length: w.count[0] as number }, (_, i) => elements[w.start[0] + i * w.step[0]]);
      return { outputs: [{ dtype: inputs[0].dtype, shape: w.count, known }] };
    },
    evaluate([x, s, e, a, st]) {
      const w = windowOf(x!.shape, ints(s), ints(e), a && ints(a), st && ints(st));
      const count = w.count as number[];
      const out = ref(x!.dtype, count);
      const inStrides = strides(x!.shape);
      const idx = count.map(() => 0);
      for (let flat = 0; flat < out.data.length; flat++) {
        let off = 0;
        for (let d = 0; d < idx.length; d++) off += (w.start[d] + idx[d] * w.step[d]) * inStrides[d];
        out.data[flat] = x!.data[off];
        for (let d = idx.length - 1; d >= 0; d--) {
          if (++idx[d] < count[d]) break;
          idx[d] = 0;
        }
      }
      return [out];
    },
    backward({ node, dy }) {
      const x = node.inputs[0]!;
      const w = windowOfNode(node.inputs);
      if (w.step.some((s) => s !== 1)) throw new Error('the gradient of Slice is implemented for step 1 only');
      const begin = w.start;
      const end = x.shape.map((d, i) => (isStatic(d) ? d - w.start[i] - (w.count[i] as number) : 0));
      return [pad(dy[0]!, [...begin, ...end])];
    },
  }),
];
