import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { float32 } from '../onnx/ndarray.ts';
import { centerCrop, decodeImage, fitToSize, resizeBilinear, stackImages, toGrayscale } from './images.ts';

/** Encodes interleaved 8-bit pixels [H, W, C] as PNG or JPEG. */
function encode(pixels: number[], width: number, height: number, channels: 1 | 3 | 4, format: 'png' | 'jpeg' = 'png'): Promise<Buffer> {
  const raw = sharp(Buffer.from(pixels), { raw: { width, height, channels } });
  return format === 'png' ? raw.png().toBuffer() : raw.jpeg({ quality: 90 }).toBuffer();
}

describe('decodeImage', () => {
  it('gives RGB planes [3, H, W] in 0..255', async () => {
    const png = await encode([255, 0, 10, 0, 128, 20, 1, 2, 3, 4, 5, 6], 2, 2, 3);
    const image = await decodeImage(png, 'rgb.png');
    expect(image.shape).toEqual([3, 2, 2]);
    expect(Array.from(image.data)).toEqual([255, 0, 1, 4, 0, 128, 2, 5, 10, 20, 3, 6]);
  });

  it('repeats gray over the channels and drops alpha', async () => {
    const gray = await sharp(Buffer.from([0, 100, 200, 255]), { raw: { width: 2, height: 2, channels: 1 } }).toColourspace('b-w').png().toBuffer();
    expect(Array.from((await decodeImage(gray, 'gray.png')).data)).toEqual([0, 100, 200, 255, 0, 100, 200, 255, 0, 100, 200, 255]);
    const rgba = await encode([10, 20, 30, 0, 40, 50, 60, 255], 2, 1, 4);
    expect(Array.from((await decodeImage(rgba, 'rgba.png')).data)).toEqual([10, 40, 20, 50, 30, 60]);
  });

  it('decodes JPEG', async () => {
    const jpeg = await encode(new Array(16 * 16 * 3).fill(200), 16, 16, 3, 'jpeg');
    const image = await decodeImage(jpeg, 'flat.jpg');
    expect(image.shape).toEqual([3, 16, 16]);
    expect(Math.max(...image.data.map((v) => Math.abs(v - 200)))).toBeLessThanOrEqual(1);
  });

  it('rejects bytes that are no image and truncated images, naming them', async () => {
    await expect(decodeImage(new TextEncoder().encode('hello'), 'notes.jpg')).rejects.toThrow(/^notes\.jpg: cannot decode the image: .*unsupported image format/);
    const noisy = Array.from({ length: 64 * 64 * 3 }, (_, i) => (i * 7919) % 251);
    const jpeg = await encode(noisy, 64, 64, 3, 'jpeg');
    await expect(decodeImage(jpeg.subarray(0, jpeg.length >> 1), 'cut.jpg')).rejects.toThrow(/^cut\.jpg: cannot decode the image: .*premature end/);
    const png = await encode(noisy, 64, 64, 3);
    await expect(decodeImage(png.subarray(0, png.length >> 1), 'cut.png')).rejects.toThrow(/^cut\.png: cannot decode/);
  });
});

describe('image transforms', () => {
  const rgb = float32([3, 1, 2], [30, 0, 60, 3, 90, 255]);

  it('grayscale is the plain mean of R, G and B', () => {
    const g = toGrayscale(rgb);
    expect(g.shape).toEqual([1, 1, 2]);
    expect(Array.from(g.data)).toEqual([60, 86]);
  });

  it('center crop keeps the middle (extra margin at the end)', () => {
    const x = float32([1, 4, 5], Array.from({ length: 20 }, (_, i) => i));
    const c = centerCrop(x, 2, 2);
    expect(c.shape).toEqual([1, 2, 2]);
    expect(Array.from(c.data)).toEqual([6, 7, 11, 12]);
    expect(() => centerCrop(x, 5, 2)).toThrow(/cannot crop/);
  });

  it('bilinear resize uses half-pixel centers (PyTorch align_corners=False)', () => {
    const x = float32([1, 2, 2], [0, 10, 20, 30]);
    // torch.nn.functional.interpolate(x, size=(4, 4), mode='bilinear', align_corners=False)
    expect(Array.from(resizeBilinear(x, 4, 4).data)).toEqual([0, 2.5, 7.5, 10, 5, 7.5, 12.5, 15, 15, 17.5, 22.5, 25, 20, 22.5, 27.5, 30]);
    expect(Array.from(resizeBilinear(resizeBilinear(x, 4, 4), 2, 2).data)).toEqual([3.75, 11.25, 18.75, 26.25]);
    expect(resizeBilinear(x, 2, 2)).toBe(x);
  });

  it('fits any aspect ratio to a target size', () => {
    const wide = float32([3, 40, 60], new Float32Array(3 * 40 * 60).fill(7));
    const fitted = fitToSize(wide, 112, 112);
    expect(fitted.shape).toEqual([3, 112, 112]);
    expect(fitted.data.every((v) => v === 7)).toBe(true);
  });

  it('stacks a batch', () => {
    expect(stackImages([rgb, rgb]).shape).toEqual([2, 3, 1, 2]);
    expect(() => stackImages([rgb, toGrayscale(rgb)])).toThrow(/image 1 is \[1,1,2\]/);
  });
});
