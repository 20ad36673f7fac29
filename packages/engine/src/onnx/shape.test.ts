import { describe, expect, it } from 'vitest';
import { bindSymbols, broadcastShapes, dim, divDims, mulDims, resolveShape } from './shape.ts';

describe('symbolic dimensions', () => {
  it('canonicalizes monomials', () => {
    expect(dim('batch*4')).toBe('4*batch');
    expect(dim('2*batch*3')).toBe('6*batch');
    expect(mulDims('batch', 3)).toBe('3*batch');
    expect(divDims('6*batch', 3)).toBe('2*batch');
    expect(divDims('6*batch', 'batch')).toBe(6);
    expect(divDims(7, 2)).toBeUndefined();
    expect(divDims('batch', 'seq')).toBeUndefined();
  });

  it('broadcasts symbolic and static dimensions', () => {
    expect(broadcastShapes(['batch', 3, 1], [4])).toEqual(['batch', 3, 4]);
    expect(() => broadcastShapes([2, 3], [4, 3])).toThrow(/do not broadcast/);
  });

  it('binds symbols from feeds and resolves shapes', () => {
    const bound = bindSymbols(['batch', '3*batch', 5], [2, 6, 5]);
    expect(bound.get('batch')).toBe(2);
    expect(resolveShape(['4*batch', 1], bound)).toEqual([8, 1]);
    expect(() => bindSymbols(['batch', 'batch'], [2, 3])).toThrow(/already 2/);
  });
});
