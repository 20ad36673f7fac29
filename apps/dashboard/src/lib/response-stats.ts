/**
 * A recording's responses.npy ([neurons, images], float32 or float64; NaN where an image was not
 * shown) and the statistics the dataset page shows per neuron: mean, standard deviation, min, max
 * and the images with a number.
 */
export interface Matrix {
  shape: number[];
  data: Float64Array;
}

export function parseNpyMatrix(bytes: Uint8Array): Matrix {
  if (bytes[0] !== 0x93 || String.fromCharCode(...bytes.subarray(1, 6)) !== 'NUMPY') throw new Error('not a .npy file');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6];
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder().decode(bytes.subarray(start, start + headerLength));
  const descr = /'descr':\s*'([^']*)'/.exec(header)?.[1];
  if (descr !== '<f4' && descr !== '<f8') throw new Error(`expected little-endian float32 or float64, the header says ${header.trim()}`);
  if (/'fortran_order':\s*True/.test(header)) throw new Error('Fortran order is not supported');
  const shape = (/'shape':\s*\(([^)]*)\)/.exec(header)?.[1] ?? '').split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const offset = start + headerLength;
  const count = shape.reduce((a, b) => a * b, 1);
  const data = new Float64Array(count);
  const size = descr === '<f4' ? 4 : 8;
  if (bytes.length < offset + count * size) throw new Error('the array is shorter than its shape');
  for (let i = 0; i < count; i++) data[i] = size === 4 ? view.getFloat32(offset + 4 * i, true) : view.getFloat64(offset + 8 * i, true);
  return { shape, data };
}

export interface NeuronStats {
  neuron: number;
  mean: number;
  sd: number;
  min: number;
  max: number;
  /** images with a (finite) response */
  n: number;
}

/** Per row of a [neurons, images] matrix; sd with n - 1 (NaN below two responses). */
export function neuronStats(m: Matrix): NeuronStats[] {
  const [neurons, images] = m.shape;
  if (m.shape.length !== 2) throw new Error(`expected [neurons, images], the array is [${m.shape.join(', ')}]`);
  return Array.from({ length: neurons }, (_, neuron) => {
    let n = 0;
    let sum = 0;
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    for (let k = 0; k < images; k++) {
      const v = m.data[neuron * images + k];
      if (!Number.isFinite(v)) continue;
      n++;
      sum += v;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    const mean = n ? sum / n : Number.NaN;
    let ss = 0;
    for (let k = 0; k < images; k++) {
      const v = m.data[neuron * images + k];
      if (Number.isFinite(v)) ss += (v - mean) ** 2;
    }
    return { neuron, mean, sd: n > 1 ? Math.sqrt(ss / (n - 1)) : Number.NaN, min: n ? min : Number.NaN, max: n ? max : Number.NaN, n };
  });
}
