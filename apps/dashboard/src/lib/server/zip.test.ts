import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { entryBytes, imageColumns, imageMediaType, zipEntries } from './zip.ts';

const bytes = (s: string) => new TextEncoder().encode(s);

describe('images.zip for thumbnails', () => {
  it('lists image entries in column order and reads stored and deflated ones', () => {
    const zip = zipSync({
      'set/image10.png': [bytes('ten'.repeat(50)), { level: 6 }],
      'set/image2.jpg': [bytes('two'), { level: 0 }],
      'set/.hidden3.png': bytes('x'),
      '__MACOSX/set/image1.png': bytes('y'),
      'notes.txt': bytes('z'),
      'set/image1.JPEG': [bytes('one'), { level: 0 }],
    });
    const columns = imageColumns(zipEntries(zip));
    expect(columns.map((e) => e.name)).toEqual(['set/image1.JPEG', 'set/image2.jpg', 'set/image10.png']);
    expect(new TextDecoder().decode(entryBytes(zip, columns[0]))).toBe('one');
    expect(new TextDecoder().decode(entryBytes(zip, columns[2]))).toBe('ten'.repeat(50));
    expect(columns[2].method).toBe(8);
    expect(imageMediaType(columns[2].name)).toBe('image/png');
    expect(imageMediaType(columns[0].name)).toBe('image/jpeg');
  });

  it('refuses what is not a zip', () => {
    expect(() => zipEntries(bytes('not a zip at all, just some text that is long enough'))).toThrow(/not a zip/);
  });
});
