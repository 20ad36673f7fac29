/**
 * A dataset directory (a contract: docs/formats.md, Dataset folders): `images.zip`, `responses.npy` [neurons,
 * images] (float32 or float64) and optionally `responses_raw.npy` [neurons, images, repeats] with
 * NaN for missing repeats. Column k of the responses belongs to image k of the archive's order.
 */
import { join } from 'node:path';
import type { NdArray } from '../onnx/ndarray.ts';
import { DataFileError } from './errors.ts';
import { type ImageArchive, readImageArchive } from './image-archive.ts';
import { readNpy } from './npy.ts';
import { pathExists } from './paths.ts';

export interface Dataset {
  readonly dir: string;
  readonly images: ImageArchive;
  /** [neurons, images]: mean responses over repeats */
  readonly responses: NdArray;
  /** [neurons, images, repeats], NaN where a repeat is missing */
  readonly responsesRaw?: NdArray;
  readonly neurons: number;
}

function checkFloat(file: string, a: NdArray, rank: number, layout: string): void {
  if (a.dtype !== 'float32' && a.dtype !== 'float64') throw new DataFileError(file, `is ${a.dtype}, float32 or float64 was expected`);
  if (a.shape.length !== rank) throw new DataFileError(file, `has shape (${a.shape.join(', ')}), ${layout} was expected`);
}

export async function readDataset(dir: string): Promise<Dataset> {
  const responsesFile = join(dir, 'responses.npy');
  const rawFile = join(dir, 'responses_raw.npy');
  const [images, responses, responsesRaw] = await Promise.all([
    readImageArchive(join(dir, 'images.zip')),
    readNpy(responsesFile),
    pathExists(rawFile).then((present) => (present ? readNpy(rawFile) : undefined)),
  ]);
  checkFloat(responsesFile, responses, 2, '[neurons, images]');
  const [neurons, columns] = responses.shape;
  if (columns !== images.count) throw new DataFileError(responsesFile, `has ${columns} image columns, but ${images.file} holds ${images.count} images`);
  if (responsesRaw) {
    checkFloat(rawFile, responsesRaw, 3, '[neurons, images, repeats]');
    if (responsesRaw.shape[0] !== neurons || responsesRaw.shape[1] !== columns) {
      throw new DataFileError(rawFile, `has shape (${responsesRaw.shape.join(', ')}), responses.npy is (${neurons}, ${columns})`);
    }
  }
  return { dir, images, responses, responsesRaw, neurons };
}
