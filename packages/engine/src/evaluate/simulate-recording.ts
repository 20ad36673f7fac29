/**
 * A simulated closed-loop recording: compact ground-truth models (one network per neuron, the
 * published V4 models) stand in for the brain. Each stimulus is scored in pixel space exactly as the
 * service scores it (scoring-model.ts: resize, gray to RGB), and each repeat draws a Poisson count
 * with mean `scale` x rate (negative rates count as 0); the recorded response is count / scale, so
 * it estimates the rate without bias with variance rate / scale. `scale` is the expected spike
 * count of a rate of 1: raise it to simulate longer presentation windows (less noise), lower it
 * for noisier neurons. Labs use it to plan how many repeats and neurons an experiment needs.
 */
import { type NdArray, float32 } from '../onnx/ndarray.ts';
import type { Rng } from '../random.ts';
import { runBatched } from '../runtime/batched.ts';
import { createSession } from '../runtime/session.ts';
import { type ScoringModel, pixelScoringGraph } from '../models/scoring-model.ts';

/** A Poisson draw: Knuth's product of uniforms below a mean of 30, a rounded normal above (its error there is far below the noise it models). */
export function poisson(rng: Rng, mean: number): number {
  if (!(mean > 0)) return 0;
  if (mean < 30) {
    const limit = Math.exp(-mean);
    let k = 0;
    let p = rng.uniform();
    while (p > limit) {
      k++;
      p *= rng.uniform();
    }
    return k;
  }
  return Math.max(0, Math.round(mean + Math.sqrt(mean) * rng.normal()));
}

export interface SimulatedRecording {
  /** the brain's noiseless rates [neurons, stimuli] */
  rates: NdArray<Float32Array>;
  /** the recorded responses [neurons, stimuli, repeats]: counts / scale */
  responses: NdArray<Float32Array>;
}

/**
 * Rates of `brain`'s neurons (its columns, in order) for stimuli of any sizes, each [C, H, W] in
 * pixel space (0..255); stimuli of one size are scored together.
 */
export async function brainRates(brain: ScoringModel, stimuli: readonly NdArray<Float32Array>[]): Promise<NdArray<Float32Array>> {
  const n = brain.neurons.length;
  const out = new Float32Array(n * stimuli.length);
  const bySize = new Map<string, number[]>();
  stimuli.forEach((s, i) => {
    const key = s.shape.join('x');
    bySize.set(key, [...(bySize.get(key) ?? []), i]);
  });
  for (const idx of bySize.values()) {
    const [c, h, w] = stimuli[idx[0]].shape;
    if (c !== 1 && c !== 3) throw new Error(`a stimulus has ${c} channels: 1 or 3 expected`);
    const size = c * h * w;
    const batch = float32([idx.length, c, h, w], new Float32Array(idx.length * size));
    idx.forEach((k, j) => batch.data.set(stimuli[k].data, j * size));
    const session = await createSession(pixelScoringGraph(brain, { channels: c as 1 | 3, height: h, width: w }));
    try {
      const rates = await runBatched(session, {}, 'pixels', batch, 'rates', 16);
      idx.forEach((k, j) => {
        for (let m = 0; m < n; m++) out[m * stimuli.length + k] = rates.data[j * n + m];
      });
    } finally {
      await session.release();
    }
  }
  return float32([n, stimuli.length], out);
}

/** Poisson repeats around `rates` [neurons, stimuli]. */
export function recordFromRates(rates: NdArray<Float32Array>, options: { repeats: number; rng: Rng; scale?: number }): NdArray<Float32Array> {
  const [neurons, stimuli] = rates.shape;
  const scale = options.scale ?? 1;
  if (!(scale > 0)) throw new Error(`scale must be positive, got ${scale}`);
  if (!Number.isInteger(options.repeats) || options.repeats < 1) throw new Error(`repeats must be a positive integer, got ${options.repeats}`);
  const out = new Float32Array(neurons * stimuli * options.repeats);
  for (let i = 0; i < neurons * stimuli; i++) {
    for (let r = 0; r < options.repeats; r++) out[i * options.repeats + r] = poisson(options.rng, scale * rates.data[i]) / scale;
  }
  return float32([neurons, stimuli, options.repeats], out);
}

export async function simulateRecording(brain: ScoringModel, stimuli: readonly NdArray<Float32Array>[], options: { repeats: number; rng: Rng; scale?: number }): Promise<SimulatedRecording> {
  const rates = await brainRates(brain, stimuli);
  return { rates, responses: recordFromRates(rates, options) };
}
