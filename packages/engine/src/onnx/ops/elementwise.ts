/**
 * Elementwise operators: arithmetic with numpy broadcasting, unary functions and activations,
 * comparisons, Mod, Where, Clip, Dropout (inference) and Cast. Each entry holds its reference
 * kernel and its vector-Jacobian product.
 */
import type { Value } from '../graph.ts';
import { type DType, isFloat, toNumbers } from '../ndarray.ts';
import { type AttrSchema, type Attrs, type AttrsOf, type OpDef, defineOp } from '../op.ts';
import { broadcastMap, castValue, erfValue } from '../reference.ts';
import { type Dim, broadcastShapes, dimEquals, divDims, isStatic, mulDims } from '../shape.ts';
import { unbroadcast } from './broadcast.ts';
import { type Operand, lift } from './operand.ts';

// ---- builders ------------------------------------------------------------------------------

function binaryNode(op: string, a: Operand, b: Operand): Value {
  const [x, y] = lift(a, b);
  return x.graph.node(op, [x, y])[0];
}
export const add = (a: Operand, b: Operand) => binaryNode('Add', a, b);
export const sub = (a: Operand, b: Operand) => binaryNode('Sub', a, b);
export const mul = (a: Operand, b: Operand) => binaryNode('Mul', a, b);
export const div = (a: Operand, b: Operand) => binaryNode('Div', a, b);
export const pow = (a: Operand, b: Operand) => binaryNode('Pow', a, b);
export const equal = (a: Operand, b: Operand) => binaryNode('Equal', a, b);
export const greater = (a: Operand, b: Operand) => binaryNode('Greater', a, b);
export const less = (a: Operand, b: Operand) => binaryNode('Less', a, b);

const unaryNode = (op: string, x: Value, attrs: Attrs = {}) => x.graph.node(op, [x], attrs)[0];
export const relu = (x: Value) => unaryNode('Relu', x);
export const elu = (x: Value, alpha = 1) => unaryNode('Elu', x, { alpha });
export const sigmoid = (x: Value) => unaryNode('Sigmoid', x);
export const tanh = (x: Value) => unaryNode('Tanh', x);
export const softplus = (x: Value) => unaryNode('Softplus', x);
export const exp = (x: Value) => unaryNode('Exp', x);
export const log = (x: Value) => unaryNode('Log', x);
export const sqrt = (x: Value) => unaryNode('Sqrt', x);
export const abs = (x: Value) => unaryNode('Abs', x);
export const neg = (x: Value) => unaryNode('Neg', x);
export const sin = (x: Value) => unaryNode('Sin', x);
export const cos = (x: Value) => unaryNode('Cos', x);
export const reciprocal = (x: Value) => unaryNode('Reciprocal', x);
export const identity = (x: Value) => unaryNode('Identity', x);
export const leakyRelu = (x: Value, alpha = 0.01) => unaryNode('LeakyRelu', x, { alpha });
export const erf = (x: Value) => unaryNode('Erf', x);
export const hardSigmoid = (x: Value, alpha = 0.2, beta = 0.5) => unaryNode('HardSigmoid', x, { alpha, beta });
export const hardSwish = (x: Value) => unaryNode('HardSwish', x);
/** Dropout at inference: the identity (no ratio, no mask output). */
export const dropout = (x: Value) => unaryNode('Dropout', x);
/** Remainder: fmod 0 takes the divisor's sign (integers only, like Python), fmod 1 the dividend's (C fmod). */
export const mod = (a: Operand, b: Operand, fmod = 0) => {
  const [x, y] = lift(a, b);
  return x.graph.node('Mod', [x, y], { fmod })[0];
};
export const not = (x: Value) => unaryNode('Not', x);

/** Where(cond, a, b): a where cond is true, else b (broadcast). */
export function where(cond: Value, a: Operand, b: Operand): Value {
  const [x, y] = lift(a, b);
  return cond.graph.node('Where', [cond, x, y])[0];
}

/** Clip to [min, max]; either bound may be omitted. */
export function clip(x: Value, min?: number, max?: number): Value {
  const g = x.graph;
  return g.node('Clip', [x, min === undefined ? undefined : g.scalar(min, x), max === undefined ? undefined : g.scalar(max, x)])[0];
}

