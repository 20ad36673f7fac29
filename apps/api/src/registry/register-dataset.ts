/**
 * Registering an image set or a recording (docs/formats.md, Dataset folders): `images.zip`, or
 * loose JPEG/PNG files that are packed into one (ordered by the numbers in their names, else by
 * name), and optionally `responses.npy` [neurons, images]. Every image is decoded before anything
 * is stored; one transaction writes the dataset and its files, or nothing.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { zipSync } from 'fflate';
import { eq } from 'drizzle-orm';
import { type ArchiveLimits, DataFileError, decodeNpy, readImageArchive } from '@excite/engine';
import { datasetFiles, datasets } from '../db/schema.ts';
import { recordBlobs } from '../storage/blobs.ts';
import { type Registration, type Registry, contentHash, mediaTypeOf } from './register-model.ts';

export type DatasetRow = typeof datasets.$inferSelect;

export class DatasetFolderError extends Error {
  override name = 'DatasetFolderError';
}

const IMAGE = /\.(jpe?g|png)$/i;

export async function registerDatasetFolder(registry: Registry, dir: string, options: { name: string; maxImages: number; archive?: ArchiveLimits }): Promise<Registration<DatasetRow>> {
  const entries = await readdir(dir);
  const loose = entries.filter((f) => IMAGE.test(f));
  if (!entries.includes('images.zip')) {
    if (loose.length === 0) throw new DatasetFolderError('no images.zip and no JPEG or PNG files');
    await writeFile(join(dir, 'images.zip'), packImages(loose, await Promise.all(loose.map((f) => readFile(join(dir, f))))));
  } else if (loose.length) throw new DatasetFolderError('both images.zip and loose image files: send one or the other');
  const fail = (e: unknown): never => {
    throw new DatasetFolderError((e as Error).message.split(`${dir}/`).join(''), { cause: e });
  };
  const archive = await readImageArchive(join(dir, 'images.zip'), options.archive).catch(fail);
  if (archive.count > options.maxImages) throw new DatasetFolderError(`images.zip holds ${archive.count} images, more than the ${options.maxImages} a dataset may have`);
  for (let k = 0; k < archive.count; k++) await archive.image(k).catch(fail);
  let neuronCount: number | null = null;
  if (entries.includes('responses.npy')) {
    const npy = await readFile(join(dir, 'responses.npy')).then((b) => decodeNpy(b, 'responses.npy')).catch(fail);
    if (npy.shape.length !== 2 || (npy.dtype !== 'float32' && npy.dtype !== 'float64')) throw new DatasetFolderError(`responses.npy is ${npy.dtype} (${npy.shape.join(', ')}), float32 or float64 [neurons, images] was expected`);
    if (npy.shape[1] !== archive.count) throw new DatasetFolderError(`responses.npy has ${npy.shape[1]} image columns, images.zip holds ${archive.count} images`);
    neuronCount = npy.shape[0];
    if (neuronCount === 0) fail(new DataFileError('responses.npy', 'holds no neurons (shape 0 x images): send the images alone for an image set', { code: 'NO_NEURONS' }));
    checkResponses(npy.data as Float32Array | Float64Array, neuronCount, archive.count);
  }
  const files = ['images.zip', ...(neuronCount === null ? [] : ['responses.npy'])];
  const stored = await Promise.all(files.map(async (path) => ({ path, blob: await registry.blobs.putFile(join(dir, path), mediaTypeOf(path)) })));
  const hash = contentHash(stored.map((f) => ({ path: f.path, hash: f.blob.hash })));
  return registry.database.transaction(async ({ db }) => {
    await recordBlobs(db, stored.map((f) => f.blob));
    const [row] = await db
      .insert(datasets)
      .values({ name: options.name, kind: neuronCount === null ? 'images' : 'recording', contentHash: hash, imageCount: archive.count, neuronCount })
      .onConflictDoNothing({ target: datasets.contentHash })
      .returning();
    if (!row) return { row: (await db.select().from(datasets).where(eq(datasets.contentHash, hash)))[0], created: false };
    await db.insert(datasetFiles).values(stored.map((f) => ({ datasetId: row.id, path: f.path, blob: f.blob.hash })));
    return { row, created: true };
  });
}

/**
 * Responses are numbers: NaN marks a missing response, but a neuron with no response at all, or
 * an infinite one, is refused (NON_FINITE_VALUES).
 */
function checkResponses(data: Float32Array | Float64Array, neurons: number, images: number): void {
  for (let n = 0; n < neurons; n++) {
    let finite = 0;
    for (let k = n * images; k < (n + 1) * images; k++) {
      const v = data[k];
      if (v === Infinity || v === -Infinity) throw new DatasetFolderError(`responses.npy: neuron ${n} has an infinite response at image ${k - n * images}`, { cause: new DataFileError('responses.npy', 'infinite', { code: 'NON_FINITE_VALUES' }) });
      if (v === v) finite++;
    }
    if (finite === 0) throw new DatasetFolderError(`responses.npy: neuron ${n} has no response that is a number (all NaN)`, { cause: new DataFileError('responses.npy', 'all NaN', { code: 'NON_FINITE_VALUES' }) });
  }
}

/** Loose images as an images.zip whose entry k is the k-th file in order (imageK.ext). */
function packImages(names: string[], bytes: Uint8Array[]): Uint8Array {
  const number = (name: string) => {
    const digits = name.match(/\d+/g);
    return digits ? Number(digits[digits.length - 1]) : undefined;
  };
  const numbered = names.every((n) => number(n) !== undefined) && new Set(names.map(number)).size === names.length;
  const order = names.map((name, i) => ({ name, i })).sort((a, b) => (numbered ? number(a.name)! - number(b.name)! : a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  // stored, not deflated: JPEG and PNG are compressed already
  return zipSync(Object.fromEntries(order.map(({ name, i }, k) => [`image${k}${extname(name).toLowerCase()}`, [bytes[i], { level: 0 }]])));
}
