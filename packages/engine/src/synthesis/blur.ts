/**
 * GA's gradient preconditioner (after sinzlab/mei's GaussianBlur): a separable Gaussian,
 * sigma 1, truncated at 4 sigma (9 taps), reflect padding (the edge pixel not repeated, as
 * PyTorch's "reflect"), normalized to sum 1 so it smooths without changing the gradient's scale.
 */

/** The 1-D kernel exp(-i^2 / (2 sigma^2)), i = -radius..radius, normalized to sum 1. */
export function gaussianKernel(sigma: number, radius = Math.max(1, Math.round(4 * sigma))): Float64Array {
  const k = Float64Array.from({ length: 2 * radius + 1 }, (_, j) => Math.exp(-((j - radius) ** 2) / (2 * sigma * sigma)));
  const sum = k.reduce((a, b) => a + b, 0);
  return k.map((v) => v / sum);
}

/** Reflect an index into 0..n-1 without repeating the edge (-1 -> 1, n -> n-2). */
function reflect(i: number, n: number): number {
  const period = 2 * (n - 1);
  if (period === 0) return 0;
  let j = ((i % period) + period) % period;
  if (j >= n) j = period - j;
  return j;
}

/** Blurs every [H, W] plane of x [.., H, W] (rows, then columns); returns a new array. */
export function gaussianBlur(x: ArrayLike<number>, shape: readonly number[], sigma = 1, radius?: number): Float32Array {
  const kernel = gaussianKernel(sigma, radius);
  const r = (kernel.length - 1) / 2;
  const H = shape[shape.length - 2];
  const W = shape[shape.length - 1];
  const planes = x.length / (H * W);
  // the padded neighbours of each position, computed once for both axes
  const taps = (n: number) => Array.from({ length: n }, (_, i) => Int32Array.from(kernel, (_, j) => reflect(i + j - r, n)));
  const rowTaps = taps(W);
  const colTaps = taps(H);
  const tmp = new Float64Array(H * W);
  const out = new Float32Array(x.length);
  for (let p = 0; p < planes; p++) {
    const o = p * H * W;
    for (let y = 0; y < H; y++)
      for (let c = 0; c < W; c++) {
        let s = 0;
        const t = rowTaps[c];
        for (let j = 0; j < kernel.length; j++) s += kernel[j] * x[o + y * W + t[j]];
        tmp[y * W + c] = s;
      }
    for (let y = 0; y < H; y++) {
      const t = colTaps[y];
      for (let c = 0; c < W; c++) {
        let s = 0;
        for (let j = 0; j < kernel.length; j++) s += kernel[j] * tmp[t[j] * W + c];
        out[o + y * W + c] = s;
      }
    }
  }
  return out;
}
