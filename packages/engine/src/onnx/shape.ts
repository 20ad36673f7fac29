/**
 * Static shapes with symbolic dimensions.
 *
 * A dimension is a number or a symbolic monomial such as "batch" or "4*batch" (the serialized
 * ONNX `dim_param`). Monomials are enough for what models do with a batch dimension: reshapes that
 * fold a static factor into it and back. Anything that would need a sum of symbols is an error.
 */
export type Dim = number | string;
export type Shape = readonly Dim[];

interface Monomial {
  coef: number;
  /** sorted symbol names, with repetition */
  syms: string[];
}

const SYMBOL = /^[A-Za-z_][A-Za-z0-9_]*$/;

function parse(d: Dim): Monomial {
  if (typeof d === 'number') return { coef: d, syms: [] };
  let coef = 1;
  const syms: string[] = [];
  for (const part of d.split('*')) {
    const p = part.trim();
    if (/^\d+$/.test(p)) coef *= Number(p);
    else if (SYMBOL.test(p)) syms.push(p);
    else throw new Error(`invalid symbolic dimension "${d}"`);
  }
  syms.sort();
  return { coef, syms };
}

function format(m: Monomial): Dim {
  if (m.syms.length === 0) return m.coef;
  if (m.coef === 0) return 0;
  return (m.coef === 1 ? [] : [String(m.coef)]).concat(m.syms).join('*');
}

/** Canonical form of a dimension ("batch*2" becomes "2*batch"). */
export function dim(d: Dim): Dim {
  return format(parse(d));
}

export function isStatic(d: Dim): d is number {
  return typeof d === 'number';
}

export function isStaticShape(s: Shape): s is readonly number[] {
  return s.every(isStatic);
}

export function dimEquals(a: Dim, b: Dim): boolean {
  return dim(a) === dim(b);
}

export function shapeEquals(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => dimEquals(d, b[i]));
}

export function mulDims(a: Dim, b: Dim): Dim {
  const x = parse(a);
  const y = parse(b);
  return format({ coef: x.coef * y.coef, syms: [...x.syms, ...y.syms].sort() });
}

/** a / b, or undefined when the quotient is not a monomial with an integer coefficient. */
export function divDims(a: Dim, b: Dim): Dim | undefined {
  const x = parse(a);
  const y = parse(b);
  if (y.coef === 0 || x.coef % y.coef !== 0) return undefined;
  const syms = [...x.syms];
  for (const s of y.syms) {
    const i = syms.indexOf(s);
    if (i < 0) return undefined;
    syms.splice(i, 1);
  }
  return format({ coef: x.coef / y.coef, syms });
}

export function product(dims: Shape): Dim {
  return dims.reduce<Dim>((p, d) => mulDims(p, d), 1);
}

/** Number of elements of a static shape. */
export function size(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major strides of a static shape. */
export function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/** Numpy broadcasting of two shapes; throws with both shapes when they are incompatible. */
export function broadcastShapes(a: Shape, b: Shape): Dim[] {
  const rank = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    const da = i < rank - a.length ? 1 : a[i - (rank - a.length)];
    const db = i < rank - b.length ? 1 : b[i - (rank - b.length)];
    if (dimEquals(da, db) || db === 1) out.push(da);
    else if (da === 1) out.push(db);
    else throw new Error(`shapes [${a}] and [${b}] do not broadcast (dimension ${i}: ${da} vs ${db})`);
  }
  return out;
}

/** Normalizes a possibly negative axis against a rank; throws when out of range. */
export function normalizeAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) throw new Error(`axis ${axis} out of range for rank ${rank}`);
  return a;
}

/** Binds the symbols of a shape to the concrete dims of an actual array (for feeds). */
export function bindSymbols(shape: Shape, actual: readonly number[], bound: Map<string, number> = new Map()): Map<string, number> {
  if (shape.length !== actual.length) throw new Error(`expected rank ${shape.length} [${shape}], got [${actual}]`);
  shape.forEach((d, i) => {
    if (typeof d === 'number') {
      if (d !== actual[i]) throw new Error(`expected shape [${shape}], got [${actual}]`);
      return;
    }
    const m = parse(d);
    if (m.syms.length === 1) {
      const v = actual[i] / m.coef;
      const prev = bound.get(m.syms[0]);
      if (!Number.isInteger(v) || (prev !== undefined && prev !== v)) {
        throw new Error(`expected shape [${shape}], got [${actual}] (symbol ${m.syms[0]} already ${prev})`);
      }
      bound.set(m.syms[0], v);
    }
  });
  return bound;
}

/** Evaluates a symbolic shape under bound symbols. */
export function resolveShape(shape: Shape, bound: Map<string, number>): number[] {
  return shape.map((d) => {
    const m = parse(d);
    let v = m.coef;
    for (const s of m.syms) {
      const b = bound.get(s);
      if (b === undefined) throw new Error(`symbol ${s} of [${shape}] is not bound`);
      v *= b;
    }
    return v;
  });
}
