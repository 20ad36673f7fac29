import { describe, expect, it } from 'vitest';
import { float32 } from '../onnx/ndarray.ts';
import { SynthesisError, checkEnergy, previewOf } from './progress.ts';

describe('progress events', () => {
  it('previews at most 32x32 by area averaging, keeping the mean', () => {
    const x = float32([2, 1, 40, 40], Array.from({ length: 3200 }, (_, i) => Math.sin(i)));
    const p = previewOf(x);
    expect(p.shape).toEqual([2, 1, 32, 32]);
    const mean = (a: ArrayLike<number>, from: number, n: number) => Array.from(a).slice(from, from + n).reduce((s, v) => s + v, 0) / n;
    expect(mean(p.data, 1024, 1024)).toBeCloseTo(mean(x.data, 1600, 1600), 5);
    expect(previewOf(float32([1, 3, 64, 48], new Float32Array(64 * 48 * 3).fill(2))).shape).toEqual([1, 3, 32, 24]);
    for (const v of previewOf(float32([1, 3, 64, 48], new Float32Array(64 * 48 * 3).fill(2))).data) expect(v).toBeCloseTo(2, 6);
    const small = float32([1, 1, 8, 8], new Float32Array(64).fill(1));
    expect(previewOf(small).shape).toEqual([1, 1, 8, 8]);
  });

  it('names the method, step, image and seed of a non-finite energy', () => {
    expect(() => checkEnergy('egg', 3, 100, [1, 2], [7, 8])).not.toThrow();
    expect(() => checkEnergy('egg', 3, 100, [1, Infinity], [7, 8])).toThrow('egg: the energy of image 1 (seed 8) is Infinity at step 3 of 100');
    const error = (() => {
      try {
        checkEnergy('ga', 1, 5, [NaN], [0]);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(SynthesisError);
    expect(error).toMatchObject({ method: 'ga', step: 1, image: 0 });
  });
});
