import { describe, expect, it } from 'vitest';
import { Graph } from '../graph.ts';
import { float32, int64 } from '../ndarray.ts';
import { runBoth } from './run-both.ts';
import { scatterElements } from './scatter-elements.ts';

describe('ScatterElements', () => {
  it('replaces (none) or accumulates (add, repeated indices) along an axis, negative indices wrapping', async () => {
    const g = new Graph();
    const data = g.input('data', 'float32', [2, 3]);
    const updates = g.input('updates', 'float32', [2, 2]);
    const indices = g.constant(int64([2, 2], [0, -1, 2, 2]));
    g.output(scatterElements(data, indices, updates, 1, 'none'), 'none');
    g.output(scatterElements(data, indices, updates, 1, 'add'), 'add');
    g.output(scatterElements(data, g.constant(int64([1, 2], [1, 0])), g.constant(float32([1, 2], [10, 20])), 0, 'add'), 'axis0');
    const feeds = { data: float32([2, 3], [1, 2, 3, 4, 5, 6]), updates: float32([2, 2], [10, 20, 30, 40]) };
    const { reference, ort } = await runBoth(g, feeds);
    for (const r of [reference, ort]) {
      expect(r.none.data).toEqual([10, 2, 20, 4, 5, 40]); // row 1: the later update to index 2 wins
      expect(r.add.data).toEqual([11, 2, 23, 4, 5, 76]);
      expect(r.axis0.data).toEqual([1, 22, 3, 14, 5, 6]);
    }
  });

  it('refuses other reductions and mismatched shapes', () => {
    const g = new Graph();
    const data = g.input('data', 'float32', [2, 3]);
    const idx = g.constant(int64([2, 2], [0, 1, 0, 1]));
    expect(() => scatterElements(data, idx, g.input('u', 'float32', [2, 1]))).toThrow(/ScatterElements.*one shape/);
    expect(() => g.node('ScatterElements', [data, idx, g.input('v', 'float32', [2, 2])], { reduction: 'mul' })).toThrow(/reduction "mul" is not supported/);
  });
});
