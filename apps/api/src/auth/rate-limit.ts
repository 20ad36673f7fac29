/**
 * Per-token rate limits: a token bucket per token (refilled at `perSecond`, holding at most
 * `burst`), kept in this API process's memory: with several API processes behind a balancer each
 * enforces the limit on what it sees. Buckets idle long enough to be full are forgotten.
 */
export interface RateLimitOptions {
  perSecond: number;
  burst: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private sweeps = 0;

  constructor(private readonly options: RateLimitOptions) {}

  /** Takes one request from `key`'s bucket: 0 when allowed, else the seconds until one would be. */
  take(key: string, now = Date.now()): number {
    const { perSecond, burst } = this.options;
    if (perSecond <= 0) return 0; // 0: unlimited
    const capacity = Math.max(1, burst);
    const b = this.buckets.get(key) ?? { tokens: capacity, at: now };
    b.tokens = Math.min(capacity, b.tokens + ((now - b.at) / 1000) * perSecond);
    b.at = now;
    this.buckets.set(key, b);
    if (++this.sweeps % 10_000 === 0) this.sweep(now);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return (1 - b.tokens) / perSecond;
  }

  private sweep(now: number): void {
    const full = (Math.max(1, this.options.burst) / this.options.perSecond) * 1000;
    for (const [key, b] of this.buckets) if (now - b.at > full) this.buckets.delete(key);
  }
}
