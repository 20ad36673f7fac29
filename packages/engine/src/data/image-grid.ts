/**
 * A batch of images [N, C, H, W] (C = 1 or 3, values 0..255) tiled into one PNG: rows of
 * `columns` images separated by `padding` pixels, optionally enlarged by an integer factor
 * (nearest neighbour, so pixels stay visible).
 */
import { loadSharp } from './sharp.ts';
import type { NdArray } from '../onnx/ndarray.ts';

export interface GridOptions {
  /** images per row (default ceil(sqrt(N))) */
  columns?: number;
  /** pixels between images, before scaling (default 2) */
  padding?: number;
  /** gray level of the padding (default 255) */
  background?: number;
  /** integer enlargement (default 1) */
  scale?: number;
}

/** The grid as interleaved 8-bit pixels, with its width, height and channels. */
export function tileImages(images: NdArray, options: GridOptions = {}): { data: Uint8Array; width: number; height: number; channels: 1 | 3 } {
  if (images.shape.length !== 4) throw new Error(`a grid takes images [N, C, H, W], got [${images.shape}]`);
  const [N, C, H, W] = images.shape as number[];
  if (C !== 1 && C !== 3) throw new Error(`a grid takes 1 or 3 channels, got ${C}`);
  const columns = options.columns ?? Math.ceil(Math.sqrt(N));
  const rows = Math.ceil(N / columns);
  const pad = options.padding ?? 2;
  const scale = options.scale ?? 1;
  if (!Number.isInteger(scale) || scale < 1) throw new Error(`the grid scale must be a positive integer, got ${scale}`);
  const width = (columns * W + (columns + 1) * pad) * scale;
  const height = (rows * H + (rows + 1) * pad) * scale;
  const data = new Uint8Array(width * height * C).fill(options.background ?? 255);
  const d = images.data as ArrayLike<number>;
  for (let n = 0; n < N; n++) {
    const top = (Math.floor(n / columns) * (H + pad) + pad) * scale;
    const left = ((n % columns) * (W + pad) + pad) * scale;
    for (let y = 0; y < H * scale; y++)
      for (let x = 0; x < W * scale; x++)
        for (let c = 0; c < C; c++) {
          const v = d[((n * C + c) * H + Math.floor(y / scale)) * W + Math.floor(x / scale)];
          data[((top + y) * width + left + x) * C + c] = Math.round(Math.min(255, Math.max(0, v)));
        }
  }
  return { data, width, height, channels: C as 1 | 3 };
}

/** Writes the grid of `images` (values 0..255) to a PNG file. */
export async function writeImageGrid(file: string, images: NdArray, options: GridOptions = {}): Promise<void> {
  const { data, width, height, channels } = tileImages(images, options);
  const sharp = await loadSharp();
  const image = sharp(data, { raw: { width, height, channels } });
  await (channels === 1 ? image.toColourspace('b-w') : image).png().toFile(file);
}
