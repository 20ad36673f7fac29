/**
 * Images in an encoder's input space: grayscale (plain mean of R, G, B), fitted to the model's
 * input size (resized whole, or center-cropped then resized), standardized with the pixel mean
 * and standard deviation of the training images, which the model records.
 */
import type { InputSpec } from '../models/encoder.ts';
import { type NdArray, float32 } from '../onnx/ndarray.ts';
import type { ImageArchive } from './image-archive.ts';
import { type Image, fitToSize, resizeBilinear, toGrayscale } from './images.ts';

/** One image in the model's input geometry, still in 0..255 units. */
export function toModelGeometry(image: Image, input: Pick<InputSpec, 'height' | 'width' | 'fit'>): Image {
  const gray = toGrayscale(image);
  return input.fit === 'crop' ? fitToSize(gray, input.height, input.width) : resizeBilinear(gray, input.height, input.width);
}

/** Images of the given archive columns as [n, 1, H, W] grayscale pixels in 0..255. */
export async function loadStimuli(archive: ImageArchive, columns: readonly number[], input: Pick<InputSpec, 'height' | 'width' | 'fit'>): Promise<NdArray<Float32Array>> {
  const size = input.height * input.width;
  const out = new Float32Array(columns.length * size);
  for (const [i, k] of columns.entries()) {
    if (!Number.isInteger(k) || k < 0 || k >= archive.count) throw new Error(`${archive.file}: image ${k} does not exist (it holds ${archive.count})`);
    out.set(toModelGeometry(await archive.image(k), input).data, i * size);
  }
  return float32([columns.length, 1, input.height, input.width], out);
}

/** Mean and standard deviation over all pixels. */
export function pixelStatistics(pixels: ArrayLike<number>): { mean: number; std: number } {
  let s = 0;
  for (let i = 0; i < pixels.length; i++) s += pixels[i];
  const mean = s / pixels.length;
  let v = 0;
  for (let i = 0; i < pixels.length; i++) v += (pixels[i] - mean) ** 2;
  const std = Math.sqrt(v / pixels.length);
  if (!(std > 0)) throw new Error('the training images have no contrast (standard deviation 0)');
  return { mean, std };
}

/** (p - mean) / std, as a new array. */
export function standardize(pixels: NdArray<Float32Array>, stats: { mean: number; std: number }): NdArray<Float32Array> {
  return float32(pixels.shape, pixels.data.map((p) => (p - stats.mean) / stats.std));
}