/** ONNX TensorProto.DataType codes. */
export const ONNX_DTYPE: Record<DType, number> = { float32: 1, int32: 6, int64: 7, bool: 9, float16: 10, float64: 11 };
const DTYPE_OF_CODE = new Map(Object.entries(ONNX_DTYPE).map(([k, v]) => [v, k as DType]));

export function cast(x: Value, to: DType): Value {
  return x.graph.node('Cast', [x], { to: ONNX_DTYPE[to] })[0];
}

// ---- definitions ---------------------------------------------------------------------------

function requireFloat(v: Value | undefined, what: string): Value {
  if (!v) throw new Error(`missing ${what}`);
  if (!isFloat(v.dtype)) throw new Error(`${what} must be a float tensor, got ${v.dtype}`);
  return v;
}

/** Integer arithmetic on elements known while building (shape arithmetic), where it stays a monomial. */
const KNOWN_ARITHMETIC: Record<string, (a: Dim, b: Dim) => Dim | undefined> = {
  Add: (a, b) => (isStatic(a) && isStatic(b) ? a + b : undefined),
  Sub: (a, b) => (isStatic(a) && isStatic(b) ? a - b : undefined),
  Mul: (a, b) => (isStatic(a) && isStatic(b) ? a * b : (isStatic(a) ? a : isStatic(b) ? b : 1) > 0 ? mulDims(a, b) : undefined),
  Div: (a, b) => (isStatic(a) && isStatic(b) ? Math.trunc(a / b) : isStatic(b) && b > 0 ? divDims(a, b) : undefined),
};

function knownArithmetic(opType: string, a: Value, b: Value): Dim[] | undefined {
  const fn = KNOWN_ARITHMETIC[opType];
  if (!fn || isFloat(a.dtype) || a.rank > 1 || b.rank > 1) return undefined;
  const [x, y] = [a.knownInts(), b.knownInts()];
  if (!x || !y || (x.length !== y.length && x.length !== 1 && y.length !== 1)) return undefined;
  const out = Array.from({ length: Math.max(x.length, y.length) }, (_, i) => fn(x[x.length === 1 ? 0 : i], y[y.length === 1 ? 0 : i]));
  return out.every((d) => d !== undefined) ? (out as Dim[]) : undefined;
}

/** Elementwise over known elements of 0-D/1-D operands (one may be a single element); undefined where any element is. */
function knownElementwise(values: readonly Value[], fn: (...d: Dim[]) => Dim | undefined): Dim[] | undefined {
  if (values.some((v) => v.rank > 1)) return undefined;
  const known = values.map((v) => v.knownInts());
  if (known.some((k) => !k)) return undefined;
  const n = Math.max(...known.map((k) => k!.length));
  if (known.some((k) => k!.length !== n && k!.length !== 1)) return undefined;
  const out = Array.from({ length: n }, (_, i) => fn(...known.map((k) => k![k!.length === 1 ? 0 : i])));
  return out.every((d) => d !== undefined) ? (out as Dim[]) : undefined;
}

/**
 * Equal on known elements, as exporters compare shapes with -1 before Expand: a symbolic
 * dimension is a size (at least 1), so it never equals a number below 1, and equals itself.
 */
const knownEqual = (a: Dim, b: Dim): Dim | undefined => {
  if (isStatic(a) && isStatic(b)) return Number(a === b);
  if (!isStatic(a) && !isStatic(b)) return dimEquals(a, b) ? 1 : undefined;
  return (isStatic(a) ? a : (b as number)) < 1 ? 0 : undefined;
};

function binary(
  opType: string,
  fn: (a: number, b: number) => number,
  backward: (a: Value, b: Value, y: Value, dy: Value, needs: readonly boolean[]) => [Value | undefined, Value | undefined],
): OpDef {
  return defineOp({
    opType,
    attrs: {},
    differentiable: [0, 1],
    infer([a, b]) {
      if (!a || !b) throw new Error('needs two inputs');
      if (a.dtype !== b.dtype) throw new Error(`operand types differ: ${a.dtype} and ${b.dtype}`);
      return { outputs: [{ dtype: a.dtype, shape: broadcastShapes(a.shape, b.shape), known: knownArithmetic(opType, a, b) }] };
    },
    evaluate([a, b]) {
      return [broadcastMap(a!.dtype, [a!, b!], isFloat(a!.dtype) ? fn : (x, y) => castValue(fn(x, y), a!.dtype))];
    },
    backward({ node, dy, needs }) {
      const [a, b] = node.inputs as Value[];
      const [da, db] = backward(a, b, node.outputs[0], dy[0]!, needs);
      return [da && unbroadcast(da, a.shape), db && unbroadcast(db, b.shape)];
    },
  });
}

