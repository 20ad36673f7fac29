/**
 * Shape arithmetic as torch.onnx.export writes it (Shape, Gather, Unsqueeze, Concat, Slice, Cast,
 * Mul, Div, then Reshape or Expand): the elements stay known while building, symbolic batch
 * included, so the shapes that follow are static or symbolic rather than unknown.
 */
import { describe, expect, it } from 'vitest';
import { Graph } from '../graph.ts';
import { float32, int64 } from '../ndarray.ts';
import { runBoth } from './run-both.ts';

describe('shape arithmetic on known elements', () => {
  it('follows an exported flatten: Reshape(x, Concat(Unsqueeze(Gather(Shape(x), 0)), [-1]))', async () => {
    const g = new Graph();
    const x = g.input('x', 'float32', ['batch', 2, 3, 4]);
    const [shape] = g.node('Shape', [x]);
    const [n] = g.node('Gather', [shape, g.constant(int64([], [0]))], { axis: 0 });
    expect(n.shape).toEqual([]);
    expect(n.knownInts()).toEqual(['batch']);
    expect(g.node('Reshape', [n, g.ints([1])])[0].knownInts()).toEqual(['batch']);
    const [n1] = g.node('Unsqueeze', [n, g.ints([0])]);
    const [target] = g.node('Concat', [n1, g.ints([-1])], { axis: 0 });
    expect(target.knownInts()).toEqual(['batch', -1]);
    const [flat] = g.node('Reshape', [x, target]);
    expect(flat.shape).toEqual(['batch', 24]);
    g.output(flat, 'flat');
    const { reference, ort } = await runBoth(g, { x: float32([2, 2, 3, 4], Array.from({ length: 48 }, (_, i) => i)) });
    expect(ort.flat.shape).toEqual([2, 24]);
    expect(reference.flat.shape).toEqual([2, 24]);
  });

  it('multiplies and divides dimensions (h * w, c / heads), slices shapes, casts and takes Shape start/end', () => {
    const g = new Graph();
    const x = g.input('x', 'float32', ['batch', 8, 3, 5]);
    const [shape] = g.node('Shape', [x]);
    const [hw] = g.node('Slice', [shape, g.ints([2]), g.ints([4])]);
    expect(hw.knownInts()).toEqual([3, 5]);
    const dims = [1, 2, 3].map((i) => g.node('Gather', [shape, g.ints([i])], { axis: 0 })[0]);
    const [area] = g.node('Mul', [dims[1], dims[2]]);
    expect(area.knownInts()).toEqual([15]);
    const [perHead] = g.node('Div', [dims[0], g.ints([2])]);
    const [batchTimes] = g.node('Mul', [g.node('Gather', [shape, g.ints([0])], { axis: 0 })[0], g.ints([4])]);
    expect(perHead.knownInts()).toEqual([4]);
    expect(batchTimes.knownInts()).toEqual(['4*batch']);
    const [cast] = g.node('Cast', [area], { to: 7 });
    expect(cast.knownInts()).toEqual([15]);
    const [target] = g.node('Concat', [g.node('Gather', [shape, g.ints([0])], { axis: 0 })[0], g.ints([2]), perHead, cast], { axis: 0 });
    expect(g.node('Reshape', [x, target])[0].shape).toEqual(['batch', 2, 4, 15]);
    expect(g.node('Shape', [x], { start: 1, end: -1 })[0].knownInts()).toEqual([8, 3]);
    expect(g.node('Shape', [x], { start: -1 })[0].knownInts()).toEqual([5]);
    // a negative symbolic product has no monomial: left unknown
    expect(g.node('Mul', [g.node('Gather', [shape, g.ints([0])], { axis: 0 })[0], g.ints([-1])])[0].knownInts()).toBeUndefined();
  });

  it('keeps Shape with start and end exact in onnxruntime', async () => {
    const g = new Graph();
    const x = g.input('x', 'float32', ['batch', 8, 3]);
    g.output(g.node('Shape', [x], { start: 1 })[0], 's');
    const { reference, ort } = await runBoth(g, { x: float32([2, 8, 3]) });
    expect(reference.s.data).toEqual([8, 3]);
    expect(ort.s.data).toEqual([8, 3]);
  });
});
