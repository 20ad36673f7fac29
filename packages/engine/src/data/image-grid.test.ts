import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { float32 } from '../onnx/ndarray.ts';
import { tileImages, writeImageGrid } from './image-grid.ts';

const root = mkdtempSync(join(tmpdir(), 'excite-grid-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('image grids', () => {
  // three 2x2 gray images with values 10*n + pixel index
  const images = float32([3, 1, 2, 2], Array.from({ length: 12 }, (_, i) => 10 * Math.floor(i / 4) + (i % 4)));

  it('tiles rows of images between padding, enlarged by nearest neighbour', () => {
    const { data, width, height, channels } = tileImages(images, { columns: 2, padding: 1, background: 255 });
    expect([width, height, channels]).toEqual([7, 7, 1]);
    const rows = Array.from({ length: height }, (_, y) => [...data.slice(y * width, (y + 1) * width)]);
    expect(rows[0]).toEqual([255, 255, 255, 255, 255, 255, 255]);
    expect(rows[1]).toEqual([255, 0, 1, 255, 10, 11, 255]);
    expect(rows[2]).toEqual([255, 2, 3, 255, 12, 13, 255]);
    expect(rows[4]).toEqual([255, 20, 21, 255, 255, 255, 255]); // the last row is not full
    const big = tileImages(images, { columns: 3, padding: 0, scale: 2 });
    expect([big.width, big.height]).toEqual([12, 4]);
    expect([...big.data.slice(0, 4)]).toEqual([0, 0, 1, 1]);
  });

  it('writes a PNG', async () => {
    const file = join(root, 'grid.png');
    await writeImageGrid(file, images, { scale: 3 });
    const meta = await sharp(file).metadata();
    expect([meta.format, meta.width, meta.height, meta.channels]).toEqual(['png', 30, 30, 1]);
  });
});
