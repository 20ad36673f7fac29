/**
 * Scoring images across models: every evaluator receives each image converted
 * into its own input space and reports the rate of the image's target neuron. A neuron is named
 * by session and row, so a generator's neuron K of session 201025 is the compact model
 * compact/201025/neuronK.safetensors and the same readout row in the other encoders.
 */
import { type NdArray, float32 } from '../onnx/ndarray.ts';
import type { NeuronRef } from '../models/encoder-graph.ts';
import { type InputSpace, type ScoringModel, pixelScoringGraph } from '../models/scoring-model.ts';
import { runBatched } from '../runtime/batched.ts';
import { createSession } from '../runtime/session.ts';

/** Column of `neuron` among a model's outputs, or -1 when the model does not predict it. */
export function columnOf(model: ScoringModel, neuron: NeuronRef): number {
  return model.neurons.findIndex((n) => n.session === neuron.session && n.neuron === neuron.neuron);
}

/**
 * Rates of each image's target neuron under `model` (NaN where the model lacks that neuron).
 * `pixels`: [N, C, H, W] in pixel space (0..255).
 */
export async function scoreImages(model: ScoringModel, pixels: NdArray<Float32Array>, targets: readonly NeuronRef[], space: InputSpace): Promise<number[]> {
  if (targets.length !== pixels.shape[0]) throw new Error(`${targets.length} targets for ${pixels.shape[0]} images`);
  const columns = targets.map((t) => columnOf(model, t));
  const wanted = columns.map((c, i) => (c >= 0 ? i : -1)).filter((i) => i >= 0);
  const scores = new Array<number>(targets.length).fill(NaN);
  if (wanted.length === 0) return scores;
  const size = pixels.data.length / pixels.shape[0];
  const subset = float32([wanted.length, ...pixels.shape.slice(1)], new Float32Array(wanted.length * size));
  wanted.forEach((i, j) => subset.data.set(pixels.data.subarray(i * size, (i + 1) * size), j * size));
  const session = await createSession(pixelScoringGraph(model, space));
  try {
    const rates = await runBatched(session, {}, 'pixels', subset, 'rates', 16);
    const n = model.neurons.length;
    wanted.forEach((i, j) => (scores[i] = rates.data[j * n + columns[i]]));
  } finally {
    await session.release();
  }
  return scores;
}

/** Each neuron's largest rate over a set of images (e.g. the session's natural images). */
export async function maxRates(model: ScoringModel, pixels: NdArray<Float32Array>, space: InputSpace): Promise<Map<string, number>> {
  const session = await createSession(pixelScoringGraph(model, space));
  try {
    const rates = await runBatched(session, {}, 'pixels', pixels, 'rates', 16);
    const n = model.neurons.length;
    const out = new Map<string, number>();
    model.neurons.forEach((ref, j) => {
      let m = -Infinity;
      for (let i = 0; i < pixels.shape[0]; i++) m = Math.max(m, rates.data[i * n + j]);
      out.set(neuronKey(ref), m);
    });
    return out;
  } finally {
    await session.release();
  }
}

export const neuronKey = (n: NeuronRef) => `${n.session}:${n.neuron}`;
