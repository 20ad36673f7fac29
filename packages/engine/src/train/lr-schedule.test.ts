import { describe, expect, it } from 'vitest';
import { cosineLr } from './lr-schedule.ts';

describe('cosine learning-rate schedule', () => {
  it('falls along a half cosine from the initial rate to 0 over the epoch budget', () => {
    expect(cosineLr(3e-3, 0, 8)).toBeCloseTo(3e-3, 12);
    expect(cosineLr(3e-3, 4, 8)).toBeCloseTo(1.5e-3, 12);
    expect(cosineLr(3e-3, 2, 8)).toBeCloseTo(1.5e-3 * (1 + Math.SQRT1_2), 12);
    expect(cosineLr(3e-3, 8, 8)).toBeCloseTo(0, 12);
    // fractions of an epoch: every batch gets its own rate, never rising
    const rates = Array.from({ length: 81 }, (_, i) => cosineLr(1, i / 10, 8));
    rates.slice(1).forEach((r, i) => expect(r).toBeLessThan(rates[i]));
    // past the budget it stays at 0; before the start, at the initial rate
    expect(cosineLr(1, 9, 8)).toBe(0);
    expect(cosineLr(1, -1, 8)).toBe(1);
  });

  it('refuses an empty epoch budget', () => {
    expect(() => cosineLr(1, 0, 0)).toThrow(/positive epoch budget, got 0/);
  });
});
