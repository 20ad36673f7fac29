/**
 * For op tests: a graph's outputs from the float64 reference evaluator and from onnxruntime (CPU),
 * as plain number arrays, so that a test can hold both to hand-computed values.
 */
import { evaluate } from '../evaluate.ts';
import type { Graph } from '../graph.ts';
import { type NdArray, toNumbers } from '../ndarray.ts';
import { createSession } from '../../runtime/session.ts';

export interface Both {
  reference: Record<string, { shape: number[]; data: number[] }>;
  ort: Record<string, { shape: number[]; data: number[] }>;
}

export async function runBoth(g: Graph, feeds: Record<string, NdArray> = {}): Promise<Both> {
  const outputs = g.outputs.map((o) => o.name);
  const ref = evaluate(g, feeds, outputs);
  const session = await createSession(g, {}, { device: 'cpu' });
  try {
    const got = await session.run(feeds);
    const plain = (a: NdArray | { shape: readonly number[]; data: Float64Array }) => ({ shape: [...a.shape], data: Array.from(a.data instanceof Float64Array ? a.data : toNumbers(a as NdArray)) });
    return {
      reference: Object.fromEntries(outputs.map((n) => [n, plain(ref[n])])),
      ort: Object.fromEntries(outputs.map((n) => [n, plain(got[n])])),
    };
  } finally {
    await session.release();
  }
}
