import { describe, expect, it } from 'vitest';
import { appendBackward } from '../autodiff.ts';
import { Graph } from '../graph.ts';
import { float32 } from '../ndarray.ts';
import { maxPool, maxPoolWithIndices, poolOutputSize } from './max-pool.ts';
import { runBoth } from './run-both.ts';

describe('MaxPool', () => {
  it('sizes its output with ceil_mode like PyTorch: a window starting in the end padding is dropped', () => {
    expect(poolOutputSize(6, 3, 2, 1, 0, 0, false)).toBe(2);
    expect(poolOutputSize(6, 3, 2, 1, 0, 0, true)).toBe(3);
    // ceil((5 + 2 - 2) / 2) + 1 = 4, but window 4 would start at padded offset 6 = 5 + 1
    expect(poolOutputSize(5, 2, 2, 1, 1, 1, true)).toBe(3);
    expect(poolOutputSize(7, 3, 2, 2, 0, 0, true)).toBe(2);
  });

  it('keeps a symbolic batch', () => {
    const g = new Graph();
    const y = maxPool(g.input('x', 'float32', ['batch', 3, 9, 8]), { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceil_mode: 1 });
    expect(y.shape).toEqual(['batch', 3, 5, 5]);
  });

  it('gives the first maximum of each window and its flat index (n and c included), in both storage orders', async () => {
    for (const storage_order of [0, 1]) {
      const g = new Graph();
      const x = g.input('x', 'float32', [2, 1, 3, 3]);
      const [y, i] = maxPoolWithIndices(x, { kernel_shape: [2, 2], strides: [2, 2], pads: [0, 0, 1, 1], storage_order });
      g.output(y, 'y');
      g.output(i, 'i');
      const data = [1, 5, 2, 7, 3, 0, 4, 9, 6, /* second image */ -1, -2, -3, -4, -5, -6, -7, -8, -9];
      const both = await runBoth(g, { x: float32([2, 1, 3, 3], data) });
      // windows: rows {0,1} x cols {0,1}, {0,1} x {2}, {2} x {0,1}, {2} x {2}
      const at = (n: number, h: number, w: number) => n * 9 + (storage_order ? w * 3 + h : h * 3 + w);
      for (const r of [both.reference, both.ort]) {
        expect(r.y.data).toEqual([7, 2, 9, 6, -1, -3, -7, -9]);
        expect(r.i.data).toEqual([at(0, 1, 0), at(0, 0, 2), at(0, 2, 1), at(0, 2, 2), at(1, 0, 0), at(1, 0, 2), at(1, 2, 0), at(1, 2, 2)]);
      }
    }
  });

  it('splits the gradient of a window evenly between tied maxima, in the reference and onnxruntime', async () => {
    const g = new Graph();
    const x = g.input('x', 'float32', [1, 1, 2, 3]);
    g.output(maxPool(x, { kernel_shape: [2, 2], strides: [1, 1] }), 'y'); // windows: columns {0,1} and {1,2}
    appendBackward(g, { outputs: [{ output: 'y', seed: g.constant(float32([1, 1, 1, 2], [1, 2])) }], wrt: ['x'] });
    const { reference, ort } = await runBoth(g, { x: float32([1, 1, 2, 3], [5, 5, 1, 5, 5, 7]) });
    // window 1: four fives share 1; window 2: the 7 takes 2
    for (const r of [reference, ort]) expect(r.x_grad.data).toEqual([0.25, 0.25, 0, 0.25, 0.25, 2]);
  });

  it('refuses auto_pad and a third output', () => {
    const g = new Graph();
    const x = g.input('x', 'float32', [1, 1, 4, 4]);
    expect(() => g.node('MaxPool', [x], { kernel_shape: [2, 2], auto_pad: 'SAME_UPPER' })).toThrow(/MaxPool.*auto_pad "SAME_UPPER" is not supported/);
    expect(() => g.node('MaxPool', [x], { kernel_shape: [2, 2] }, { outputs: 3 })).toThrow(/1 or 2 outputs/);
  });
});
