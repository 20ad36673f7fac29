/**
 * Reads images out of a dataset's images.zip for thumbnails, on the dashboard's server, with
 * fflate: the central directory listed, then one entry inflated on demand. Columns are ordered as
 * the service orders them (docs/formats.md, Dataset folders): image entries (not folders,
 * __MACOSX/ or hidden files) by the last number in their file name. The archive was checked by the
 * service when it was uploaded; an entry is still inflated only under a cap on its size.
 */
import { type UnzipFileInfo, unzipSync } from 'fflate';

export interface ZipEntry {
  name: string;
  /** 0 stored, 8 deflated */
  method: number;
  compressedSize: number;
  size: number;
}

const MAX_ENTRY_BYTES = 16 * 2 ** 20;

const entryOf = (f: UnzipFileInfo): ZipEntry => ({ name: f.name, method: f.compression, compressedSize: f.size, size: f.originalSize });

export function zipEntries(zip: Uint8Array): ZipEntry[] {
  const out: ZipEntry[] = [];
  try {
    // a filter that keeps nothing lists the central directory without inflating
    unzipSync(zip, { filter: (f) => (out.push(entryOf(f)), false) });
  } catch (e) {
    throw new Error(`not a zip archive (${(e as Error).message})`);
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
  if (entry.size > MAX_ENTRY_BYTES) throw new Error(`${entry.name} is larger than a thumbnail is read for`);
  if (entry.method !== 0 && entry.method !== 8) throw new Error(`${entry.name}: compression method ${entry.method} is not read here`);
  const data = unzipSync(zip, { filter: (f) => f.name === entry.name })[entry.name];
  if (!data) throw new Error(`${entry.name} is not in the archive`);
  return data;
}

export const imageMediaType = (name: string) => (/\.png$/i.test(name) ? 'image/png' : 'image/jpeg');
