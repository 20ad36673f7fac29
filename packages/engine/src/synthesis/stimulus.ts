/**
 * The stimulus: what a method's image becomes on a screen, and so what every evaluator scores and
 * what the service stores and exports. It is the image the generator's encoder saw (in its
 * standardized space, within the method's norm budget) brought back to pixels, p = x * std + mean,
 * clamped to 0..255 and rounded to 8-bit levels, as a PNG holds it. Converting once, here, is what
 * makes `excite compare` and the service score the same image for the same generator, method,
 * neuron, seed and settings.
 */
import { type NdArray, float32 } from '../onnx/ndarray.ts';

export interface Standardization {
  mean: number;
  std: number;
}

export function toStimulus(standardized: NdArray<Float32Array>, standardization: Standardization): NdArray<Float32Array> {
  const { mean, std } = standardization;
  const out = new Float32Array(standardized.data.length);
  for (let i = 0; i < out.length; i++) out[i] = Math.min(255, Math.max(0, Math.round(standardized.data[i] * std + mean)));
  return float32(standardized.shape, out);
}

/** A stimulus back in the encoder's standardized input space, as the generator scores it. */
export function fromStimulus(stimulus: NdArray<Float32Array>, standardization: Standardization): NdArray<Float32Array> {
  const { mean, std } = standardization;
  return float32(stimulus.shape, stimulus.data.map((p) => (p - mean) / std));
}

/** The fraction of a stimulus's pixels at 0 or 255: images that saturate the screen lose what the model asked for. */
export function saturation(stimulus: NdArray<Float32Array>): number {
  let n = 0;
  for (const v of stimulus.data) if (v <= 0 || v >= 255) n++;
  return n / Math.max(1, stimulus.data.length);
}
