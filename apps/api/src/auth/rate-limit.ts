/**
 * Per-token rate limits: a token bucket per token (refilled at `perSecond`, holding at most
 * `burst`), kept in this API process's memory: with several API processes behind a balancer each
 * enforces the limit on what it sees. Buckets idle long enough to be full are forgotten. The same
 * bucket counts requests (one each) or query cost points (an operation's cost each).
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

  /**
   * Takes `amount` (one request, or an operation's cost) from `key`'s bucket: 0 when allowed (and
   * taken), else the seconds until it would be (Infinity: more than the bucket ever holds).
   */
  take(key: string, amount = 1, now = Date.now()): number {
    const { perSecond, burst } = this.options;
    if (perSecond <= 0 || amount <= 0) return 0; // 0: unlimited
    const capacity = Math.max(1, burst);
    if (amount > capacity) return Infinity;
    const b = this.buckets.get(key) ?? { tokens: capacity, at: now };
    b.tokens = Math.min(capacity, b.tokens + ((now - b.at) / 1000) * perSecond);
    b.at = now;
    this.buckets.set(key, b);
    if (++this.sweeps % 10_000 === 0) this.sweep(now);
    if (b.tokens >= amount) {
      b.tokens -= amount;
      return 0;
    }
    return (amount - b.tokens) / perSecond;
  }

  private sweep(now: number): void {
    const full = (Math.max(1, this.options.burst) / this.options.perSecond) * 1000;
    for (const [key, b] of this.buckets) if (now - b.at > full) this.buckets.delete(key);
  }
}
