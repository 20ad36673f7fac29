/**
 * A dataset's `images.zip` (docs/formats.md, Dataset folders): JPEG/PNG entries ordered by the
 * number in their file name; the k-th in that order (imageK.jpg) is column k - 1 of the responses.
 * Entries are inflated once, in memory (fflate), and decoded on use.
 */
import { readFile } from 'node:fs/promises';
import { posix } from 'node:path';
import { unzipSync } from 'fflate';
import { DataFileError } from './errors.ts';
import { type Image, decodeImage } from './images.ts';

const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png']);

export interface ImageArchive {
  readonly file: string;
  /** entry names in column order */
  readonly names: readonly string[];
  readonly count: number;
  /** encoded bytes of the image in column `k` (0-based) */
  bytes(k: number): Uint8Array;
  image(k: number): Promise<Image>;
  /** images of columns [start, end) */
  images(start?: number, end?: number): Promise<Image[]>;
}

/** Whether an entry is an image of the dataset (not a folder, macOS metadata or a hidden file). */
function isImageEntry(name: string): boolean {
  const base = posix.basename(name);
  if (name.endsWith('/') || name.startsWith('__MACOSX/') || base.startsWith('.')) return false;
  return IMAGE_EXTENSIONS.has(posix.extname(base).toLowerCase());
}

/** The number in an entry's file name: its last run of digits ("images_201025/image0012.jpg" is 12). */
function imageNumber(name: string): number | undefined {
  const digits = posix.basename(name, posix.extname(name)).match(/\d+/g);
  return digits ? Number(digits[digits.length - 1]) : undefined;
}

/** Orders a zip's image entries by the numbers in their names; other entries are left out. */
export function columnOrder(file: string, entryNames: readonly string[]): string[] {
  const numbered = entryNames.filter(isImageEntry).map((name) => {
    const number = imageNumber(name);
    if (number === undefined) throw new DataFileError(file, `entry "${name}" has no number in its file name, so its column is unknown`);
    return { name, number };
  });
  if (numbered.length === 0) throw new DataFileError(file, 'holds no JPEG or PNG images');
  numbered.sort((a, b) => a.number - b.number);
  for (let i = 1; i < numbered.length; i++) {
    if (numbered[i].number === numbered[i - 1].number) {
      throw new DataFileError(file, `entries "${numbered[i - 1].name}" and "${numbered[i].name}" have the same number ${numbered[i].number}`);
    }
  }
  return numbered.map((e) => e.name);
}

export async function readImageArchive(file: string): Promise<ImageArchive> {
  let zipped: Uint8Array;
  try {
    zipped = await readFile(file);
  } catch (e) {
    throw new DataFileError(file, `cannot read: ${(e as Error).message}`, { cause: e });
  }
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(zipped, { filter: (f) => isImageEntry(f.name) });
  } catch (e) {
    throw new DataFileError(file, `not a readable zip archive (${(e as Error).message})`, { cause: e });
  }
  const names = columnOrder(file, Object.keys(entries));
  const bytes = (k: number): Uint8Array => {
    if (!Number.isInteger(k) || k < 0 || k >= names.length) throw new RangeError(`${file}: image index ${k} is outside 0..${names.length - 1}`);
    return entries[names[k]];
  };
  const image = (k: number) => decodeImage(bytes(k), `${file}[${names[k]}]`);
  return {
    file,
    names,
    count: names.length,
    bytes,
    image,
    images: (start = 0, end = names.length) => Promise.all(Array.from({ length: Math.max(end - start, 0) }, (_, i) => image(start + i))),
  };
}
