/** Images as the PNG files the service stores and sends (8-bit, pixel space). */
import sharp from 'sharp';
import { type NdArray, float32, tileImages } from '@excite/engine';

/** A PNG of one image [C, H, W] with values 0..255 (C = 1: grayscale). */
export async function encodePng(image: NdArray<Float32Array>): Promise<Buffer> {
  const { data, width, height, channels } = tileImages(float32([1, ...image.shape], image.data), { columns: 1, padding: 0 });
  const png = sharp(data, { raw: { width, height, channels } });
  return (channels === 1 ? png.toColourspace('b-w') : png).png().toBuffer();
}
