import { describe, expect, it } from 'vitest';
import { Rng } from '../random.ts';
import { gaussianBlur, gaussianKernel } from './blur.ts';

/** The 2-D convolution with the outer-product kernel over an explicitly reflect-padded plane. */
function directBlur(x: Float32Array, H: number, W: number, k: Float64Array): Float64Array {
  const r = (k.length - 1) / 2;
  const reflect = (i: number, n: number) => (i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i);
  const padded = (y: number, c: number) => x[reflect(y, H) * W + reflect(c, W)];
  const out = new Float64Array(H * W);
  for (let y = 0; y < H; y++)
    for (let c = 0; c < W; c++) {
      let s = 0;
      for (let i = -r; i <= r; i++) for (let j = -r; j <= r; j++) s += k[i + r] * k[j + r] * padded(y + i, c + j);
      out[y * W + c] = s;
    }
  return out;
}

describe('the gradient blur of GA', () => {
  it('has 9 normalized taps at sigma 1', () => {
    const k = gaussianKernel(1);
    expect(k).toHaveLength(9);
    expect(k.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(k[4] / k[5]).toBeCloseTo(Math.exp(0.5), 12);
  });

  it('equals a direct 2-D convolution with reflect padding, plane by plane', () => {
    const [B, C, H, W] = [2, 3, 7, 10];
    const x = new Rng(3).normals(B * C * H * W);
    const got = gaussianBlur(x, [B, C, H, W]);
    const k = gaussianKernel(1);
    for (let p = 0; p < B * C; p++) {
      const expected = directBlur(x.subarray(p * H * W, (p + 1) * H * W), H, W, k);
      for (let i = 0; i < H * W; i++) expect(got[p * H * W + i]).toBeCloseTo(expected[i], 5);
    }
  });

  it('keeps constants (normalized) and takes other sigmas', () => {
    const x = new Float32Array(64).fill(2.5);
    for (const v of gaussianBlur(x, [1, 1, 8, 8], 2, 3)) expect(v).toBeCloseTo(2.5, 5);
  });
});
