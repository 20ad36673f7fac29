/**
 * The Fréchet distance between two sets of feature vectors, each summarized by its mean and
 * covariance (the Gaussian fitted to it): d^2 = |mu1 - mu2|^2 + tr(C1) + tr(C2) - 2 tr sqrt(C1 C2),
 * the statistic of FID (Heusel et al. 2017) in any feature space. C1 C2 is not symmetric, but
 * sqrt(C1) C2 sqrt(C1) is symmetric positive semi-definite with the same eigenvalues, so
 * tr sqrt(C1 C2) = sum_i sqrt(lambda_i(sqrt(C1) C2 sqrt(C1))): two symmetric eigen-decompositions
 * (cyclic Jacobi, float64) instead of a general matrix square root.
 */

/** A feature set as a Gaussian: mean [d] and covariance [d, d] (row-major), float64. */
export interface FeatureStatistics {
  dim: number;
  /** vectors summarized */
  count: number;
  mean: Float64Array;
  covariance: Float64Array;
}

/**
 * Mean and covariance (unbiased, divided by n - 1, as numpy.cov) of `count` vectors of `dim`
 * numbers stored one after the other.
 */
export function featureStatistics(features: ArrayLike<number>, count: number, dim: number): FeatureStatistics {
  if (!Number.isInteger(count) || !Number.isInteger(dim) || count < 2 || dim < 1) throw new Error(`feature statistics need at least 2 vectors of at least 1 number (got ${count} of ${dim})`);
  if (features.length !== count * dim) throw new Error(`${features.length} numbers are not ${count} vectors of ${dim}`);
  const mean = new Float64Array(dim);
  for (let i = 0; i < count; i++) for (let j = 0; j < dim; j++) mean[j] += features[i * dim + j];
  for (let j = 0; j < dim; j++) mean[j] /= count;
  const covariance = new Float64Array(dim * dim);
  const centered = new Float64Array(dim);
  for (let i = 0; i < count; i++) {
    for (let j = 0; j < dim; j++) centered[j] = features[i * dim + j] - mean[j];
    for (let a = 0; a < dim; a++) {
      const ca = centered[a];
      if (ca === 0) continue;
      for (let b = a; b < dim; b++) covariance[a * dim + b] += ca * centered[b];
    }
  }
  for (let a = 0; a < dim; a++)
    for (let b = a; b < dim; b++) {
      const v = covariance[a * dim + b] / (count - 1);
      covariance[a * dim + b] = v;
      covariance[b * dim + a] = v;
    }
  return { dim, count, mean, covariance };
}

/**
 * Eigenvalues and eigenvectors of a symmetric matrix [n, n] (row-major; only its symmetric part
 * counts) by cyclic Jacobi rotations, until the off-diagonal mass is negligible against the
 * matrix's norm. `vectors` holds eigenvector k in column k (V, with A = V diag(values) V^T).
 */
export function symmetricEigen(matrix: ArrayLike<number>, n: number, options: { maxSweeps?: number } = {}): { values: Float64Array; vectors: Float64Array } {
  if (matrix.length !== n * n) throw new Error(`${matrix.length} numbers are not a ${n}x${n} matrix`);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j] = (matrix[i * n + j] + matrix[j * n + i]) / 2;
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  let norm = 0;
  for (let i = 0; i < n * n; i++) norm += a[i] * a[i];
  const tolerance = (Number.EPSILON * Number.EPSILON) * norm;
  const maxSweeps = options.maxSweeps ?? 100;
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p * n + q] * a[p * n + q];
    if (off <= tolerance || norm === 0) break;
    for (let p = 0; p < n - 1; p++)
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q];
        if (apq === 0) continue;
        const app = a[p * n + p];
        const aqq = a[q * n + q];
        // the rotation that zeroes a[p][q] (Golub & Van Loan, Algorithm 8.5.1; the smaller angle)
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p];
          const akq = a[k * n + q];
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k];
          const aqk = a[q * n + k];
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        a[p * n + q] = 0;
        a[q * n + p] = 0;
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p];
          const vkq = v[k * n + q];
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
  }
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = a[i * n + i];
  return { values, vectors: v };
}

/** The symmetric square root of a symmetric positive semi-definite matrix (negative eigenvalues, rounding, taken as 0). */
export function sqrtPsd(matrix: ArrayLike<number>, n: number): Float64Array {
  const { values, vectors } = symmetricEigen(matrix, n);
  const roots = values.map((x) => Math.sqrt(Math.max(0, x)));
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = i; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += vectors[i * n + k] * roots[k] * vectors[j * n + k];
      out[i * n + j] = s;
      out[j * n + i] = s;
    }
  return out;
}

/** A B for square matrices [n, n]. */
function matmul(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let k = 0; k < n; k++) {
      const aik = a[i * n + k];
      if (aik === 0) continue;
      for (let j = 0; j < n; j++) out[i * n + j] += aik * b[k * n + j];
    }
  return out;
}

/** tr sqrt(C1 C2) = sum of the square roots of the eigenvalues of sqrt(C1) C2 sqrt(C1). */
export function traceSqrtProduct(c1: ArrayLike<number>, c2: ArrayLike<number>, n: number): number {
  const r = sqrtPsd(c1, n);
  const m = matmul(matmul(r, Float64Array.from(c2), n), r, n);
  const { values } = symmetricEigen(m, n);
  let s = 0;
  for (const x of values) s += Math.sqrt(Math.max(0, x));
  return s;
}

/** The squared Fréchet distance between two Gaussians (0 for identical ones; clamped at 0 against rounding). */
export function frechetDistance(s1: Pick<FeatureStatistics, 'dim' | 'mean' | 'covariance'>, s2: Pick<FeatureStatistics, 'dim' | 'mean' | 'covariance'>): number {
  const n = s1.dim;
  if (s2.dim !== n) throw new Error(`feature sets of ${n} and ${s2.dim} numbers cannot be compared`);
  let d = 0;
  for (let i = 0; i < n; i++) d += (s1.mean[i] - s2.mean[i]) ** 2;
  for (let i = 0; i < n; i++) d += s1.covariance[i * n + i] + s2.covariance[i * n + i];
  d -= 2 * traceSqrtProduct(s1.covariance, s2.covariance, n);
  return Math.max(0, d);
}

/** The Fréchet distance between two sets of `dim`-number vectors (each at least 2 vectors). */
export function frechetDistanceOf(a: ArrayLike<number>, b: ArrayLike<number>, dim: number): number {
  return frechetDistance(featureStatistics(a, a.length / dim, dim), featureStatistics(b, b.length / dim, dim));
}
