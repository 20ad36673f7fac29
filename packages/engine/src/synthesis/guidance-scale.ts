/**
 * The guidance scale lambda that follows the prior's image size. EGG's step subtracts
 * lambda g / ||g|| from x_{t-1}, g normalized over the whole image: the step's length is lambda
 * whatever the image's size, so the step per pixel is lambda / sqrt(C H W). The methods' reference
 * values (EGG's lambda = 10, MENI's and reconstruction's 2) were set for a 3x256x256 prior; scaled
 * by sqrt(C H W / (3 * 256 * 256)) they move each pixel of any prior as far per step as they move
 * a pixel of that one. At 3x256x256 the reference comes back exactly; the demo prior's 1x40x40
 * gets reference x sqrt(1600 / 196608), about reference / 11.
 */

/** An image's shape, channels x height x width. */
export interface ImageShape {
  channels: number;
  height: number;
  width: number;
}

/** The image size the methods' reference guidance scales were set for (ADM-256: 3x256x256). */
export const REFERENCE_IMAGE: ImageShape = { channels: 3, height: 256, width: 256 };

/** `reference` (lambda at 3x256x256) for a prior whose images are `shape`: the same step per pixel. */
export function guidanceScaleFor(reference: number, shape: ImageShape): number {
  const size = (s: ImageShape) => s.channels * s.height * s.width;
  if (!(size(shape) > 0)) throw new Error(`guidance scale: the prior's image shape ${shape.channels}x${shape.height}x${shape.width} is empty`);
  return reference * Math.sqrt(size(shape) / size(REFERENCE_IMAGE));
}

/** A (synthesis) prior's image shape. */
export const priorImageShape = (prior: { channels: number; imageSize: number }): ImageShape => ({ channels: prior.channels, height: prior.imageSize, width: prior.imageSize });

/** How a size-scaled default reads in help texts and docs: "size-scaled: 10 at 3x256x256". */
export const sizeScaledLabel = (reference: number): string => `size-scaled: ${reference} at ${REFERENCE_IMAGE.channels}x${REFERENCE_IMAGE.height}x${REFERENCE_IMAGE.width}`;