function comparison(opType: string, fn: (a: number, b: number) => boolean): OpDef {
  return defineOp({
    opType,
    attrs: {},
    infer([a, b]) {
      if (!a || !b) throw new Error('needs two inputs');
      if (a.dtype !== b.dtype) throw new Error(`operand types differ: ${a.dtype} and ${b.dtype}`);
      const known = opType === 'Equal' && !isFloat(a.dtype) ? knownElementwise([a, b], knownEqual) : undefined;
      return { outputs: [{ dtype: 'bool', shape: broadcastShapes(a.shape, b.shape), known }] };
    },
    evaluate([a, b]) {
      return [broadcastMap('bool', [a!, b!], (x, y) => (fn(x, y) ? 1 : 0))];
    },
  });
}

function unary(opType: string, fn: (x: number) => number, backward?: (x: Value, y: Value, dy: Value) => Value): OpDef {
  return unaryWith(opType, {}, fn, backward);
}

/** A unary op with attributes, which its kernel and gradient read. */
function unaryWith<const S extends AttrSchema>(
  opType: string,
  attrs: S,
  fn: (x: number, attrs: AttrsOf<S>) => number,
  backward?: (x: Value, y: Value, dy: Value, attrs: Readonly<AttrsOf<S>>) => Value,
): OpDef {
  return defineOp({
    opType,
    attrs,
    differentiable: backward ? [0] : [],
    infer([x]) {
      const v = requireFloat(x, 'input');
      return { outputs: [{ dtype: v.dtype, shape: v.shape }] };
    },
    evaluate([x], at) {
      return [broadcastMap(x!.dtype, [x!], (v) => fn(v, at))];
    },
    backward: backward && (({ node, dy }) => [backward(node.inputs[0]!, node.outputs[0], dy[0]!, node.attrs)]),
  });
}

/** s is Sigmoid(x) */
const isSigmoidOf = (s: Value, x: Value) => s.producer?.opType === 'Sigmoid' && s.producer.inputs[0] === x;

const sigmoidFn = (x: number) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));

