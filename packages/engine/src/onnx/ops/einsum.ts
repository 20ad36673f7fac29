/**
 * Einsum: ONNX's Einsum (explicit '->' or implicit output, '...' broadcasting) with a general
 * float64 reference. The gradient of an operand of a one- or two-operand equation is itself an
 * Einsum: of dy with the other operand into the operand's subscripts; letters the forward summed
 * out of that operand alone come back by Expand.
 */
import type { Value } from '../graph.ts';
import { isFloat } from '../ndarray.ts';
import { type OpDef, defineOp } from '../op.ts';
import { type Ref, ref } from '../reference.ts';
import { type Dim, dimEquals } from '../shape.ts';
import { expandTo } from './expand.ts';
import { unsqueeze } from './reshape.ts';

export function einsum(equation: string, ...operands: Value[]): Value {
  if (operands.length === 0) throw new Error('einsum: needs at least one operand');
  return operands[0].graph.node('Einsum', operands, { equation })[0];
}

/**
 * An equation with '...' resolved: one label per axis of each operand and of the output. The axes
 * an ellipsis stands for get the labels '0', '1', ... (right-aligned: the last ellipsis axis of
 * every operand shares one label), which no equation can use itself.
 */
export interface Subscripts {
  inputs: string[][];
  output: string[];
}

const LETTER = /^[a-zA-Z]$/;

export function parseEquation(equation: string, ranks: readonly number[]): Subscripts {
  const eq = equation.replace(/\s+/g, '');
  const [lhs, rhs, ...rest] = eq.split('->');
  if (rest.length) throw new Error(`equation "${equation}" has more than one "->"`);
  const terms = lhs.split(',');
  if (terms.length !== ranks.length) throw new Error(`equation "${equation}" has ${terms.length} operands, ${ranks.length} inputs were given`);
  const ellipsisRanks: number[] = [];
  const split = (term: string, what: string): { before: string[]; after: string[]; ellipsis: boolean } => {
    const parts = term.split('...');
    if (parts.length > 2) throw new Error(`${what} "${term}" has more than one "..."`);
    for (const ch of parts.join('')) if (!LETTER.test(ch)) throw new Error(`${what} "${term}": "${ch}" is not a letter`);
    return { before: [...parts[0]], after: parts.length === 2 ? [...parts[1]] : [], ellipsis: parts.length === 2 };
  };
  const parsed = terms.map((t, i) => {
    const p = split(t, `operand ${i}`);
    const letters = p.before.length + p.after.length;
    if (p.ellipsis ? letters > ranks[i] : letters !== ranks[i]) throw new Error(`operand ${i} "${t}" does not match its rank ${ranks[i]}`);
    ellipsisRanks.push(p.ellipsis ? ranks[i] - letters : 0);
    return p;
  });
  const E = Math.max(0, ...ellipsisRanks);
  const ellipsisLabels = (e: number) => Array.from({ length: e }, (_, k) => String(E - e + k));
  const inputs = parsed.map((p, i) => [...p.before, ...(p.ellipsis ? ellipsisLabels(ellipsisRanks[i]) : []), ...p.after]);
  let output: string[];
  if (rhs === undefined) {
    // implicit: the ellipsis axes, then the letters used once, alphabetically
    const counts = new Map<string, number>();
    for (const t of inputs) for (const l of t) if (LETTER.test(l)) counts.set(l, (counts.get(l) ?? 0) + 1);
    output = [...ellipsisLabels(E), ...[...counts].filter(([, n]) => n === 1).map(([l]) => l).sort()];
  } else {
    const p = split(rhs, 'output');
    if (E > 0 && !p.ellipsis) throw new Error(`output "${rhs}" must keep the "..." of the operands`);
    output = [...p.before, ...(p.ellipsis ? ellipsisLabels(E) : []), ...p.after];
    const used = new Set(inputs.flat());
    for (const l of output) if (!used.has(l)) throw new Error(`output label "${l}" appears in no operand`);
    if (new Set(output).size !== output.length) throw new Error(`output "${rhs}" repeats a label`);
  }
  return { inputs, output };
}

/** The size of each label; letters must agree, ellipsis axes broadcast (size 1). */
function labelSizes(s: Subscripts, shapes: readonly (readonly Dim[])[]): Map<string, Dim> {
  const sizes = new Map<string, Dim>();
  s.inputs.forEach((labels, i) =>
    labels.forEach((l, axis) => {
      const d = shapes[i][axis];
      const prev = sizes.get(l);
      if (prev === undefined) sizes.set(l, d);
      else if (!dimEquals(prev, d)) {
        if (LETTER.test(l)) throw new Error(`label "${l}" has sizes ${prev} and ${d}`);
        if (dimEquals(prev, 1)) sizes.set(l, d);
        else if (!dimEquals(d, 1)) throw new Error(`"..." axes of sizes ${prev} and ${d} do not broadcast`);
      }
    }),
  );
  return sizes;
}

