import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { V4_DATA, v4Title } from '../testing/v4-data.ts';
import { dataErrorCode } from './errors.ts';
import { ARCHIVE_LIMITS, columnOrder, readImageArchive } from './image-archive.ts';
import { decodeImage } from './images.ts';

async function zipFile(entries: Record<string, Uint8Array>): Promise<string> {
  const file = join(await mkdtemp(join(tmpdir(), 'excite-zip-')), 'images.zip');
  await writeFile(file, zipSync(entries));
  return file;
}

/** A 1x1 PNG of one gray level. */
const pixel = (v: number) => sharp(Buffer.from([v, v, v]), { raw: { width: 1, height: 1, channels: 3 } }).png().toBuffer();

describe('columnOrder', () => {
  it('sorts images by the number in the file name, leaving other entries out', () => {
    const names = ['set_2/image10.png', 'set_2/image9.JPG', '__MACOSX/set_2/._image1.png', 'set_2/', 'README.txt', 'set_2/.hidden.png', 'set_2/image0001.jpeg'];
    expect(columnOrder('x.zip', names)).toEqual(['set_2/image0001.jpeg', 'set_2/image9.JPG', 'set_2/image10.png']);
  });

  it('rejects ambiguous or unnumbered names and empty archives', () => {
    expect(() => columnOrder('x.zip', ['a/image1.png', 'b/image001.png'])).toThrow(/^x\.zip: entries "a\/image1\.png" and "b\/image001\.png" have the same number 1/);
    expect(() => columnOrder('x.zip', ['cat.png'])).toThrow(/"cat\.png" has no number/);
    expect(() => columnOrder('x.zip', ['notes.txt'])).toThrow(/holds no JPEG or PNG images/);
  });
});

describe('readImageArchive', () => {
  it('decodes images in column order', async () => {
    const file = await zipFile({ 'image2.png': await pixel(20), 'image1.png': await pixel(10), 'image3.png': await pixel(30) });
    const archive = await readImageArchive(file);
    expect(archive.names).toEqual(['image1.png', 'image2.png', 'image3.png']);
    expect((await archive.images(1)).map((im) => im.data[0])).toEqual([20, 30]);
    expect(() => archive.bytes(3)).toThrow(RangeError);
  });

  it('names the archive and the entry of an image that does not decode', async () => {
    const file = await zipFile({ 'image1.png': await pixel(1), 'image2.jpg': new TextEncoder().encode('not a jpeg') });
    const archive = await readImageArchive(file);
    await expect(archive.image(1)).rejects.toThrow(`${file}[image2.jpg]: cannot decode the image`);
  });

  it('names a file that is not a zip archive', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'excite-zip-')), 'images.zip');
    await writeFile(file, 'plain text, not a zip');
    await expect(readImageArchive(file)).rejects.toThrow(`${file}: not a readable zip archive`);
  });
});

/** The error a promise rejects with. */
const rejection = (p: Promise<unknown>) => p.then(() => undefined, (e: Error) => e);

/** Rewrites the declared inflated size of every entry (local headers and central directory) of a zip. */
function declareSize(zip: Uint8Array, size: number): Uint8Array {
  const out = Uint8Array.from(zip);
  const view = new DataView(out.buffer);
  for (let i = 0; i + 4 <= out.length; i++) {
    const signature = view.getUint32(i, true);
    if (signature === 0x04034b50) view.setUint32(i + 22, size, true);
    if (signature === 0x02014b50) view.setUint32(i + 24, size, true);
  }
  return out;
}

describe('readImageArchive of hostile archives', () => {
  it('refuses an entry that would inflate a thousand times its size, without inflating it', async () => {
    // 8 MiB of zeros deflate to ~8 KB: before the limits this was inflated whole, in memory, at once
    const file = await zipFile({ 'image1.png': await pixel(1), 'image2.png': new Uint8Array(8 * 2 ** 20) });
    const e = await rejection(readImageArchive(file));
    expect(dataErrorCode(e)).toBe('ARCHIVE_TOO_LARGE');
    expect((e as Error).message).toMatch(/entry "image2\.png" inflates \d+ times its compressed size, more than the 100 allowed/);
  });

  it('refuses an entry that inflates to more than it declares', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'excite-zip-')), 'images.zip');
    await writeFile(file, declareSize(zipSync({ 'image1.png': new Uint8Array(4 * 2 ** 20) }), 1000));
    const e = await rejection(readImageArchive(file));
    expect(dataErrorCode(e)).toBe('ARCHIVE_TOO_LARGE');
    expect((e as Error).message).toMatch(/inflates to more than/);
  });

  it('holds the whole archive to the ratio: many small entries that each pass add up', async () => {
    // 40 entries of 512 KiB zeros: each under the 1 MiB floor of the per-entry ratio, 20 MiB in ~20 KB
    const file = await zipFile(Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`image${i}.png`, new Uint8Array(2 ** 19)])));
    const e = await rejection(readImageArchive(file));
    expect(dataErrorCode(e)).toBe('ARCHIVE_TOO_LARGE');
    expect((e as Error).message).toMatch(/the images inflate to more than 100 times the archive's \d+ bytes/);
  });

  it('holds archives to their entry count, per-entry and total inflated bytes', async () => {
    const png = await pixel(1);
    const four = await zipFile({ 'image1.png': png, 'image2.png': png, 'image3.png': png, 'image4.png': png });
    expect((await readImageArchive(four)).count).toBe(4);
    const entries = await rejection(readImageArchive(four, { ...ARCHIVE_LIMITS, maxEntries: 3 }));
    expect([dataErrorCode(entries), (entries as Error).message]).toEqual(['ARCHIVE_TOO_LARGE', `${four}: holds 4 entries, more than the 3 allowed`]);
    const entry = await rejection(readImageArchive(four, { ...ARCHIVE_LIMITS, maxEntryBytes: png.length - 1 }));
    expect(dataErrorCode(entry)).toBe('ARCHIVE_TOO_LARGE');
    const total = await rejection(readImageArchive(four, { ...ARCHIVE_LIMITS, maxTotalBytes: 3 * png.length }));
    expect([dataErrorCode(total), (total as Error).message]).toEqual(['ARCHIVE_TOO_LARGE', `${four}: the images inflate to more than the ${3 * png.length} bytes allowed`]);
  });

  it('refuses an image that declares more pixels than allowed, before decoding it', async () => {
    // ~60 KB of PNG that would decode to 4100 x 4100 x 3 floats (200 MB)
    const big = await sharp({ create: { width: 4100, height: 4100, channels: 3, background: { r: 0, g: 0, b: 0 } } }).png({ compressionLevel: 9 }).toBuffer();
    await expect(decodeImage(big, 'big.png')).rejects.toThrow(/big\.png: cannot decode the image: .*pixel limit/);
    expect((await decodeImage(await pixel(3), 'small.png')).shape).toEqual([3, 1, 1]);
  });
});

describe.skipIf(!V4_DATA)(v4Title('V4 image archives'), () => {
  it('orders an archive stored out of order', async () => {
    // session 190925's zip lists image1018.jpg first
    const archive = await readImageArchive(join(V4_DATA!, 'sessions/190925/images.zip'));
    expect(archive.count).toBe(1200);
    expect(archive.names.slice(0, 2)).toEqual(['image0001.jpg', 'image0002.jpg']);
    expect(archive.names[1199]).toBe('image1200.jpg');
  });
});
