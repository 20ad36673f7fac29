import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { V4_DATA, v4Title } from '../testing/v4-data.ts';
import { columnOrder, readImageArchive } from './image-archive.ts';

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

describe.skipIf(!V4_DATA)(v4Title('V4 image archives'), () => {
  it('orders an archive stored out of order', async () => {
    // session 190925's zip lists image1018.jpg first
    const archive = await readImageArchive(join(V4_DATA!, 'sessions/190925/images.zip'));
    expect(archive.count).toBe(1200);
    expect(archive.names.slice(0, 2)).toEqual(['image0001.jpg', 'image0002.jpg']);
    expect(archive.names[1199]).toBe('image1200.jpg');
  });
});
