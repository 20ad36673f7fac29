/**
 * Preprocessing inside the energy (docs/synthesis.md), from the prior's image (C_p channels, S_p x S_p, range
 * [-1, 1] taken as the encoder's standardized space) to the encoder's input: bilinear resize
 * (align_corners=False, no antialias), grayscale as the plain channel mean, rescale to L2 norm c
 * over the whole image (no mean subtraction). Built into the graph, so gradients flow through it.
 */
import type { Value } from '../onnx/graph.ts';
import { clip, div, mul, sqrt } from '../onnx/ops/elementwise.ts';
import { concat } from '../onnx/ops/concat-split.ts';
import { reduceMean, reduceSum } from '../onnx/ops/reduce.ts';
import { unsqueeze } from '../onnx/ops/reshape.ts';
import { resize } from '../onnx/ops/resize.ts';

/** An encoder's input: channels and size (grayscale encoders have 1 channel; compact models 3). */
export interface EncoderInputShape {
  channels: number;
  height: number;
  width: number;
}

export interface PreprocessOptions {
  /** the target norm c per image, a [batch] value (an input, so one session serves any c) */
  norm: Value;
  /** clip after the rescaling (reconstructions: [-1.7, 1.9]) */
  clip?: readonly [number, number];
}

export function toEncoderInput(x: Value, input: EncoderInputShape, options: PreprocessOptions): Value {
  const [, C, H, W] = x.shape;
  let y = x;
  // grayscale before resizing: both are linear and act on different axes, so the order does not
  // change the result, and resizing one channel is C times cheaper
  if (C !== 1 && input.channels === 1) y = reduceMean(y, [1], true);
  else if (C !== input.channels && !(C === 1 && input.channels === 3)) throw new Error(`cannot turn ${C}-channel images into the encoder's ${input.channels} channels`);
  if (H !== input.height || W !== input.width) y = resize(y, { size: [input.height, input.width], mode: 'linear', coordinateTransform: 'half_pixel' });
  if (C === 1 && input.channels === 3) y = concat([y, y, y], 1);
  // x c / ||x||, as the paper's code: no epsilon, an all-zero image is reported as a NaN energy
  const norm = unsqueeze(options.norm, [1, 2, 3]);
  y = mul(y, div(norm, sqrt(reduceSum(mul(y, y), [1, 2, 3], true))));
  return options.clip ? clip(y, options.clip[0], options.clip[1]) : y;
}
