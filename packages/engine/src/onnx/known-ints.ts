/**
 * Integer contents known while building, carried through the shape arithmetic that exporters
 * write. `torch.onnx.export` with a dynamic batch turns `x.view(x.size(0), -1)` into Shape,
 * Gather, Unsqueeze, Concat and Reshape; Reshape needs its target while the graph is built, so the
 * symbolic contents of Shape's output (["batch", 3, 40, 40]) must survive those small int ops.
 * Each rule maps the inputs' known contents to the output's, or gives up (undefined), in which
 * case the value is computed at run time only, as before.
 */
import { isFloat } from './ndarray.ts';
import type { Value } from './graph.ts';
import type { Attrs, ValueType } from './op.ts';
import { type Dim, dimEquals, divDims, isStatic, mulDims } from './shape.ts';

type Rule = (inputs: readonly (Dim[] | undefined)[], attrs: Attrs) => Dim[] | undefined;

const statics = (d: Dim[] | undefined): number[] | undefined => (d && d.every(isStatic) ? (d as number[]) : undefined);

/** Elementwise over two operands, one of which may be a single element (broadcast). */
function pairwise(f: (a: Dim, b: Dim) => Dim | undefined): Rule {
  return ([a, b]) => {
    if (!a || !b) return undefined;
    const n = Math.max(a.length, b.length);
    if ((a.length !== n && a.length !== 1) || (b.length !== n && b.length !== 1)) return undefined;
    const out: Dim[] = [];
    for (let i = 0; i < n; i++) {
      const r = f(a.length === 1 ? a[0] : a[i], b.length === 1 ? b[0] : b[i]);
      if (r === undefined) return undefined;
      out.push(r);
    }
    return out;
  };
}

const bothStatic = (f: (a: number, b: number) => number) => (a: Dim, b: Dim) => (isStatic(a) && isStatic(b) ? f(a, b) : undefined);

const RULES: Record<string, Rule> = {
  Identity: ([x]) => x,
  Cast: ([x]) => x,
  Squeeze: ([x]) => x,
  Unsqueeze: ([x]) => x,
  Reshape: ([x]) => x,
  Flatten: ([x]) => x,
  Concat: (inputs) => (inputs.every((i) => i) ? inputs.flatMap((i) => i!) : undefined),
  Gather: ([x, idx], attrs) => {
    const at = statics(idx);
    if (!x || !at || (attrs.axis ?? 0) !== 0) return undefined;
    const picked = at.map((i) => x[i < 0 ? i + x.length : i]);
    return picked.every((d) => d !== undefined) ? picked : undefined;
  },
  Slice: ([x, starts, ends, axes, steps]) => {
    const s = statics(starts);
    const e = statics(ends);
    if (!x || !s || !e || s.length !== 1 || (axes && statics(axes)?.[0] !== 0 && statics(axes)?.[0] !== -1)) return undefined;
    const step = statics(steps)?.[0] ?? 1;
    if (step <= 0) return undefined;
    const n = x.length;
    const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + n : v, 0), n);
    const out: Dim[] = [];
    for (let i = clamp(s[0]); i < clamp(e[0]); i += step) out.push(x[i]);
    return out;
  },
  Mul: pairwise(mulDims),
  Div: pairwise((a, b) => (isStatic(a) && isStatic(b) ? Math.trunc(a / b) : divDims(a, b))),
  // a symbolic dimension is a size (>= 1): never equal to a number below 1; equal to itself
  Equal: pairwise((a, b) => (isStatic(a) && isStatic(b) ? Number(a === b) : !isStatic(a) && !isStatic(b) ? (dimEquals(a, b) ? 1 : undefined) : (isStatic(a) ? a : (b as number)) < 1 ? 0 : undefined)),
  Where: ([cond, a, b]) => {
    const c = statics(cond);
    if (!c || !a || !b) return undefined;
    const n = Math.max(c.length, a.length, b.length);
    const at = (v: readonly Dim[], i: number) => (v.length === 1 ? v[0] : v[i]);
    if ([c, a, b].some((v) => v.length !== 1 && v.length !== n)) return undefined;
    return Array.from({ length: n }, (_, i) => (at(c, i) ? at(a, i) : at(b, i)));
  },
  ConstantOfShape: ([shape], attrs) => {
    const n = statics(shape);
    const value = attrs.value as { data?: ArrayLike<number | bigint> } | undefined;
    if (!n || n.length !== 1) return undefined;
    return Array.from({ length: n[0] }, () => (value?.data ? Number(value.data[0]) : 0));
  },
  Add: pairwise((a, b) => (b === 0 ? a : a === 0 ? b : bothStatic((x, y) => x + y)(a, b))),
  Sub: pairwise((a, b) => (b === 0 ? a : bothStatic((x, y) => x - y)(a, b))),
};

/**
 * The known contents of a node's only output, when it is a small integer vector or scalar that
 * the rule for `opType` can compute from its inputs' known contents.
 */
export function propagateKnown(opType: string, inputs: readonly (Value | undefined)[], attrs: Attrs, output: ValueType): Dim[] | undefined {
  const rule = RULES[opType];
  if (!rule || isFloat(output.dtype) || output.shape.length > 1 || !output.shape.every(isStatic)) return undefined;
  const known = inputs.map((v) => (v && !isFloat(v.dtype) ? v.knownInts() : undefined));
  // only worth carrying when something is symbolic: fully static values are folded by whoever builds
  if (!known.some((k) => k && !k.every(isStatic))) return undefined;
  const out = rule(known, attrs);
  const count = output.shape.length === 0 ? 1 : (output.shape[0] as number);
  return out && out.length === count ? out : undefined;
}
