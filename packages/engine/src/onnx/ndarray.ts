/**
 * Host-side n-dimensional arrays: the values of weights, constants and feeds, and what the float64
 * reference evaluator computes with.
 */
import { size } from './shape.ts';

export type DType = 'float32' | 'float64' | 'float16' | 'int64' | 'int32' | 'bool';

export type TypedArray = Float32Array | Float64Array | Uint16Array | BigInt64Array | Int32Array | Uint8Array;

export interface NdArray<T extends TypedArray = TypedArray> {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly data: T;
}

export const FLOAT_TYPES: readonly DType[] = ['float32', 'float64', 'float16'];

export function isFloat(dtype: DType): boolean {
  return FLOAT_TYPES.includes(dtype);
}

function allocate(dtype: DType, n: number): TypedArray {
  switch (dtype) {
    case 'float32':
      return new Float32Array(n);
    case 'float64':
      return new Float64Array(n);
    case 'float16':
      return new Uint16Array(n);
    case 'int64':
      return new BigInt64Array(n);
    case 'int32':
      return new Int32Array(n);
    case 'bool':
      return new Uint8Array(n);
  }
}

export function ndarray<T extends TypedArray>(dtype: DType, shape: readonly number[], data?: T): NdArray<T> {
  const n = size(shape);
  const d = (data ?? allocate(dtype, n)) as T;
  if (d.length !== n) throw new Error(`data has ${d.length} elements, shape [${shape}] needs ${n}`);
  return { dtype, shape: [...shape], data: d };
}

export function float32(shape: readonly number[], data?: ArrayLike<number>): NdArray<Float32Array> {
  return ndarray('float32', shape, data ? Float32Array.from(data) : undefined);
}

export function float64(shape: readonly number[], data?: ArrayLike<number>): NdArray<Float64Array> {
  return ndarray('float64', shape, data ? Float64Array.from(data) : undefined);
}

export function int64(shape: readonly number[], data: ArrayLike<number>): NdArray<BigInt64Array> {
  return ndarray('int64', shape, BigInt64Array.from(Array.from(data, (v) => BigInt(v))));
}

/** Elements as plain numbers (int64 converted, float16 decoded). */
export function toNumbers(a: NdArray): Float64Array {
  if (a.data instanceof BigInt64Array) return Float64Array.from(a.data, (v) => Number(v));
  if (a.dtype === 'float16') return Float64Array.from(a.data as Uint16Array, halfToFloat);
  return Float64Array.from(a.data as ArrayLike<number>);
}

/** Converts numbers into an array of the given dtype. */
export function fromNumbers(dtype: DType, shape: readonly number[], values: ArrayLike<number>): NdArray {
  switch (dtype) {
    case 'int64':
      return ndarray(dtype, shape, BigInt64Array.from(Array.from(values, (v) => BigInt(Math.trunc(v)))));
    case 'float16':
      return ndarray(dtype, shape, Uint16Array.from(Array.from(values, floatToHalf)));
    case 'bool':
      return ndarray(dtype, shape, Uint8Array.from(Array.from(values, (v) => (v ? 1 : 0))));
    case 'int32':
      return ndarray(dtype, shape, Int32Array.from(Array.from(values, (v) => Math.trunc(v))));
    default:
      return ndarray(dtype, shape, dtype === 'float32' ? Float32Array.from(values) : Float64Array.from(values));
  }
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE 754 binary16 to number. */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

/** number to IEEE 754 binary16, rounding to nearest even. */
export function floatToHalf(v: number): number {
  f32[0] = v;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
  return sign | half;
}
