import { describe, expect, it } from 'vitest';
import { Graph } from '../graph.ts';
import { float32, int64, ndarray } from '../ndarray.ts';
import { identity } from './elementwise.ts';
import { constantOfShape, range } from './fill.ts';
import { reshape, shapeOf } from './reshape.ts';
import { runBoth } from './run-both.ts';

describe('ConstantOfShape', () => {
  it('fills float32 zeros by default and takes its value (and type) from a tensor attribute', async () => {
    const g = new Graph();
    g.output(constantOfShape(g.ints([2, 3])), 'zeros');
    g.output(constantOfShape(g.ints([4]), int64([1], [7])), 'sevens');
    g.output(constantOfShape(g.ints([2]), float32([1], [0.5])), 'halves');
    const { reference, ort } = await runBoth(g);
    for (const r of [reference, ort]) {
      expect(r.zeros).toEqual({ shape: [2, 3], data: [0, 0, 0, 0, 0, 0] });
      expect(r.sevens).toEqual({ shape: [4], data: [7, 7, 7, 7] });
      expect(r.halves).toEqual({ shape: [2], data: [0.5, 0.5] });
    }
    expect(g.value('ConstantOfShape_1').dtype).toBe('int64');
  });

  it('keeps a symbolic shape, and knows its elements when it makes a small integer vector', () => {
    const g = new Graph();
    const x = g.input('x', 'float32', ['batch', 3, 4]);
    expect(constantOfShape(shapeOf(x)).shape).toEqual(['batch', 3, 4]);
    const ones = constantOfShape(g.ints([3]), int64([1], [1]));
    expect(ones.knownInts()).toEqual([1, 1, 1]);
    expect(reshape(x, [-1, 12]).shape).toEqual(['batch', 12]);
  });

  it('refuses a value of more than one element and an unknown shape', () => {
    const g = new Graph();
    expect(() => constantOfShape(g.ints([2]), float32([2], [1, 2]))).toThrow(/ConstantOfShape.*one element/);
    const n = g.input('n', 'int64', [2]);
    expect(() => constantOfShape(n)).toThrow(/ConstantOfShape.*known while building/);
    expect(() => g.node('ConstantOfShape', [g.ints([2])], { value: [1] })).toThrow(/must be of type tensor/);
  });
});

describe('Range', () => {
  it('counts ceil((limit - start) / delta) elements, also downwards and for floats', async () => {
    const g = new Graph();
    const i = (v: number) => g.constant(int64([], [v]));
    const f = (v: number) => g.constant(float32([], [v]));
    g.output(range(i(1), i(8), i(3)), 'up');
    g.output(range(i(5), i(-1), i(-2)), 'down');
    g.output(range(i(3), i(3), i(1)), 'empty');
    g.output(range(f(0), f(1), f(0.25)), 'floats');
    const { reference, ort } = await runBoth(g);
    for (const r of [reference, ort]) {
      expect(r.up).toEqual({ shape: [3], data: [1, 4, 7] });
      expect(r.down).toEqual({ shape: [3], data: [5, 3, 1] });
      expect(r.empty).toEqual({ shape: [0], data: [] });
      expect(r.floats).toEqual({ shape: [4], data: [0, 0.25, 0.5, 0.75] });
    }
    expect(g.value('up').knownInts()).toEqual([1, 4, 7]);
  });

  it('gives Range(0, n, 1) over a symbolic n that many elements, and refuses other unknown bounds', () => {
    const g = new Graph();
    const n = shapeOf(g.input('v', 'float32', ['batch'])); // [1] holding batch
    const [zero, one, two] = [0, 1, 2].map((v) => g.constant(int64([], [v])));
    expect(range(zero, n, one).shape).toEqual(['batch']);
    expect(() => range(one, n, one)).toThrow(/Range.*known while building/);
    expect(() => range(zero, n, two)).toThrow(/Range.*known while building/);
  });

  it('refuses operands of different types and a zero delta', () => {
    const g = new Graph();
    expect(() => range(g.constant(int64([], [0])), g.constant(float32([], [2])), g.constant(int64([], [1])))).toThrow(/one type/);
    expect(() => range(g.constant(int64([], [0])), g.constant(int64([], [2])), g.constant(int64([], [0])))).toThrow(/delta must not be 0/);
  });
});

describe('Identity', () => {
  it('passes any type, and the known elements of a shape', () => {
    const g = new Graph();
    const b = g.input('b', 'bool', [2]);
    expect(identity(b).dtype).toBe('bool');
    expect(identity(shapeOf(g.input('x', 'float32', ['batch', 5]))).knownInts()).toEqual(['batch', 5]);
    expect(identity(g.constant(ndarray('int64', [2, 1], BigInt64Array.from([1n, 2n])))).knownInts()).toBeUndefined();
  });
});
