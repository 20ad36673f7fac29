import { describe, expect, it } from 'vitest';
import { finiteNumber, fraction, integer, nonNegative, nonNegativeInt, portNumber, positiveInt, positiveNumber, unitInterval } from './number-options.ts';

describe('numeric option parsers', () => {
  it('accept the range they name and refuse its edges, naming the flag', () => {
    const cases: [(name: string) => (v: string) => number, string[], string[], RegExp][] = [
      [positiveInt, ['1', '40'], ['0', '1.5', 'x', ''], /--f must be a positive integer, got "/],
      [nonNegativeInt, ['0', '7'], ['-1', '0.5', 'x', '', ' '], /--f must be a non-negative integer, got "/],
      [integer, ['-3', '0', '12'], ['0.5', 'Infinity', 'x', ''], /--f must be an integer, got "/],
      [finiteNumber, ['-0.5', '0', '1e-4'], ['Infinity', 'NaN', 'x', ''], /--f must be a number, got "/],
      [positiveNumber, ['0.001', '3'], ['0', '-2', 'Infinity', 'x'], /--f must be a positive number, got "/],
      [nonNegative, ['0', '2.5'], ['-0.1', 'Infinity', 'x'], /--f must be a number >= 0, got "/],
      [unitInterval, ['0', '0.999'], ['1', '-0.1', 'x'], /--f must be in \[0, 1\), got "/],
      [fraction, ['1', '0.1'], ['0', '1.01', 'x'], /--f must be in \(0, 1\], got "/],
      [portNumber, ['0', '65535'], ['65536', '-1', '80.5'], /--f must be a port number \(0: any free one\), got "/],
    ];
    for (const [parser, good, bad, message] of cases) {
      const parse = parser('--f');
      for (const v of good) expect(parse(v)).toBe(Number(v));
      for (const v of bad) expect(() => parse(v)).toThrow(message);
    }
  });
});
