/**
 * The most activating natural images (MENI's comparison): score a set of images already in
 * the encoder's standardized input space and keep the k that drive a neuron most.
 */
import { type NdArray, float32 } from '../onnx/ndarray.ts';
import { takeRows } from '../runtime/batched.ts';
import type { SynthesisEncoder } from './synthesis-encoder.ts';
import { type ResponseOptions, encoderResponses } from './encoder-responses.ts';

export interface TopK {
  /** rows of the given images, most activating first */
  indices: number[];
  /** the neuron's rate for each */
  activations: Float32Array;
  /** those images [k, C, H, W] */
  images: NdArray<Float32Array>;
}

/** How many natural images a top-k run keeps per neuron unless asked. */
export const TOP_K_DEFAULTS = { k: 8 } as const;

/** The k images (all, if fewer) with the highest rate of `neuron`; ties keep the earlier image first. */
export async function naturalTopK(encoder: SynthesisEncoder, images: NdArray<Float32Array>, neuron: number, k: number, options: ResponseOptions = {}): Promise<TopK> {
  const rates = await encoderResponses(encoder, images, options);
  const [N, neurons] = rates.shape;
  if (!Number.isInteger(neuron) || neuron < 0 || neuron >= neurons) throw new Error(`neuron ${neuron} is not a column of the encoder's ${neurons} rates`);
  const rate = (i: number) => rates.data[i * neurons + neuron];
  const order = Array.from({ length: N }, (_, i) => i).sort((a, b) => rate(b) - rate(a) || a - b);
  const indices = order.slice(0, Math.min(k, N));
  return { indices, activations: Float32Array.from(indices, rate), images: indices.length ? takeRows(images, indices) : float32([0, ...images.shape.slice(1)]) };
}
