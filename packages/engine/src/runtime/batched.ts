/** Runs a session over many images in chunks, concatenating one output along the batch axis. */
import { type NdArray, float32 } from '../onnx/ndarray.ts';
import type { EngineSession } from './session.ts';

/** Rows `idx` of a batch-major array. */
export function takeRows(a: NdArray<Float32Array>, idx: readonly number[]): NdArray<Float32Array> {
  const size = a.data.length / a.shape[0];
  const out = new Float32Array(idx.length * size);
  idx.forEach((k, i) => out.set(a.data.subarray(k * size, (k + 1) * size), i * size));
  return float32([idx.length, ...a.shape.slice(1)], out);
}

export async function runBatched(session: EngineSession, feeds: Record<string, NdArray>, inputName: string, inputs: NdArray<Float32Array>, output: string, chunk = 64): Promise<NdArray<Float32Array>> {
  const n = inputs.shape[0];
  const parts: Float32Array[] = [];
  let shape: readonly number[] = [];
  for (let start = 0; start < n; start += chunk) {
    const idx = Array.from({ length: Math.min(chunk, n - start) }, (_, i) => start + i);
    const out = (await session.run({ ...feeds, [inputName]: takeRows(inputs, idx) }))[output];
    parts.push(out.data as Float32Array);
    shape = out.shape;
  }
  const data = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    data.set(p, o);
    o += p.length;
  }
  return float32([n, ...shape.slice(1)], data);
}
