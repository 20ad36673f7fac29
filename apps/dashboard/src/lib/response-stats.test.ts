import { describe, expect, it } from 'vitest';
import { neuronStats, parseNpyMatrix } from './response-stats.ts';

/** A version-1 .npy of a C-order array. */
function npy(descr: '<f4' | '<f8', shape: number[], values: number[]): Uint8Array {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const size = descr === '<f4' ? 4 : 8;
  const out = new Uint8Array(10 + header.length + values.length * size);
  out.set([0x93, ...new TextEncoder().encode('NUMPY'), 1, 0]);
  const view = new DataView(out.buffer);
  view.setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  values.forEach((v, i) => (size === 4 ? view.setFloat32(10 + header.length + 4 * i, v, true) : view.setFloat64(10 + header.length + 8 * i, v, true)));
  return out;
}

describe('response statistics', () => {
  it('reads float32 and float64 [neurons, images] and skips NaN', () => {
    for (const descr of ['<f4', '<f8'] as const) {
      const m = parseNpyMatrix(npy(descr, [2, 3], [1, 2, 3, 4, Number.NaN, 8]));
      expect(m.shape).toEqual([2, 3]);
      const [a, b] = neuronStats(m);
      expect(a).toMatchObject({ neuron: 0, mean: 2, sd: 1, min: 1, max: 3, n: 3 });
      expect(b).toMatchObject({ neuron: 1, mean: 6, min: 4, max: 8, n: 2 });
      expect(b.sd).toBeCloseTo(Math.SQRT2 * 2);
    }
  });

  it('refuses other types and shapes', () => {
    const bad = npy('<f4', [3], [1, 2, 3]);
    expect(() => neuronStats(parseNpyMatrix(bad))).toThrow(/neurons, images/);
    expect(() => parseNpyMatrix(new Uint8Array(20))).toThrow(/not a .npy/);
  });
});
