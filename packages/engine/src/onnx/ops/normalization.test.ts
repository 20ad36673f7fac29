import { describe, expect, it } from 'vitest';
import { Graph } from '../graph.ts';
import { float32 } from '../ndarray.ts';
import { decodeModel, serialize } from '../serialize.ts';
import { batchNormalization, layerNormalization, layerNormalizationWithStatistics } from './normalization.ts';
import { runBoth } from './run-both.ts';

describe('LayerNormalization', () => {
  it('gives Mean and InvStdDev when asked, shaped x.shape[:axis] then ones', async () => {
    const g = new Graph();
    const x = g.input('x', 'float32', [2, 2, 2]);
    const [y, mean, inv] = layerNormalizationWithStatistics(x, g.constant(float32([2, 2], [1, 1, 1, 1])), undefined, { axis: 1, epsilon: 0 });
    expect(mean.shape).toEqual([2, 1, 1]);
    g.output(y, 'y');
    g.output(mean, 'mean');
    g.output(inv, 'inv');
    // rows [1, 3, 1, 3] (mean 2, std 1) and [0, 0, 4, 4] (mean 2, std 2)
    const { reference, ort } = await runBoth(g, { x: float32([2, 2, 2], [1, 3, 1, 3, 0, 0, 4, 4]) });
    const round = (a: number[]) => a.map((v) => +v.toFixed(5));
    for (const r of [reference, ort]) {
      expect(round(r.y.data)).toEqual([-1, 1, -1, 1, -1, -1, 1, 1]);
      expect(round(r.mean.data)).toEqual([2, 2]);
      expect(round(r.inv.data)).toEqual([1, 0.5]);
    }
  });

  it('runs without a bias: the omitted trailing input is left out of the node, not written as ""', async () => {
    const g = new Graph();
    const x = g.input('x', 'float32', ['batch', 4]);
    g.output(layerNormalization(x, g.constant(float32([4], [1, 2, 3, 4]))), 'y');
    const node = (decodeModel(serialize(g)) as { graph: { node: { input: string[] }[] } }).graph.node[0];
    expect(node.input).toHaveLength(2);
    const { reference, ort } = await runBoth(g, { x: float32([1, 4], [1, 2, 3, 4]) });
    expect(ort.y.data.map((v) => +v.toFixed(5))).toEqual(reference.y.data.map((v) => +v.toFixed(5)));
  });

  it('refuses two outputs, a Scale of the wrong shape and other stash types', () => {
    const g = new Graph();
    const x = g.input('x', 'float32', [2, 3]);
    const s = g.constant(float32([3], [1, 1, 1]));
    expect(() => g.node('LayerNormalization', [x, s], {}, { outputs: 2 })).toThrow(/LayerNormalization.*1 output \(Y\) or 3/);
    expect(() => layerNormalization(x, g.constant(float32([2], [1, 1])))).toThrow(/Scale \[2\] must have the normalized shape \[3\]/);
    expect(() => layerNormalization(x, s, undefined, { stash_type: 0 })).toThrow(/stash_type 0/);
  });
});

describe('BatchNormalization', () => {
  it('normalizes with the running statistics, per channel', async () => {
    const g = new Graph();
    const x = g.input('x', 'float32', ['batch', 2, 2]);
    const c = (v: number[]) => g.constant(float32([2], v));
    g.output(batchNormalization(x, { scale: c([2, 1]), bias: c([0, -1]), mean: c([1, 0]), variance: c([4, 1]) }, 0), 'y');
    const { reference, ort } = await runBoth(g, { x: float32([1, 2, 2], [1, 5, 2, -2]) });
    for (const r of [reference, ort]) expect(r.y.data).toEqual([0, 4, 1, -3]);
  });

  it('refuses training mode and its extra outputs', () => {
    const g = new Graph();
    const x = g.input('x', 'float32', [2, 3, 4]);
    const p = g.constant(float32([3], [1, 1, 1]));
    expect(() => g.node('BatchNormalization', [x, p, p, p, p], { training_mode: 1 })).toThrow(/BatchNormalization.*training_mode=1 is not supported/);
    expect(() => g.node('BatchNormalization', [x, p, p, p, p], {}, { outputs: 3 })).toThrow(/only output Y/);
    expect(() => g.node('BatchNormalization', [x, p, p, p], {})).toThrow(/needs inputs X, scale, B, input_mean and input_var/);
  });
});
