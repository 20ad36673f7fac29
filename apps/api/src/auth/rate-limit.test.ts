import { describe, expect, it } from 'vitest';
import { RateLimiter } from './rate-limit.ts';

describe('the per-token rate limiter', () => {
  it('lets a burst through, then one request per 1/perSecond, each token on its own', () => {
    const limiter = new RateLimiter({ perSecond: 5, burst: 10 });
    const t0 = 1_000_000;
    const answers = Array.from({ length: 14 }, () => limiter.take('a', t0));
    expect(answers.filter((w) => w === 0)).toHaveLength(10);
    // the 11th waits for a fifth of a second
    expect(answers[10]).toBeCloseTo(0.2, 6);
    expect(limiter.take('b', t0)).toBe(0);
    expect(limiter.take('a', t0 + 199)).toBeGreaterThan(0);
    expect(limiter.take('a', t0 + 400)).toBe(0);
    // 0 per second: unlimited
    const open = new RateLimiter({ perSecond: 0, burst: 0 });
    expect(Array.from({ length: 100 }, () => open.take('a', t0)).every((w) => w === 0)).toBe(true);
  });
});
