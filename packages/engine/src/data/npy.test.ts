import { join } from 'node:path';
import { dump } from 'npyjs';
import { describe, expect, it } from 'vitest';
import { V4_DATA, v4Title } from '../testing/v4-data.ts';
import { decodeNpy, readNpy } from './npy.ts';

/** A .npy file with a hand-written header (v1.0: magic, version, u16 length, header padded to 64). */
function npy(header: string, data: ArrayBufferView): Uint8Array {
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  const text = header.padEnd(total - 10 - 1) + '\n';
  const out = new Uint8Array(total + data.byteLength);
  out.set([0x93, ...new TextEncoder().encode('NUMPY'), 1, 0]);
  new DataView(out.buffer).setUint16(8, text.length, true);
  out.set(new TextEncoder().encode(text), 10);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), total);
  return out;
}

describe('npy', () => {
  it('reads float32 and float64 arrays in C order', () => {
    const f4 = decodeNpy(new Uint8Array(dump(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3])));
    expect(f4).toMatchObject({ dtype: 'float32', shape: [2, 3] });
    expect(Array.from(f4.data as Float32Array)).toEqual([1, 2, 3, 4, 5, 6]);
    const f8 = decodeNpy(npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 1, 2), }", new Float64Array([0.1, NaN, -3, 4])));
    expect(f8).toMatchObject({ dtype: 'float64', shape: [2, 1, 2] });
    expect(Array.from(f8.data as Float64Array)).toEqual([0.1, NaN, -3, 4]);
  });

  it.each([
    ['a truncated file', npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", new Float32Array(3)), /3 elements, the header's shape \(4\) needs 4 \(truncated\)/],
    ['trailing bytes', npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", new Float32Array(3)), /trailing bytes/],
    ['a partial element', npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", new Uint8Array(6)), /truncated or malformed/],
    ['a header past the end', npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", new Uint8Array(0)).subarray(0, 40), /truncated or malformed/],
    ['Fortran order', npy("{'descr': '<f4', 'fortran_order': True, 'shape': (1, 2), }", new Float32Array(2)), /Fortran-order/],
    ['an unsupported dtype', npy("{'descr': '<u2', 'fortran_order': False, 'shape': (2,), }", new Uint16Array(2)), /dtype "u2" is not supported/],
    ['big-endian data', npy("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", new Float32Array(2)), />f4/],
    ['another format', new TextEncoder().encode('PK\u0003\u0004 not numpy'), /Not an \.npy file/],
  ])('rejects %s, naming the file', (_what, bytes, problem) => {
    expect(() => decodeNpy(bytes, 'r.npy')).toThrow(problem);
    expect(() => decodeNpy(bytes, 'r.npy')).toThrow(/^r\.npy: /);
  });

  it('names a file it cannot read', async () => {
    await expect(readNpy('/nonexistent/responses.npy')).rejects.toThrow(/^\/nonexistent\/responses\.npy: cannot read/);
  });
});

describe.skipIf(!V4_DATA)(v4Title('V4 responses'), () => {
  it('reads responses.npy as [neurons, images]', async () => {
    const r = await readNpy(join(V4_DATA!, 'sessions/201025/responses.npy'));
    expect(r).toMatchObject({ dtype: 'float32', shape: [89, 1200] });
  });
});
