/**
 * Reads images out of a dataset's images.zip for thumbnails, on the dashboard's server: the
 * central directory, then one entry inflated (node:zlib) on demand. Columns are ordered as the
 * service orders them (docs/formats.md, Dataset folders): image entries (not folders, __MACOSX/ or
 * hidden files) by the last number in their file name. The archive was checked by the service when
 * it was uploaded; an entry is still inflated with a cap on its size. No ZIP64 (the service's
 * archives of loose images are small; a larger one answers no thumbnails).
 */
import { inflateRawSync } from 'node:zlib';

export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

const MAX_ENTRY_BYTES = 16 * 2 ** 20;

export function zipEntries(zip: Uint8Array): ZipEntry[] {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 65535); i--) {
    if (view.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error('not a zip archive (no end of central directory)');
  const count = view.getUint16(eocd + 10, true);
  let p = view.getUint32(eocd + 16, true);
  if (p === 0xffffffff || count === 0xffff) throw new Error('ZIP64 archives are not read here');
  const out: ZipEntry[] = [];
  const decoder = new TextDecoder();
  for (let i = 0; i < count; i++) {
    if (view.getUint32(p, true) !== 0x02014b50) throw new Error('a broken central directory');
    const nameLength = view.getUint16(p + 28, true);
    out.push({
      name: decoder.decode(zip.subarray(p + 46, p + 46 + nameLength)),
      method: view.getUint16(p + 10, true),
      compressedSize: view.getUint32(p + 20, true),
      size: view.getUint32(p + 24, true),
      localOffset: view.getUint32(p + 42, true),
    });
    p += 46 + nameLength + view.getUint16(p + 30, true) + view.getUint16(p + 32, true);
  }
  return out;
}

const IMAGE = /\.(jpe?g|png)$/i;
const baseName = (name: string) => name.split('/').pop() ?? name;

/** The image entries in column order (by the last number in the file name). */
export function imageColumns(entries: readonly ZipEntry[]): ZipEntry[] {
  const images = entries.filter((e) => !e.name.endsWith('/') && !e.name.startsWith('__MACOSX/') && !baseName(e.name).startsWith('.') && IMAGE.test(e.name));
  const number = (e: ZipEntry) => {
    const digits = baseName(e.name).replace(/\.[^.]*$/, '').match(/\d+/g);
    return digits ? Number(digits[digits.length - 1]) : Number.POSITIVE_INFINITY;
  };
  return images.map((e) => ({ e, n: number(e) })).sort((a, b) => a.n - b.n).map((x) => x.e);
}

export function entryBytes(zip: Uint8Array, entry: ZipEntry): Uint8Array {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const p = entry.localOffset;
  if (view.getUint32(p, true) !== 0x04034b50) throw new Error(`a broken local header for ${entry.name}`);
  const start = p + 30 + view.getUint16(p + 26, true) + view.getUint16(p + 28, true);
  const data = zip.subarray(start, start + entry.compressedSize);
  if (entry.size > MAX_ENTRY_BYTES) throw new Error(`${entry.name} is larger than a thumbnail is read for`);
  if (entry.method === 0) return data;
  if (entry.method === 8) return new Uint8Array(inflateRawSync(data, { maxOutputLength: MAX_ENTRY_BYTES }));
  throw new Error(`${entry.name}: compression method ${entry.method} is not read here`);
}

export const imageMediaType = (name: string) => (/\.png$/i.test(name) ? 'image/png' : 'image/jpeg');
