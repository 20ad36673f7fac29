import { describe, expect, it } from 'vitest';
import { RateLimiter } from './rate-limit.ts';

describe('the per-token rate limiter', () => {
  const t0 = 1_000_000;

  it('lets a burst through, then one request per 1/perSecond, each token on its own', () => {
    const limiter = new RateLimiter({ perSecond: 5, burst: 10 });
    const answers = Array.from({ length: 14 }, () => limiter.take('a', 1, t0));
    expect(answers.filter((w) => w === 0)).toHaveLength(10);
    // the 11th waits for a fifth of a second
    expect(answers[10]).toBeCloseTo(0.2, 6);
    expect(limiter.take('b', 1, t0)).toBe(0);
    expect(limiter.take('a', 1, t0 + 199)).toBeGreaterThan(0);
    expect(limiter.take('a', 1, t0 + 400)).toBe(0);
    // 0 per second: unlimited
    const open = new RateLimiter({ perSecond: 0, burst: 0 });
    expect(Array.from({ length: 100 }, () => open.take('a', 1, t0)).every((w) => w === 0)).toBe(true);
  });

  it('charges an operation its cost, and refuses outright a cost over the whole bucket', () => {
    const limiter = new RateLimiter({ perSecond: 100, burst: 1000 });
    expect(limiter.take('a', 700, t0)).toBe(0);
    // 300 left: 500 more needs 200 points, 2 s at 100 a second
    expect(limiter.take('a', 500, t0)).toBeCloseTo(2, 6);
    expect(limiter.take('a', 500, t0 + 2000)).toBe(0);
    expect(limiter.take('a', 1001, t0 + 60_000)).toBe(Infinity);
  });
});