export const ELEMENTWISE_OPS: OpDef[] = [
  binary('Add', (a, b) => a + b, (_a, _b, _y, dy, n) => [n[0] ? dy : undefined, n[1] ? dy : undefined]),
  binary('Sub', (a, b) => a - b, (_a, _b, _y, dy, n) => [n[0] ? dy : undefined, n[1] ? neg(dy) : undefined]),
  binary('Mul', (a, b) => a * b, (a, b, y, dy, n) => {
    // SiLU, x * sigmoid(x): the whole derivative s + y (1 - s) in 4 elementwise nodes rather than
    // 6 through both factors (the Sigmoid then gets no gradient from this node)
    if (n[0] && isSigmoidOf(b, a)) return [mul(dy, add(b, mul(y, sub(1, b)))), undefined];
    if (n[1] && isSigmoidOf(a, b)) return [undefined, mul(dy, add(a, mul(y, sub(1, a))))];
    return [n[0] ? mul(dy, b) : undefined, n[1] ? mul(dy, a) : undefined];
  }),
  binary('Div', (a, b) => a / b, (_a, b, y, dy, n) => [n[0] ? div(dy, b) : undefined, n[1] ? neg(div(mul(dy, y), b)) : undefined]),
  binary('Pow', (a, b) => a ** b, (a, b, y, dy, n) => [
    n[0] ? mul(dy, mul(b, pow(a, sub(b, 1)))) : undefined,
    // d(a^b)/db = a^b log(a), defined for a > 0
    n[1] ? mul(dy, mul(y, log(a))) : undefined,
  ]),
  comparison('Equal', (a, b) => a === b),
  comparison('Greater', (a, b) => a > b),
  comparison('Less', (a, b) => a < b),
  defineOp({
    opType: 'Not',
    attrs: {},
    infer([x]) {
      if (x?.dtype !== 'bool') throw new Error('Not needs a bool input');
      return { outputs: [{ dtype: 'bool', shape: x.shape }] };
    },
    evaluate([x]) {
      return [broadcastMap('bool', [x!], (v) => (v ? 0 : 1))];
    },
  }),
  defineOp({
    opType: 'Identity',
    attrs: {},
    differentiable: [0],
    infer([x]) {
      if (!x) throw new Error('missing input');
      return { outputs: [{ dtype: x.dtype, shape: x.shape, known: x.rank <= 1 ? x.knownInts() : undefined }] };
    },
    evaluate([x]) {
      return [x!];
    },
    backward: ({ dy }) => [dy[0]],
  }),
  unary('Neg', (x) => -x, (_x, _y, dy) => neg(dy)),
  unary('Abs', Math.abs, (x, _y, dy) => where(less(x, 0), neg(dy), dy)),
  unary('Relu', (x) => Math.max(x, 0), (x, _y, dy) => where(greater(x, 0), dy, 0)),
  unaryWith(
    'Elu',
    { alpha: { type: 'float', default: 1 } },
    (x, a) => (x > 0 ? x : a.alpha * Math.expm1(x)),
    (x, y, dy, a) => where(greater(x, 0), dy, mul(dy, add(y, a.alpha))),
  ),
  unaryWith(
    'LeakyRelu',
    { alpha: { type: 'float', default: 0.01 } },
    (x, a) => (x >= 0 ? x : a.alpha * x),
    (x, _y, dy, a) => where(less(x, 0), mul(dy, a.alpha), dy),
  ),
  unary('Erf', erfValue, (x, _y, dy) => mul(dy, mul(exp(neg(mul(x, x))), 2 / Math.sqrt(Math.PI)))),
  unaryWith(
    'HardSigmoid',
    { alpha: { type: 'float', default: 0.2 }, beta: { type: 'float', default: 0.5 } },
    (x, a) => Math.max(0, Math.min(1, a.alpha * x + a.beta)),
    // slope alpha inside (0, 1), flat where clamped
    (_x, y, dy, a) => where(greater(y, 0), where(less(y, 1), mul(dy, a.alpha), 0), 0),
  ),
  unary(
    'HardSwish',
    (x) => x * Math.max(0, Math.min(1, x / 6 + 0.5)),
    // 0 below -3, 1 above 3, (2x + 3) / 6 between
    (x, _y, dy) => where(less(x, -3), 0, where(greater(x, 3), dy, mul(dy, add(div(x, 3), 0.5)))),
  ),
  unary('Sigmoid', sigmoidFn, (_x, y, dy) => mul(dy, mul(y, sub(1, y)))),
  unary('Tanh', Math.tanh, (_x, y, dy) => mul(dy, sub(1, mul(y, y)))),
  unary('Softplus', (x) => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x))), (x, _y, dy) => mul(dy, sigmoid(x))),
  unary('Exp', Math.exp, (_x, y, dy) => mul(dy, y)),
  unary('Log', Math.log, (x, _y, dy) => div(dy, x)),
  unary('Sqrt', Math.sqrt, (_x, y, dy) => div(mul(dy, 0.5), y)),
  unary('Sin', Math.sin, (x, _y, dy) => mul(dy, cos(x))),
  unary('Cos', Math.cos, (x, _y, dy) => neg(mul(dy, sin(x)))),
  unary('Reciprocal', (x) => 1 / x, (_x, y, dy) => neg(mul(dy, mul(y, y)))),
  defineOp({
    opType: 'Clip',
    attrs: {},
    differentiable: [0],
    infer([x, lo, hi]) {
      const v = requireFloat(x, 'input');
      for (const b of [lo, hi]) {
        if (b && (b.rank !== 0 || b.dtype !== v.dtype)) throw new Error(`bounds must be ${v.dtype} scalars`);
      }
      return { outputs: [{ dtype: v.dtype, shape: v.shape }] };
    },
    evaluate([x, lo, hi]) {
      const min = lo ? lo.data[0] : -Infinity;
      const max = hi ? hi.data[0] : Infinity;
      return [broadcastMap(x!.dtype, [x!], (v) => Math.min(Math.max(v, min), max))];
    },
    backward({ node, dy }) {
      const [x, lo, hi] = node.inputs;
      let g = dy[0]!;
      if (hi) g = where(greater(x!, hi), 0, g);
      if (lo) g = where(less(x!, lo), 0, g);
      return [g];
    },
  }),
  defineOp({
    opType: 'Where',
    attrs: {},
    differentiable: [1, 2],
    infer([c, a, b]) {
      if (c?.dtype !== 'bool') throw new Error('condition must be bool');
      if (!a || !b || a.dtype !== b.dtype) throw new Error('branches must have the same dtype');
      // known elements pass through where the condition is known (exporters' Where(Equal(shape, -1), ones, shape))
      const known = isFloat(a.dtype) ? undefined : knownElementwise([c, a, b], (cv, av, bv) => (isStatic(cv) ? (cv ? av : bv) : undefined));
      return { outputs: [{ dtype: a.dtype, shape: broadcastShapes(c.shape, broadcastShapes(a.shape, b.shape)), known }] };
    },
    evaluate([c, a, b]) {
      return [broadcastMap(a!.dtype, [c!, a!, b!], (cv, av, bv) => (cv ? av : bv))];
    },
    backward({ node, dy, needs }) {
      const [c, a, b] = node.inputs as Value[];
      return [
        undefined,
        needs[1] ? unbroadcast(where(c, dy[0]!, 0), a.shape) : undefined,
        needs[2] ? unbroadcast(where(c, 0, dy[0]!), b.shape) : undefined,
      ];
    },
  }),
  defineOp({
    opType: 'Mod',
    attrs: { fmod: { type: 'int', default: 0 } },
    infer([a, b], attrs) {
      if (!a || !b) throw new Error('needs two inputs');
      if (a.dtype !== b.dtype) throw new Error(`operand types differ: ${a.dtype} and ${b.dtype}`);
      if (isFloat(a.dtype) && !attrs.fmod) throw new Error('float operands need fmod=1');
      return { outputs: [{ dtype: a.dtype, shape: broadcastShapes(a.shape, b.shape) }] };
    },
    evaluate([a, b], attrs) {
      return [broadcastMap(a!.dtype, [a!, b!], (x, y) => {
        const r = x % y;
        return attrs.fmod || r === 0 || r < 0 === y < 0 ? r : r + y;
      })];
    },
  }),
  defineOp({
    opType: 'Dropout',
    attrs: { seed: { type: 'int' } },
    differentiable: [0],
    infer([x, ratio, training], _attrs, outputs) {
      requireFloat(x, 'data');
      if (outputs !== undefined && outputs !== 1) throw new Error('the mask output is not supported (inference only)');
      if (ratio && !ratio.data) throw new Error('ratio must be a constant');
      if (training && (!training.data || toNumbers(training.data).some((v) => v !== 0))) throw new Error('only inference is supported (training_mode must be a constant false)');
      return { outputs: [{ dtype: x!.dtype, shape: x!.shape }] };
    },
    evaluate([x]) {
      return [x!];
    },
    backward: ({ dy }) => [dy[0]],
  }),
  defineOp({
    opType: 'Cast',
    attrs: { to: { type: 'int', required: true } },
    differentiable: [0],
    infer([x], attrs) {
      const to = DTYPE_OF_CODE.get(attrs.to);
      if (!x) throw new Error('missing input');
      if (!to) throw new Error(`unsupported target type code ${attrs.to}`);
      const known = !isFloat(x.dtype) && (to === 'int64' || to === 'int32') && x.rank <= 1 ? x.knownInts() : undefined;
      return { outputs: [{ dtype: to, shape: x.shape, known }] };
    },
    evaluate([x], attrs) {
      const to = DTYPE_OF_CODE.get(attrs.to)!;
      return [broadcastMap(to, [x!], (v) => castValue(v, to))];
    },
    backward({ node, dy }) {
      const x = node.inputs[0]!;
      if (!isFloat(x.dtype) || !isFloat(node.outputs[0].dtype)) throw new Error('Cast to or from an integer type is not differentiable');
      return [cast(dy[0]!, x.dtype)];
    },
  }),
];
