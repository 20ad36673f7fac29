/**
 * The float32 .npy arrays the service stores (a run's energy and activation at every step: [steps]
 * or [steps, images]); NumPy's format: magic, version, a header dict, then the data.
 */
export interface NpyArray {
  shape: number[];
  data: Float32Array;
}

export function parseNpy(bytes: Uint8Array): NpyArray {
  if (bytes[0] !== 0x93 || String.fromCharCode(...bytes.subarray(1, 6)) !== 'NUMPY') throw new Error('not a .npy file');
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder().decode(bytes.subarray(start, start + headerLength));
  if (!/'descr':\s*'<f4'/.test(header)) throw new Error(`expected little-endian float32, the header says ${header.trim()}`);
  if (/'fortran_order':\s*True/.test(header)) throw new Error('Fortran order is not supported');
  const shape = (/'shape':\s*\(([^)]*)\)/.exec(header)?.[1] ?? '').split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const offset = start + headerLength;
  const count = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) data[i] = view.getFloat32(offset + 4 * i, true);
  return { shape, data };
}

/** The first image's series of a [steps] or [steps, images] trace. */
export function firstSeries(a: NpyArray): number[] {
  const stride = a.shape.length > 1 ? a.shape.slice(1).reduce((x, y) => x * y, 1) : 1;
  const steps = a.shape[0] ?? 0;
  return Array.from({ length: steps }, (_, i) => a.data[i * stride]);
}
