/**
 * Recording sessions prepared for training: images of the chosen columns in the encoder's input
 * space, responses image-major, and a seeded random validation split.
 */
import { basename } from 'node:path';
import { type Dataset, readDataset } from '../data/dataset.ts';
import { loadStimuli, pixelStatistics, standardize } from '../data/stimuli.ts';
import type { InputSpec } from '../models/encoder.ts';
import { type NdArray, toNumbers } from '../onnx/ndarray.ts';
import { takeRows } from '../runtime/batched.ts';
import { Rng } from '../random.ts';
import type { SessionData, Split } from './trainer.ts';

export interface LoadedSession {
  id: string;
  dataset: Dataset;
  /** archive columns used */
  columns: number[];
  /** grayscale pixels 0..255 [n, 1, H, W] of those columns */
  pixels: NdArray<Float32Array>;
}

/** Parses "A:B" (0-based, B exclusive; either side may be empty) against a count. */
export function parseRange(spec: string | undefined, count: number): number[] {
  if (!spec) return Array.from({ length: count }, (_, i) => i);
  const m = /^(\d*):(\d*)$/.exec(spec.trim());
  if (!m) throw new Error(`image range "${spec}" is not A:B`);
  const a = m[1] ? Number(m[1]) : 0;
  const b = m[2] ? Number(m[2]) : count;
  if (a >= b || b > count) throw new Error(`image range ${spec} is empty or beyond the ${count} images`);
  return Array.from({ length: b - a }, (_, i) => a + i);
}

export const sessionId = (dir: string) => basename(dir.replace(/\/+$/, ''));

export async function loadSession(dir: string, range: string | undefined, input: Pick<InputSpec, 'height' | 'width' | 'fit'>): Promise<LoadedSession> {
  const dataset = await readDataset(dir);
  const columns = parseRange(range, dataset.images.count);
  return { id: sessionId(dir), dataset, columns, pixels: await loadStimuli(dataset.images, columns, input) };
}

/** Mean and std over the pixels of all sessions' images. */
export function statisticsOf(sessions: readonly LoadedSession[]): { mean: number; std: number } {
  const total = sessions.reduce((s, l) => s + l.pixels.data.length, 0);
  const all = new Float32Array(total);
  let o = 0;
  for (const l of sessions) {
    all.set(l.pixels.data, o);
    o += l.pixels.data.length;
  }
  return pixelStatistics(all);
}

/** Responses [images, neurons] (image-major) of the given archive columns. */
export function responsesOf(dataset: Dataset, columns: readonly number[]): Float32Array {
  const [neurons, count] = dataset.responses.shape;
  const r = toNumbers(dataset.responses);
  const out = new Float32Array(columns.length * neurons);
  columns.forEach((k, i) => {
    for (let j = 0; j < neurons; j++) out[i * neurons + j] = r[j * count + k];
  });
  return out;
}

/** Standardizes and splits a session: a random `valFraction` of its images for validation. */
export function splitSession(l: LoadedSession, stats: { mean: number; std: number }, valFraction: number, seed: number): SessionData {
  const n = l.columns.length;
  const order = new Rng(seed).permutation(n);
  const nVal = Math.max(1, Math.round(n * valFraction));
  const images = standardize(l.pixels, stats);
  const responses = responsesOf(l.dataset, l.columns);
  const neurons = l.dataset.neurons;
  const part = (idx: number[]): Split => {
    const r = new Float32Array(idx.length * neurons);
    idx.forEach((k, i) => r.set(responses.subarray(k * neurons, (k + 1) * neurons), i * neurons));
    return { images: takeRows(images, idx), responses: r };
  };
  return { id: l.id, train: part(order.slice(nVal)), val: part(order.slice(0, nVal)) };
}
