/**
 * What the benchmarks measure with: the median wall time of an operation, and the error of one
 * implementation's output against another's. Kept free of side effects on import (bench:gpu's
 * bundle includes it).
 */
import { median } from '../src/evaluate/correlation.ts';

/** Median milliseconds of `fn` over `repeats` runs, after `warmups` untimed runs. */
export async function medianMs(fn: () => Promise<unknown>, repeats: number, warmups = 1): Promise<number> {
  for (let i = 0; i < warmups; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  return median(times);
}

/** max |got - expected| / max |expected| (the absolute error when expected is all zeros). */
export function relativeError(got: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (got.length !== expected.length) throw new Error(`${got.length} values against ${expected.length}`);
  let err = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    err = Math.max(err, Math.abs(got[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return scale === 0 ? err : err / scale;
}
