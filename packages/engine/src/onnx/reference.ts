/**
 * Arrays of the float64 reference evaluator: every element a number, whatever the declared dtype.
 * Kernels compute in float64 so that central finite differences are accurate to ~1e-9.
 */
import type { DType } from './ndarray.ts';
import { size, strides } from './shape.ts';

export interface Ref {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly data: Float64Array;
}

export function ref(dtype: DType, shape: readonly number[], data?: ArrayLike<number>): Ref {
  const n = size(shape);
  const d = data ? Float64Array.from(data) : new Float64Array(n);
  if (d.length !== n) throw new Error(`reference array: ${d.length} elements for shape [${shape}]`);
  return { dtype, shape: [...shape], data: d };
}

/** Integer values of a 1-D reference array (axes, shapes, pads). */
export function ints(a: Ref | undefined): number[] {
  return a ? Array.from(a.data) : [];
}

/**
 * Maps each index of `outShape` to the flat offset of the broadcast operand of `inShape`
 * (numpy rules, `inShape` right-aligned).
 */
export function broadcastOffsets(inShape: readonly number[], outShape: readonly number[]): Int32Array {
  const rank = outShape.length;
  const pad = rank - inShape.length;
  const inStrides = strides(inShape);
  const n = size(outShape);
  const offsets = new Int32Array(n);
  const idx = new Array<number>(rank).fill(0);
  for (let flat = 0; flat < n; flat++) {
    let off = 0;
    for (let d = pad; d < rank; d++) if (inShape[d - pad] !== 1) off += idx[d] * inStrides[d - pad];
    offsets[flat] = off;
    for (let d = rank - 1; d >= 0; d--) {
      if (++idx[d] < outShape[d]) break;
      idx[d] = 0;
    }
  }
  return offsets;
}

export function broadcastStatic(a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = i < rank - a.length ? 1 : a[i - (rank - a.length)];
    const db = i < rank - b.length ? 1 : b[i - (rank - b.length)];
    if (da !== db && da !== 1 && db !== 1) throw new Error(`shapes [${a}] and [${b}] do not broadcast`);
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** Elementwise map over broadcast operands. */
export function broadcastMap(dtype: DType, inputs: readonly Ref[], fn: (...v: number[]) => number): Ref {
  const outShape = inputs.reduce<number[]>((s, a) => broadcastStatic(s, a.shape), []);
  const offsets = inputs.map((a) => broadcastOffsets(a.shape, outShape));
  const out = ref(dtype, outShape);
  const args = new Array<number>(inputs.length);
  for (let i = 0; i < out.data.length; i++) {
    for (let k = 0; k < inputs.length; k++) args[k] = inputs[k].data[offsets[k][i]];
    out.data[i] = fn(...args);
  }
  return out;
}

/** Permutes axes: out.shape[i] = a.shape[perm[i]]. */
export function transposeRef(a: Ref, perm: readonly number[]): Ref {
  const outShape = perm.map((p) => a.shape[p]);
  const inStrides = strides(a.shape);
  const out = ref(a.dtype, outShape);
  const rank = perm.length;
  const idx = new Array<number>(rank).fill(0);
  for (let flat = 0; flat < out.data.length; flat++) {
    let off = 0;
    for (let d = 0; d < rank; d++) off += idx[d] * inStrides[perm[d]];
    out.data[flat] = a.data[off];
    for (let d = rank - 1; d >= 0; d--) {
      if (++idx[d] < outShape[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

/** Rounds like the declared dtype would store the value (integer types truncate toward zero). */
export function castValue(v: number, dtype: DType): number {
  switch (dtype) {
    case 'int64':
    case 'int32':
      return Math.trunc(v);
    case 'bool':
      return v ? 1 : 0;
    default:
      return v;
  }
}

/**
 * erf in float64 to ~1e-15: 2/sqrt(pi) exp(-x^2) sum_n 2^n x^(2n+1) / (1*3*...*(2n+1)), a series
 * of positive terms (no cancellation); erf(6) rounds to 1 in float64.
 */
export function erfValue(x: number): number {
  const a = Math.abs(x);
  if (a >= 6) return Math.sign(x);
  let term = a;
  let sum = a;
  for (let n = 1; term > sum * 1e-17; n++) {
    term *= (2 * a * a) / (2 * n + 1);
    sum += term;
  }
  return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * Math.exp(-a * a) * sum;
}
