/**
 * Images as float arrays [C, H, W] with values in 0..255: decoding (JPEG, PNG and the other formats
 * libvips reads, through sharp), grayscale, center crops and bilinear resizing.
 */
import type { OutputInfo } from 'sharp';
import { loadSharp } from './sharp.ts';
import { type NdArray, float32 } from '../onnx/ndarray.ts';
import { DataFileError } from './errors.ts';

/** [channels, height, width], values in 0..255. */
export type Image = NdArray<Float32Array>;

function dims(image: Image): [number, number, number] {
  if (image.shape.length !== 3) throw new Error(`an image is [channels, height, width], got [${image.shape}]`);
  return image.shape as [number, number, number];
}

/**
 * Pixels an encoded image may declare: a PNG of a few hundred kilobytes can declare 16384 x 16384
 * pixels (gigabytes once decoded to floats). sharp refuses larger ones before decoding.
 */
export const MAX_IMAGE_PIXELS = 4096 * 4096;

/**
 * Decodes an encoded image to RGB [3, H, W]. Gray images are repeated over the three channels, an
 * alpha channel is dropped, 16-bit images are scaled to 8 bits; no EXIF rotation is applied (the
 * stored pixel order is what a model was fit on). `name` names the image in errors.
 */
export async function decodeImage(bytes: Uint8Array, name: string, maxPixels = MAX_IMAGE_PIXELS): Promise<Image> {
  let decoded: { data: Buffer; info: OutputInfo };
  const sharp = await loadSharp();
  try {
    // failOn 'warning' (the default) also rejects truncated JPEGs, which libjpeg would pad with gray
    decoded = await sharp(bytes, { failOn: 'warning', limitInputPixels: maxPixels }).removeAlpha().toColourspace('srgb').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  } catch (e) {
    throw new DataFileError(name, `cannot decode the image: ${(e as Error).message}`, { cause: e });
  }
  const { data, info } = decoded;
  const { width: W, height: H, channels: C } = info;
  if (C !== 3) throw new DataFileError(name, `decoded to ${C} channels, 3 were expected`);
  const out = new Float32Array(3 * H * W);
  const plane = H * W;
  for (let p = 0; p < plane; p++) {
    out[p] = data[3 * p];
    out[plane + p] = data[3 * p + 1];
    out[2 * plane + p] = data[3 * p + 2];
  }
  return float32([3, H, W], out);
}

/** [1, H, W]: the plain mean of R, G and B (not a luma weighting), as the V4 data were made. */
export function toGrayscale(image: Image): Image {
  const [C, H, W] = dims(image);
  if (C === 1) return image;
  if (C !== 3) throw new Error(`grayscale needs an RGB image, got ${C} channels`);
  const n = H * W;
  const out = new Float32Array(n);
  const d = image.data;
  for (let p = 0; p < n; p++) out[p] = (d[p] + d[n + p] + d[2 * n + p]) / 3;
  return float32([1, H, W], out);
}

/** The centered height x width window (an odd margin leaves the extra row/column at the end). */
export function centerCrop(image: Image, height: number, width: number): Image {
  const [C, H, W] = dims(image);
  if (height > H || width > W) throw new Error(`cannot crop ${H}x${W} to ${height}x${width}`);
  const top = Math.floor((H - height) / 2);
  const left = Math.floor((W - width) / 2);
  const out = new Float32Array(C * height * width);
  for (let c = 0; c < C; c++)
    for (let y = 0; y < height; y++) {
      const from = (c * H + top + y) * W + left;
      out.set(image.data.subarray(from, from + width), (c * height + y) * width);
    }
  return float32([C, height, width], out);
}

/** Source taps of bilinear resampling along one axis: half-pixel centers, edges clamped. */
function taps(n: number, m: number): { i0: Int32Array; i1: Int32Array; t: Float32Array } {
  const i0 = new Int32Array(m);
  const i1 = new Int32Array(m);
  const t = new Float32Array(m);
  const scale = n / m;
  for (let o = 0; o < m; o++) {
    const x = Math.min(Math.max((o + 0.5) * scale - 0.5, 0), n - 1);
    i0[o] = Math.floor(x);
    i1[o] = Math.min(i0[o] + 1, n - 1);
    t[o] = x - i0[o];
  }
  return { i0, i1, t };
}

/**
 * Bilinear resize with half-pixel centers and no antialiasing, as PyTorch's
 * interpolate(mode='bilinear', align_corners=False) and TensorFlow 2's resize(antialias=False).
 */
export function resizeBilinear(image: Image, height: number, width: number): Image {
  const [C, H, W] = dims(image);
  if (H === height && W === width) return image;
  const ys = taps(H, height);
  const xs = taps(W, width);
  const out = new Float32Array(C * height * width);
  const d = image.data;
  for (let c = 0; c < C; c++)
    for (let y = 0; y < height; y++) {
      const r0 = (c * H + ys.i0[y]) * W;
      const r1 = (c * H + ys.i1[y]) * W;
      const ty = ys.t[y];
      for (let x = 0; x < width; x++) {
        const tx = xs.t[x];
        const top = d[r0 + xs.i0[x]] * (1 - tx) + d[r0 + xs.i1[x]] * tx;
        const bottom = d[r1 + xs.i0[x]] * (1 - tx) + d[r1 + xs.i1[x]] * tx;
        out[(c * height + y) * width + x] = top * (1 - ty) + bottom * ty;
      }
    }
  return float32([C, height, width], out);
}

/** The largest centered window of the target's aspect ratio, resized to height x width. */
export function fitToSize(image: Image, height: number, width: number): Image {
  const [, H, W] = dims(image);
  const scale = Math.min(H / height, W / width);
  const cropped = centerCrop(image, Math.round(height * scale), Math.round(width * scale));
  return resizeBilinear(cropped, height, width);
}

/** Stacks images of one shape into a batch [N, C, H, W]. */
export function stackImages(images: readonly Image[]): NdArray<Float32Array> {
  if (images.length === 0) throw new Error('no images to stack');
  const shape = dims(images[0]);
  const n = images[0].data.length;
  const out = new Float32Array(images.length * n);
  images.forEach((image, i) => {
    if (dims(image).some((d, k) => d !== shape[k])) throw new Error(`image ${i} is [${image.shape}], image 0 is [${shape}]`);
    out.set(image.data, i * n);
  });
  return float32([images.length, ...shape], out);
}
