import { describe, expect, it } from 'vitest';
import { formatIndexSpec, parseIndexSpec } from './neuron-spec.ts';

describe('neuron index specs', () => {
  it('reads indices and ranges in order, once each', () => {
    expect(parseIndexSpec('0-3, 7,2')).toEqual([0, 1, 2, 3, 7]);
    expect(parseIndexSpec('5')).toEqual([5]);
  });

  it('says what is wrong with a malformed spec', () => {
    expect(() => parseIndexSpec('a')).toThrow('"a" is not an index or a range A-B');
    expect(() => parseIndexSpec('9-3')).toThrow('runs backwards');
    expect(() => parseIndexSpec('')).toThrow('no indices');
    expect(() => parseIndexSpec('0-2000')).toThrow('more than 1000 indices');
  });

  it('writes the shortest spec back', () => {
    expect(formatIndexSpec([7, 0, 1, 2, 3, 9, 10])).toBe('0-3,7,9-10');
  });
});
