/**
 * NumPy .npy arrays (responses of a dataset), parsed with npyjs and checked here: npyjs trusts the
 * header, so a truncated or padded file would otherwise give an array of the wrong length.
 */
import { readFile } from 'node:fs/promises';
import { dump, parse } from 'npyjs';
import { type DType, type NdArray, ndarray } from '../onnx/ndarray.ts';
import { size } from '../onnx/shape.ts';
import { DataFileError } from './errors.ts';

/** .npy type codes (without the byte-order mark) of the dtypes NdArray holds. */
const DTYPES: Record<string, DType> = { f8: 'float64', f4: 'float32', f2: 'float16', i8: 'int64', i4: 'int32', b1: 'bool' };

/** Parses the bytes of a .npy file (C order, little-endian); `file` names it in errors. */
export function decodeNpy(bytes: Uint8Array, file = '<npy bytes>'): NdArray {
  // an ArrayBuffer of exactly the file: npyjs reads from offset 0 to the buffer's end
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(buffer, { convertFloat16: false });
  } catch (e) {
    // RangeError: the header or the data runs past the end, or the data is not whole elements
    const problem = e instanceof RangeError ? `truncated or malformed (${e.message})` : (e as Error).message;
    throw new DataFileError(file, problem, { cause: e });
  }
  const { shape, fortranOrder } = parsed;
  const dtype = DTYPES[parsed.dtype];
  if (!dtype) throw new DataFileError(file, `dtype "${parsed.dtype}" is not supported (little-endian ${Object.keys(DTYPES).join(', ')})`);
  if (fortranOrder) throw new DataFileError(file, 'Fortran-order arrays are not supported (save with numpy.ascontiguousarray)');
  let data = parsed.data as NdArray['data'] | boolean[];
  if (Array.isArray(data)) data = Uint8Array.from(data, (b) => (b ? 1 : 0));
  const n = size(shape);
  if (data.length !== n) {
    const why = data.length < n ? 'truncated' : 'trailing bytes';
    throw new DataFileError(file, `the data holds ${data.length} elements, the header's shape (${shape.join(', ')}) needs ${n} (${why})`);
  }
  return ndarray(dtype, shape, data);
}

export async function readNpy(file: string): Promise<NdArray> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (e) {
    throw new DataFileError(file, `cannot read: ${(e as Error).message}`, { cause: e });
  }
  return decodeNpy(bytes, file);
}

/** The bytes of a .npy file holding `a` (float32, float64, int32 or int64). */
export function encodeNpy(a: NdArray): Uint8Array {
  if (a.dtype === 'bool' || a.dtype === 'float16') throw new Error(`encodeNpy: ${a.dtype} is not supported`);
  return new Uint8Array(dump(a.data as Float32Array, [...a.shape]));
}
