/** MatMul (batched, numpy broadcasting of the batch axes) and Gemm. */
import type { Value } from '../graph.ts';
import { isFloat } from '../ndarray.ts';
import { type AttrSchema, type AttrsGiven, type OpDef, defineOp } from '../op.ts';
import { type Ref, broadcastOffsets, broadcastStatic, ref, transposeRef } from '../reference.ts';
import { type Dim, broadcastShapes, dimEquals, size } from '../shape.ts';
import { unbroadcast } from './broadcast.ts';
import { mul } from './elementwise.ts';
import { transpose, transposeLast2 } from './transpose.ts';

export function matmul(a: Value, b: Value): Value {
  return a.graph.node('MatMul', [a, b])[0];
}

const GEMM_ATTRS = {
  alpha: { type: 'float', default: 1 },
  beta: { type: 'float', default: 1 },
  transA: { type: 'int', default: 0 },
  transB: { type: 'int', default: 0 },
} as const satisfies AttrSchema;

export type GemmAttrs = AttrsGiven<typeof GEMM_ATTRS>;

export function gemm(a: Value, b: Value, c?: Value, attrs: GemmAttrs = {}): Value {
  return a.graph.node('Gemm', [a, b, c], { ...attrs })[0];
}

function matmulShape(a: readonly Dim[], b: readonly Dim[]): Dim[] {
  if (a.length < 2 || b.length < 2) throw new Error('MatMul operands must have rank >= 2 (unsqueeze vectors)');
  const [m, k1] = a.slice(-2);
  const [k2, n] = b.slice(-2);
  if (!dimEquals(k1, k2)) throw new Error(`inner dimensions differ: [${a}] x [${b}]`);
  return [...broadcastShapes(a.slice(0, -2), b.slice(0, -2)), m, n];
}

function matmulKernel(a: Ref, b: Ref): Ref {
  const batch = broadcastStatic(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const [m, k] = a.shape.slice(-2);
  const n = b.shape[b.shape.length - 1];
  const aOff = broadcastOffsets(a.shape.slice(0, -2), batch);
  const bOff = broadcastOffsets(b.shape.slice(0, -2), batch);
  const out = ref(a.dtype, [...batch, m, n]);
  for (let t = 0; t < size(batch); t++) {
    const A = aOff[t] * m * k;
    const B = bOff[t] * k * n;
    const O = t * m * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += a.data[A + i * k + p] * b.data[B + p * n + j];
        out.data[O + i * n + j] = s;
      }
    }
  }
  return out;
}

export const MATMUL_OPS: OpDef[] = [
  defineOp({
    opType: 'MatMul',
    attrs: {},
    differentiable: [0, 1],
    infer([a, b]) {
      if (!a || !b || a.dtype !== b.dtype || !isFloat(a.dtype)) throw new Error('needs two float operands of one type');
      return { outputs: [{ dtype: a.dtype, shape: matmulShape(a.shape, b.shape) }] };
    },
    evaluate([a, b]) {
      return [matmulKernel(a!, b!)];
    },
    backward({ node, dy, needs }) {
      const [a, b] = node.inputs as Value[];
      return [
        needs[0] ? unbroadcast(matmul(dy[0]!, transposeLast2(b)), a.shape) : undefined,
        needs[1] ? unbroadcast(matmul(transposeLast2(a), dy[0]!), b.shape) : undefined,
      ];
    },
  }),
  defineOp({
    opType: 'Gemm',
    attrs: GEMM_ATTRS,
    differentiable: [0, 1, 2],
    infer([a, b, c], attrs) {
      if (!a || !b || a.rank !== 2 || b.rank !== 2) throw new Error('A and B must be matrices');
      const [m, k1] = attrs.transA ? [a.shape[1], a.shape[0]] : a.shape;
      const [k2, n] = attrs.transB ? [b.shape[1], b.shape[0]] : b.shape;
      if (!dimEquals(k1, k2)) throw new Error(`inner dimensions differ: ${k1} vs ${k2}`);
      if (c) broadcastShapes([m, n], c.shape).forEach((d, i) => {
        if (!dimEquals(d, [m, n][i])) throw new Error(`C [${c.shape}] does not broadcast to [${m}, ${n}]`);
      });
      return { outputs: [{ dtype: a.dtype, shape: [m, n] }] };
    },
    evaluate([a, b, c], attrs) {
      const A = attrs.transA ? transposeRef(a!, [1, 0]) : a!;
      const B = attrs.transB ? transposeRef(b!, [1, 0]) : b!;
      const y = matmulKernel(A, B);
      const { alpha, beta } = attrs;
      const cOff = c ? broadcastOffsets(c.shape, y.shape) : undefined;
      for (let i = 0; i < y.data.length; i++) y.data[i] = alpha * y.data[i] + (c ? beta * c.data[cOff![i]] : 0);
      return [y];
    },
    backward({ node, dy, needs }) {
      const [a, b, c] = node.inputs as Value[];
      const { alpha, beta, transA, transB } = node.attrs;
      const g = alpha === 1 ? dy[0]! : mul(dy[0]!, alpha);
      const A = transA ? transpose(a, [1, 0]) : a;
      const B = transB ? transpose(b, [1, 0]) : b;
      let da: Value | undefined;
      let db: Value | undefined;
      // dA' = g B'^T, dB' = A'^T g; transposed back when the operand was
      if (needs[0]) da = transA ? matmul(B, transpose(g, [1, 0])) : matmul(g, transpose(B, [1, 0]));
      if (needs[1]) db = transB ? matmul(transpose(g, [1, 0]), A) : matmul(transpose(A, [1, 0]), g);
      const dc = needs[2] ? unbroadcast(beta === 1 ? dy[0]! : mul(dy[0]!, beta), c.shape) : undefined;
      return [da, db, dc];
    },
  }),
];
