import { describe, expect, it } from 'vitest';
import { Graph } from '../graph.ts';
import { float32, int64, ndarray } from '../ndarray.ts';
import { erfValue } from '../reference.ts';
import { dropout, erf, hardSigmoid, hardSwish, leakyRelu, mod } from './elementwise.ts';
import { runBoth } from './run-both.ts';

describe('elementwise operators for imported graphs', () => {
  it('computes erf to float64 accuracy', () => {
    expect(erfValue(0)).toBe(0);
    expect(erfValue(0.5)).toBeCloseTo(0.5204998778130465, 15);
    expect(erfValue(-1.5)).toBeCloseTo(-0.9661051464753108, 15);
    expect(erfValue(3)).toBeCloseTo(0.9999779095030014, 15);
    expect(erfValue(-7)).toBe(-1);
  });

  it('agrees with onnxruntime on activations at hand-computed points', async () => {
    const g = new Graph();
    const x = g.input('x', 'float32', [5]);
    g.output(leakyRelu(x, 0.1), 'leaky');
    g.output(erf(x), 'erf');
    g.output(hardSigmoid(x), 'hardSigmoid');
    g.output(hardSwish(x), 'hardSwish');
    g.output(dropout(x), 'dropout');
    const { reference, ort } = await runBoth(g, { x: float32([5], [-4, -1, 0, 1.5, 4]) });
    for (const r of [reference, ort]) {
      expect(r.leaky.data.map((v) => +v.toFixed(6))).toEqual([-0.4, -0.1, 0, 1.5, 4]);
      expect(r.erf.data.map((v) => +v.toFixed(6))).toEqual([-1, -0.842701, 0, 0.966105, 1]);
      expect(r.hardSigmoid.data.map((v) => +v.toFixed(6))).toEqual([0, 0.3, 0.5, 0.8, 1]);
      expect(r.hardSwish.data.map((v) => +v.toFixed(6))).toEqual([-0, -1 / 3, 0, 1.5 * 0.75, 4].map((v) => +v.toFixed(6)));
      expect(r.dropout.data).toEqual([-4, -1, 0, 1.5, 4]);
    }
  });

  it('takes the divisor sign with fmod 0 (integers) and the dividend sign with fmod 1', async () => {
    const g = new Graph();
    const a = g.input('a', 'int64', [4]);
    const b = g.input('b', 'int64', [4]);
    const fa = g.input('fa', 'float32', [4]);
    g.output(mod(a, b), 'mod');
    g.output(mod(a, b, 1), 'fmod');
    g.output(mod(fa, 2, 1), 'float');
    const { reference, ort } = await runBoth(g, { a: int64([4], [7, -7, 7, -7]), b: int64([4], [3, 3, -3, -3]), fa: float32([4], [5.5, -5.5, 1, -0.5]) });
    for (const r of [reference, ort]) {
      expect(r.mod.data).toEqual([1, 2, -2, -1]);
      expect(r.fmod.data).toEqual([1, -1, 1, -1]);
      expect(r.float.data).toEqual([1.5, -1.5, 1, -0.5]);
    }
    expect(() => mod(fa, 2)).toThrow(/Mod.*fmod=1/);
  });

  it('refuses Dropout in training mode and its mask', () => {
    const g = new Graph();
    const x = g.input('x', 'float32', [3]);
    const training = g.constant(ndarray('bool', [], Uint8Array.from([1])));
    expect(() => g.node('Dropout', [x, g.scalar(0.5, x), training])).toThrow(/Dropout.*only inference/);
    expect(g.node('Dropout', [x, g.scalar(0.5, x), g.constant(ndarray('bool', [], Uint8Array.from([0])))])[0].shape).toEqual([3]);
    expect(() => g.node('Dropout', [x], {}, { outputs: 2 })).toThrow(/Dropout.*mask output is not supported/);
  });
});
