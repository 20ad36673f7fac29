/**
 * The Fréchet distance against closed forms and against an independent reference in Debian's
 * python3 (torch.cov for the statistics, numpy's general eigenvalues of C1 C2 for the trace term,
 * no Jacobi and no symmetric square root). The reference is skipped where torch is missing.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { Rng } from '../random.ts';
import { PYTHON, pythonHas } from '../testing/python.ts';
import { featureStatistics, frechetDistance, frechetDistanceOf, sqrtPsd, symmetricEigen } from './frechet-distance.ts';

const hasTorch = pythonHas('torch, numpy');
if (!hasTorch) console.warn('Fréchet distance reference skipped: /usr/bin/python3 with torch and numpy is not installed (apt install python3-torch)');

/** `count` vectors of `dim` correlated numbers: a random linear mix of normals, shifted. */
function correlated(rng: Rng, count: number, dim: number, shift = 0): Float64Array {
  const mix = Array.from({ length: dim * dim }, () => rng.normal() / Math.sqrt(dim));
  const out = new Float64Array(count * dim);
  for (let i = 0; i < count; i++) {
    const z = Array.from({ length: dim }, () => rng.normal());
    for (let a = 0; a < dim; a++) {
      let s = shift + a * 0.1;
      for (let b = 0; b < dim; b++) s += mix[a * dim + b] * z[b];
      out[i * dim + a] = s;
    }
  }
  return out;
}

/** The reference distance of two feature sets [n, d] in python3. */
function reference(a: Float64Array, b: Float64Array, dim: number): number {
  const script = [
    'import json, sys, numpy as np, torch',
    'q = json.load(sys.stdin)',
    'd = q["dim"]',
    'a = torch.tensor(q["a"], dtype=torch.float64).reshape(-1, d)',
    'b = torch.tensor(q["b"], dtype=torch.float64).reshape(-1, d)',
    'c1 = torch.cov(a.T).reshape(d, d).numpy(); c2 = torch.cov(b.T).reshape(d, d).numpy()',
    'm1 = a.mean(0).numpy(); m2 = b.mean(0).numpy()',
    'ev = np.linalg.eigvals(c1 @ c2)',
    'tr = np.sqrt(np.clip(ev.real, 0, None)).sum()',
    'print(json.dumps(float(((m1 - m2) ** 2).sum() + np.trace(c1) + np.trace(c2) - 2 * tr)))',
  ].join('\n');
  const input = JSON.stringify({ dim, a: Array.from(a), b: Array.from(b) });
  return JSON.parse(execFileSync(PYTHON, ['-c', script], { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] }));
}

describe('symmetricEigen', () => {
  it('reconstructs a symmetric matrix from orthonormal eigenvectors', () => {
    const rng = new Rng(3);
    const n = 12;
    const m = new Float64Array(n * n);
    for (let i = 0; i < n; i++)
      for (let j = i; j < n; j++) {
        const x = rng.normal();
        m[i * n + j] = x;
        m[j * n + i] = x;
      }
    const { values, vectors } = symmetricEigen(m, n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        let back = 0;
        let dot = 0;
        for (let k = 0; k < n; k++) {
          back += vectors[i * n + k] * values[k] * vectors[j * n + k];
          dot += vectors[k * n + i] * vectors[k * n + j];
        }
        expect(back).toBeCloseTo(m[i * n + j], 12);
        expect(dot).toBeCloseTo(i === j ? 1 : 0, 12);
      }
  });

  it('squares back: sqrtPsd(C)^2 = C for a covariance', () => {
    const dim = 6;
    const { covariance } = featureStatistics(correlated(new Rng(4), 40, dim), 40, dim);
    const r = sqrtPsd(covariance, dim);
    for (let i = 0; i < dim; i++)
      for (let j = 0; j < dim; j++) {
        let s = 0;
        for (let k = 0; k < dim; k++) s += r[i * dim + k] * r[k * dim + j];
        expect(s).toBeCloseTo(covariance[i * dim + j], 10);
      }
  });
});

describe('frechetDistance, closed forms', () => {
  it('is 0 for a set against itself', () => {
    const dim = 16;
    const a = correlated(new Rng(1), 100, dim);
    expect(frechetDistanceOf(a, a, dim)).toBeLessThan(1e-9);
  });

  it('is |mu1 - mu2|^2 + sum (sigma1 - sigma2)^2 for diagonal covariances', () => {
    const dim = 5;
    const mean1 = Float64Array.from([0, 1, -2, 3, 0.5]);
    const mean2 = Float64Array.from([1, 1, 0, -1, 0.5]);
    const var1 = [1, 4, 0.25, 9, 2];
    const var2 = [4, 1, 1, 0.01, 2];
    const diag = (v: number[]) => {
      const c = new Float64Array(dim * dim);
      v.forEach((x, i) => (c[i * dim + i] = x));
      return c;
    };
    let expected = 0;
    for (let i = 0; i < dim; i++) expected += (mean1[i] - mean2[i]) ** 2 + (Math.sqrt(var1[i]) - Math.sqrt(var2[i])) ** 2;
    const d = frechetDistance({ dim, mean: mean1, covariance: diag(var1) }, { dim, mean: mean2, covariance: diag(var2) });
    expect(d).toBeCloseTo(expected, 12);
  });

  it('does not depend on a rotation of the feature space shared by both sets', () => {
    const dim = 4;
    const rng = new Rng(9);
    const a = correlated(rng, 60, dim);
    const b = correlated(rng, 80, dim, 0.5);
    // a rotation by 30 degrees in the plane of features 0 and 2
    const [c, s] = [Math.cos(Math.PI / 6), Math.sin(Math.PI / 6)];
    const rotate = (x: Float64Array) => {
      const out = Float64Array.from(x);
      for (let i = 0; i < x.length / dim; i++) {
        out[i * dim] = c * x[i * dim] - s * x[i * dim + 2];
        out[i * dim + 2] = s * x[i * dim] + c * x[i * dim + 2];
      }
      return out;
    };
    expect(frechetDistanceOf(rotate(a), rotate(b), dim)).toBeCloseTo(frechetDistanceOf(a, b, dim), 9);
  });

  it('refuses sets of different dimensions or too few vectors', () => {
    expect(() => featureStatistics([1, 2, 3], 1, 3)).toThrow(/at least 2 vectors/);
    expect(() => featureStatistics([1, 2, 3], 2, 2)).toThrow(/not 2 vectors of 2/);
    const s = featureStatistics([1, 2, 3, 5], 2, 2);
    expect(() => frechetDistance(s, featureStatistics([1, 2, 3, 4, 5, 7], 2, 3))).toThrow(/cannot be compared/);
  });
});

describe.runIf(hasTorch)('frechetDistance against torch and numpy', () => {
  it.each([
    ['full-rank covariances', 16, 200, 150, 0.3],
    ['more dimensions than vectors (singular covariances)', 24, 10, 15, 1],
    ['identical distributions, different draws', 8, 500, 500, 0],
  ])('%s', (_, dim, n1, n2, shift) => {
    const rng = new Rng(dim * 31 + n1);
    const a = correlated(rng, n1, dim);
    const b = correlated(new Rng(dim * 31 + n1), n2, dim, shift);
    const ours = frechetDistanceOf(a, b, dim);
    const theirs = reference(a, b, dim);
    expect(Math.abs(ours - theirs)).toBeLessThan(1e-7 * Math.max(1, Math.abs(theirs)));
  });
});
