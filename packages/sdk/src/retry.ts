/**
 * Retries with exponential backoff and jitter, for what may be repeated without effect: queries
 * and blob downloads, never mutations or uploads. Retried: no answer (network), 408/429/5xx
 * without a service code, and the service's INTERNAL_SERVER_ERROR (e.g. its database was briefly
 * unavailable); a `Retry-After` is honoured up to `maxDelayMs`.
 */
import { ExciteError } from './errors.ts';

export interface RetryOptions {
  /** retries after the first try (default 3) */
  retries?: number;
  /** the first retry's delay, doubled for each next one (default 200 ms) */
  minDelayMs?: number;
  /** the longest delay (default 5000 ms) */
  maxDelayMs?: number;
}

export const DEFAULT_RETRY: Required<RetryOptions> = { retries: 3, minDelayMs: 200, maxDelayMs: 5000 };

const RETRIED_STATUSES = new Set([408, 429, 500, 502, 503, 504]);

export function isRetryable(e: unknown): e is ExciteError {
  if (!(e instanceof ExciteError)) return false;
  return e.code === 'NETWORK_ERROR' || e.code === 'INTERNAL_SERVER_ERROR' || (e.status !== undefined && RETRIED_STATUSES.has(e.status));
}

/** The delay before retry `attempt` (0-based): half fixed, half random ("equal jitter"). */
export function backoffDelay(attempt: number, options: Required<RetryOptions>, random: () => number = Math.random): number {
  const ceiling = Math.min(options.maxDelayMs, options.minDelayMs * 2 ** attempt);
  return ceiling / 2 + (random() * ceiling) / 2;
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export async function withRetries<T>(attempt: () => Promise<T>, options: Required<RetryOptions> | false, signal?: AbortSignal): Promise<T> {
  for (let retry = 0; ; retry++) {
    try {
      return await attempt();
    } catch (e) {
      if (!options || retry >= options.retries || !isRetryable(e) || signal?.aborted) throw e;
      const retryAfter = Number(e.details.retryAfterSeconds);
      const delay = Math.max(backoffDelay(retry, options), Number.isFinite(retryAfter) ? Math.min(retryAfter * 1000, options.maxDelayMs) : 0);
      await sleep(delay, signal);
    }
  }
}
