import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { dump } from 'npyjs';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { V4_DATA, v4Title } from '../testing/v4-data.ts';
import { readDataset } from './dataset.ts';
import { toGrayscale } from './images.ts';

async function datasetDir(images: number, responses: { data: Float32Array; shape: number[] }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'excite-dataset-'));
  const png = await sharp(Buffer.from([1, 2, 3]), { raw: { width: 1, height: 1, channels: 3 } }).png().toBuffer();
  const entries = Object.fromEntries(Array.from({ length: images }, (_, i) => [`image${i + 1}.png`, png]));
  await writeFile(join(dir, 'images.zip'), zipSync(entries));
  await writeFile(join(dir, 'responses.npy'), new Uint8Array(dump(responses.data, responses.shape)));
  return dir;
}

describe('readDataset', () => {
  it('pairs images with response columns', async () => {
    const dir = await datasetDir(3, { data: new Float32Array([1, 2, 3, 4, 5, 6]), shape: [2, 3] });
    const ds = await readDataset(dir);
    expect(ds.neurons).toBe(2);
    expect(ds.images.count).toBe(3);
    expect(ds.responsesRaw).toBeUndefined();
  });

  it('rejects responses whose columns do not match the images', async () => {
    const dir = await datasetDir(2, { data: new Float32Array(6), shape: [2, 3] });
    await expect(readDataset(dir)).rejects.toThrow(`${join(dir, 'responses.npy')}: has 3 image columns, but ${join(dir, 'images.zip')} holds 2 images`);
  });

  it('rejects responses of the wrong rank and a missing archive', async () => {
    const dir = await datasetDir(3, { data: new Float32Array(3), shape: [3] });
    await expect(readDataset(dir)).rejects.toThrow(/responses\.npy: has shape \(3\), \[neurons, images\] was expected/);
    await expect(readDataset(join(dir, 'nowhere'))).rejects.toThrow(/images\.zip: cannot read/);
  });

  it('checks raw responses against the means', async () => {
    const dir = await datasetDir(3, { data: new Float32Array(6), shape: [2, 3] });
    await writeFile(join(dir, 'responses_raw.npy'), new Uint8Array(dump(new Float32Array(2 * 2 * 4), [2, 2, 4])));
    await expect(readDataset(dir)).rejects.toThrow(/responses_raw\.npy: has shape \(2, 2, 4\), responses\.npy is \(2, 3\)/);
  });
});

describe.skipIf(!V4_DATA)(v4Title('V4 sessions'), () => {
  it('reads session 201025', async () => {
    const ds = await readDataset(join(V4_DATA!, 'sessions/201025'));
    expect(ds.responses).toMatchObject({ dtype: 'float32', shape: [89, 1200] });
    expect(ds.images.names[0]).toBe('image0001.jpg');
    const first = await ds.images.image(0);
    expect(first.shape).toEqual([3, 112, 112]);
    expect(Math.max(...first.data)).toBeLessThanOrEqual(255);
    expect(toGrayscale(first).shape).toEqual([1, 112, 112]);
  });

  it('reads the raw repeats of session 210325', async () => {
    const ds = await readDataset(join(V4_DATA!, 'sessions/210325'));
    expect(ds.responsesRaw?.shape.slice(0, 2)).toEqual([50, 640]);
    expect(Array.from(ds.responsesRaw!.data as Float32Array).some(Number.isNaN)).toBe(true);
  });
});