function einsumKernel(s: Subscripts, operands: readonly Ref[]): Ref {
  const sizes = labelSizes(s, operands.map((o) => o.shape)) as Map<string, number>;
  const summed = [...new Set(s.inputs.flat())].filter((l) => !s.output.includes(l));
  const loop = [...s.output, ...summed];
  const extent = loop.map((l) => sizes.get(l)!);
  // per operand, the stride of each loop label (0 where absent or broadcast)
  const steps = operands.map((o, i) => {
    const st = new Array<number>(loop.length).fill(0);
    let acc = 1;
    for (let axis = o.shape.length - 1; axis >= 0; axis--) {
      if (o.shape[axis] !== 1) st[loop.indexOf(s.inputs[i][axis])] += acc;
      acc *= o.shape[axis];
    }
    return st;
  });
  const outShape = s.output.map((l) => sizes.get(l)!);
  const out = ref(operands[0].dtype, outShape);
  const inner = extent.slice(s.output.length).reduce((a, b) => a * b, 1);
  const idx = new Array<number>(loop.length).fill(0);
  const offsets = new Array<number>(operands.length).fill(0);
  if (extent.some((e) => e === 0)) return out;
  for (let o = 0; o < out.data.length; o++) {
    let acc = 0;
    for (let k = 0; k < inner; k++) {
      let p = 1;
      for (let i = 0; i < operands.length; i++) p *= operands[i].data[offsets[i]];
      acc += p;
      // advance the odometer (summed labels fastest, carrying into the output labels)
      for (let d = loop.length - 1; d >= 0; d--) {
        idx[d]++;
        for (let i = 0; i < operands.length; i++) offsets[i] += steps[i][d];
        if (idx[d] < extent[d]) break;
        for (let i = 0; i < operands.length; i++) offsets[i] -= steps[i][d] * extent[d];
        idx[d] = 0;
      }
    }
    out.data[o] = acc;
  }
  return out;
}

/** Writes subscripts back as an equation, ellipsis labels as letters unused elsewhere. */
function formatEquation(inputs: string[][], output: string[], letters: Map<string, string>): string {
  const name = (l: string) => letters.get(l) ?? l;
  return `${inputs.map((t) => t.map(name).join('')).join(',')}->${output.map(name).join('')}`;
}

function gradient(s: Subscripts, operands: readonly Value[], dy: Value, i: number): Value {
  const mine = s.inputs[i];
  const others = s.inputs.filter((_, k) => k !== i);
  const reached = new Set([...s.output, ...others.flat()]);
  const kept = mine.filter((l) => reached.has(l));
  // ellipsis labels become free letters for the gradient's own equation
  const free = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'].filter((c) => !s.inputs.flat().includes(c));
  const letters = new Map([...new Set(s.inputs.flat())].filter((l) => !LETTER.test(l)).map((l, k) => [l, free[k]]));
  const equation = formatEquation([s.output, ...others], kept, letters);
  const partial = einsum(equation, dy, ...operands.filter((_, k) => k !== i));
  const missing = mine.flatMap((l, axis) => (reached.has(l) ? [] : [axis]));
  return missing.length ? expandTo(unsqueeze(partial, missing), operands[i]) : partial;
}

export const EINSUM_OPS: OpDef[] = [
  defineOp({
    opType: 'Einsum',
    attrs: { equation: { type: 'string', required: true } },
    differentiable: 'all',
    infer(inputs, attrs) {
      if (inputs.length === 0 || inputs.some((v) => !v)) throw new Error('needs one or more operands, none omitted');
      const vs = inputs as Value[];
      if (!isFloat(vs[0].dtype) || vs.some((v) => v.dtype !== vs[0].dtype)) throw new Error(`operands must be floats of one type, got ${vs.map((v) => v.dtype).join(', ')}`);
      const s = parseEquation(attrs.equation, vs.map((v) => v.rank));
      const sizes = labelSizes(s, vs.map((v) => v.shape));
      return { outputs: [{ dtype: vs[0].dtype, shape: s.output.map((l) => sizes.get(l)!) }] };
    },
    evaluate(inputs, attrs) {
      const refs = inputs as Ref[];
      return [einsumKernel(parseEquation(attrs.equation, refs.map((r) => r.shape.length)), refs)];
    },
    backward({ node, dy, needs }) {
      const operands = node.inputs as Value[];
      const s = parseEquation(node.attrs.equation, operands.map((v) => v.rank));
      if (operands.length > 2) throw new Error(`no gradient for ${operands.length} operands ("${node.attrs.equation}"): one or two are supported`);
      s.inputs.forEach((labels, i) => {
        if (new Set(labels).size !== labels.length) throw new Error(`no gradient for operand ${i} of "${node.attrs.equation}": it repeats a label (a diagonal)`);
      });
      // broadcast ellipsis axes (size 1 against more) would need summing back: refused
      const sizes = labelSizes(s, operands.map((v) => v.shape));
      s.inputs.forEach((labels, i) =>
        labels.forEach((l, axis) => {
          if (!dimEquals(operands[i].shape[axis], sizes.get(l)!)) throw new Error(`no gradient for "${node.attrs.equation}" with broadcast "..." axes`);
        }),
      );
      return operands.map((_, i) => (needs[i] ? gradient(s, operands, dy[0]!, i) : undefined));
    },
  }),
];
