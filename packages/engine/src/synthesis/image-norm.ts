/**
 * Per-image L2 norms over the whole image (all channels and pixels, no mean subtraction), for a
 * batch stored flat: GA's rescaling to norm c and EGG's gradient normalization.
 * Each batch item is its own image, so batching many (neuron, seed) pairs changes nothing.
 */

/** ||x_i|| of each of the `batch` images in `x`. */
export function imageNorms(x: ArrayLike<number>, batch: number): Float64Array {
  const n = x.length / batch;
  const norms = new Float64Array(batch);
  for (let b = 0; b < batch; b++) {
    let s = 0;
    for (let i = b * n; i < (b + 1) * n; i++) s += x[i] * x[i];
    norms[b] = Math.sqrt(s);
  }
  return norms;
}

/** x_i <- x_i * c_i / ||x_i||, in place (GA's post-processing). */
export function rescaleToNorm(x: Float32Array, batch: number, norm: number | ArrayLike<number>): void {
  const norms = imageNorms(x, batch);
  const n = x.length / batch;
  for (let b = 0; b < batch; b++) {
    const f = (typeof norm === 'number' ? norm : norm[b]) / norms[b];
    for (let i = b * n; i < (b + 1) * n; i++) x[i] *= f;
  }
}

/** x_i - scale g_i / (||g_i|| + eps): EGG's guidance update. */
export function guidanceUpdate(x: ArrayLike<number>, g: ArrayLike<number>, batch: number, scale: number, eps = 1e-6): Float32Array {
  const norms = imageNorms(g, batch);
  const n = x.length / batch;
  const out = new Float32Array(x.length);
  for (let b = 0; b < batch; b++) {
    const f = scale / (norms[b] + eps);
    for (let i = b * n; i < (b + 1) * n; i++) out[i] = x[i] - f * g[i];
  }
  return out;
}
