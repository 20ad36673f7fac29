/**
 * A dataset's `images.zip` (docs/formats.md, Dataset folders): JPEG/PNG entries ordered by the
 * number in their file name; the k-th in that order (imageK.jpg) is column k - 1 of the responses.
 *
 * An archive is untrusted: a few megabytes can declare gigabytes. It is read with yauzl from its
 * central directory, so the entry count and every entry's declared sizes (each, their total, their
 * ratios) are checked against `ArchiveLimits` before anything is inflated; entries are then
 * inflated one at a time as streams (zlib, off the event loop), and an entry that inflates to more
 * than it declared is refused as soon as it does. The image entries are kept in memory and
 * decoded on use; other entries are never inflated.
 */
import { stat } from 'node:fs/promises';
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { DataFileError } from './errors.ts';
import { type Image, decodeImage } from './images.ts';

export interface ArchiveLimits {
  /** entries of the archive (all of them, images or not) */
  maxEntries: number;
  /** inflated bytes of one image entry */
  maxEntryBytes: number;
  /** inflated bytes of all image entries together */
  maxTotalBytes: number;
  /**
   * inflated / compressed bytes of an entry over 1 MiB, and inflated bytes of all images / the
   * archive's size once they pass 1 MiB (JPEG and PNG barely compress: a high ratio is a bomb)
   */
  maxRatio: number;
}

export const ARCHIVE_LIMITS: ArchiveLimits = { maxEntries: 50_000, maxEntryBytes: 64 * 2 ** 20, maxTotalBytes: 2 * 2 ** 30, maxRatio: 100 };

/** Entries smaller than this are not held to the ratio (a tiny file may compress well). */
const RATIO_FLOOR = 2 ** 20;

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

const tooLarge = (file: string, problem: string) => new DataFileError(file, problem, { code: 'ARCHIVE_TOO_LARGE' });

/** The inflated image entries of an archive, within `limits` (see the module's comment). */
async function inflateImages(file: string, limits: ArchiveLimits): Promise<Map<string, Uint8Array>> {
  let zip: ZipFile;
  try {
    zip = await new Promise<ZipFile>((resolve, reject) => yauzl.open(file, { lazyEntries: true, autoClose: false, validateEntrySizes: true }, (e, z) => (e ? reject(e) : resolve(z))));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code) throw new DataFileError(file, `cannot read: ${(e as Error).message}`, { cause: e });
    throw new DataFileError(file, `not a readable zip archive (${(e as Error).message})`, { cause: e });
  }
  try {
    const archiveBytes = (await stat(file)).size;
    if (zip.entryCount > limits.maxEntries) throw tooLarge(file, `holds ${zip.entryCount} entries, more than the ${limits.maxEntries} allowed`);
    const entries = new Map<string, Uint8Array>();
    const images: Entry[] = [];
    const names = new Set<string>();
    let total = 0;
    const next = () =>
      new Promise<Entry | null>((resolve, reject) => {
        const onEntry = (entry: Entry) => (done(), resolve(entry));
        const onEnd = () => (done(), resolve(null));
        const onError = (e: Error) => (done(), reject(e));
        const done = () => {
          zip.off('entry', onEntry);
          zip.off('end', onEnd);
          zip.off('error', onError);
        };
        zip.once('entry', onEntry);
        zip.once('end', onEnd);
        zip.once('error', onError);
        zip.readEntry();
      });
    for (let entry = await next(); entry; entry = await next()) {
      const name = entry.fileName;
      if (!isImageEntry(name)) continue;
      const size = entry.uncompressedSize;
      if (size > limits.maxEntryBytes) throw tooLarge(file, `entry "${name}" inflates to ${size} bytes, more than the ${limits.maxEntryBytes} an entry may have`);
      if (size > RATIO_FLOOR && size > limits.maxRatio * Math.max(entry.compressedSize, 1)) throw tooLarge(file, `entry "${name}" inflates ${Math.round(size / Math.max(entry.compressedSize, 1))} times its compressed size, more than the ${limits.maxRatio} allowed`);
      if (total + size > limits.maxTotalBytes) throw tooLarge(file, `the images inflate to more than the ${limits.maxTotalBytes} bytes allowed`);
      total += size;
      // many small entries each under the floor: the archive as a whole is held to the ratio
      if (total > RATIO_FLOOR && total > limits.maxRatio * archiveBytes) throw tooLarge(file, `the images inflate to more than ${limits.maxRatio} times the archive's ${archiveBytes} bytes`);
      if (names.has(name)) throw new DataFileError(file, `entry "${name}" appears twice`);
      names.add(name);
      images.push(entry);
    }
    // the whole directory passed: only now is anything inflated, one entry at a time
    for (const entry of images) entries.set(entry.fileName, await readEntry(zip, entry, file));
    return entries;
  } catch (e) {
    if (e instanceof DataFileError) throw e;
    const message = (e as Error).message;
    // yauzl's check that an entry inflates to what it declared: a bomb that lies about its size
    if (/too many bytes/.test(message)) throw tooLarge(file, `an entry inflates to more than it declares (${message})`);
    throw new DataFileError(file, `not a readable zip archive (${message})`, { cause: e });
  } finally {
    zip.close();
  }
}

/** One entry's bytes; yauzl errors the stream if it inflates past its declared size. */
async function readEntry(zip: ZipFile, entry: Entry, file: string): Promise<Uint8Array> {
  const stream = await new Promise<Readable>((resolve, reject) => zip.openReadStream(entry, (e, s) => (e ? reject(e) : resolve(s))));
  const out = Buffer.allocUnsafe(entry.uncompressedSize);
  let at = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    if (at + chunk.length > out.length) {
      stream.destroy();
      throw tooLarge(file, `entry "${entry.fileName}" inflates to more than the ${entry.uncompressedSize} bytes it declares`);
    }
    chunk.copy(out, at);
    at += chunk.length;
  }
  if (at !== out.length) throw new DataFileError(file, `entry "${entry.fileName}" inflates to ${at} bytes, not the ${out.length} it declares`);
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

export async function readImageArchive(file: string, limits: ArchiveLimits = ARCHIVE_LIMITS): Promise<ImageArchive> {
  const inflated = await inflateImages(file, limits);
  const names = columnOrder(file, [...inflated.keys()]);
  const bytes = (k: number): Uint8Array => {
    if (!Number.isInteger(k) || k < 0 || k >= names.length) throw new RangeError(`${file}: image index ${k} is outside 0..${names.length - 1}`);
    return inflated.get(names[k])!;
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
