/**
 * Uploads built to hurt the server, against a real service: ensemble members that lead out of the
 * folder, a zip bomb, two parts of one name, a model.json nested thousands deep, NaN weights and
 * responses, a recording without neurons. Each is refused with its own code, and leaves nothing:
 * no rows, no blob files, no temporary folder.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeNpy, float32, readSafetensors, writeSafetensors } from '@excite/engine';
import { writeImages, writeTinyEncoder } from '../testing/fixtures.ts';
import { type TestService, type UploadFile, folderFiles, startTestService, tempDir } from '../testing/harness.ts';

const TABLES = ['models', 'model_files', 'blobs', 'datasets', 'dataset_files', 'neurons', 'model_neurons'];

/** Every file under a folder (the blob store's files), relative paths. */
async function filesUnder(dir: string): Promise<string[]> {
  return ((await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => [])) as { isFile(): boolean; parentPath: string; name: string }[])
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length))
    .sort();
}

describe('hostile uploads', () => {
  let t: TestService;
  let folders: string;
  let encoder: UploadFile[];
  let images: UploadFile[];

  beforeAll(async () => {
    folders = await tempDir('hostile');
    await writeTinyEncoder(join(folders, 'encoder'));
    await writeImages(join(folders, 'images'), 3);
    encoder = await folderFiles(join(folders, 'encoder'));
    images = await folderFiles(join(folders, 'images'));
    t = await startTestService('pglite', { worker: false, limits: { rateLimitPerSecond: 0 } });
  });
  afterAll(() => t?.stop());

  /** What the service holds: table rows, blob files, temporary upload folders. */
  const state = async () => ({
    rows: await Promise.all(TABLES.map((table) => t.count(table))),
    blobFiles: await filesUnder(join(t.dataDir, 'blobs', 'sha256')),
    uploads: await readdir(join(t.dataDir, 'uploads')).catch(() => []),
  });

  /** Uploads `files`, expects `status` and `code`, and that nothing was kept. */
  async function refused(path: '/upload/model' | '/upload/dataset', files: UploadFile[], code: string, message?: RegExp) {
    const before = await state();
    const r = await t.upload(path, files);
    expect(r.body.error?.code, JSON.stringify(r.body)).toBe(code);
    expect(r.status).toBe(400);
    if (message) expect(r.body.error.message).toMatch(message);
    expect(await state()).toEqual({ ...before, uploads: [] });
    return r;
  }

  it('refuses ensemble members that lead outside the uploaded folder (PATH_OUTSIDE_FOLDER)', async () => {
    // an encoder the server has elsewhere on its disk: before the check it was read into blobs
    await writeTinyEncoder(join(t.dataDir, 'victim'), 9);
    const ensemble = (members: unknown) => ({ path: 'model.json', bytes: new TextEncoder().encode(JSON.stringify({ kind: 'ensemble', format: 1, name: 'e', members })) });
    // the upload lands in <data>/uploads/<uuid>/: two levels up is the data folder
    await refused('/upload/model', [ensemble(['../../victim'])], 'PATH_OUTSIDE_FOLDER', /member "\.\.\/\.\.\/victim" leads outside the folder/);
    await refused('/upload/model', [ensemble([join(t.dataDir, 'victim')])], 'PATH_OUTSIDE_FOLDER', /is not a relative path inside the folder/);
    await refused('/upload/model', [ensemble(['member-0/../../../victim']), ...encoder.map((f) => ({ ...f, path: `member-0/${f.path}` }))], 'PATH_OUTSIDE_FOLDER');
    // members inside the folder are fine
    const fine = await t.upload('/upload/model', [ensemble(['member-0']), ...encoder.map((f) => ({ ...f, path: `member-0/${f.path}` }))]);
    expect(fine.status, JSON.stringify(fine.body)).toBe(201);
  });

  it('refuses a zip bomb by its declared sizes, before inflating it (ARCHIVE_TOO_LARGE)', async () => {
    // 8 MiB of zeros in ~8 KB: before, the whole archive was inflated in memory, on the event loop
    const bomb = zipSync({ 'image0.png': images[0].bytes, 'image1.png': new Uint8Array(8 * 2 ** 20) }, { level: 9 });
    expect(bomb.length).toBeLessThan(100_000);
    await refused('/upload/dataset', [{ path: 'images.zip', bytes: bomb }], 'ARCHIVE_TOO_LARGE', /images\.zip: entry "image1\.png" inflates \d+ times its compressed size/);
    // the service's limits are the archive's: entries, per entry, in all
    const small = await startTestService('pglite', { worker: false, limits: { maxArchiveEntries: 2 } });
    try {
      const three = zipSync(Object.fromEntries(images.map((f, k) => [`image${k}.png`, f.bytes])));
      const r = await small.upload('/upload/dataset', [{ path: 'images.zip', bytes: three }]);
      expect([r.status, r.body.error.code, r.body.error.message]).toEqual([400, 'ARCHIVE_TOO_LARGE', 'images.zip: holds 3 entries, more than the 2 allowed']);
    } finally {
      await small.stop();
    }
  });

  it('refuses two parts of the same name instead of writing both into one file (DUPLICATE_PART)', async () => {
    const model = encoder.find((f) => f.path === 'model.json')!;
    const other = { path: 'model.json', bytes: new TextEncoder().encode(JSON.stringify({ ...JSON.parse(new TextDecoder().decode(model.bytes)), name: 'other' })) };
    await refused('/upload/model', [...encoder, other], 'DUPLICATE_PART', /the file "model\.json" is sent twice/);
    // the same path spelled another way, a file that is also a folder
    await refused('/upload/model', [...encoder, { ...other, path: './model.json' }], 'DUPLICATE_PART');
    await refused('/upload/model', [...encoder, { path: 'model.json/x', bytes: new Uint8Array([1]) }], 'DUPLICATE_PART', /"model\.json\/x" is inside "model\.json", which is sent as a file/);
    // a field twice
    const form = new FormData();
    form.append('name', 'a');
    form.append('name', 'b');
    for (const f of encoder) form.append('file', new Blob([f.bytes]), f.path);
    const res = await t.fetch('/upload/model', { method: 'POST', body: form });
    expect([res.status, ((await res.json()) as { error: { code: string } }).error.code]).toEqual([400, 'DUPLICATE_PART']);
  });

  it('refuses a model.json nested thousands deep with a 400, storing nothing (JSON_TOO_DEEP)', async () => {
    // before: registered far enough to store its blobs, then a 500 when the database got the JSON
    // a valid encoder's model.json whose metrics nest 5000 deep
    const valid = new TextDecoder().decode(encoder.find((f) => f.path === 'model.json')!.bytes).trim();
    const deep = { path: 'model.json', bytes: new TextEncoder().encode(`${valid.slice(0, -1)}, "metrics": ${'['.repeat(5000)}${']'.repeat(5000)}}`) };
    await refused('/upload/model', [deep, ...encoder.filter((f) => f.path !== 'model.json')], 'JSON_TOO_DEEP', /model\.json: nests arrays and objects 5001 deep, more than the 64 allowed/);
    const large = { path: 'model.json', bytes: new TextEncoder().encode(`{"kind": "encoder", "pad": "${'x'.repeat(9 * 2 ** 20)}"}`) };
    await refused('/upload/model', [large], 'JSON_TOO_LARGE');
  });

  it('refuses NaN weights, NaN responses and recordings without neurons (NON_FINITE_VALUES, NO_NEURONS)', async () => {
    const weightsFile = join(folders, 'encoder', 'weights.safetensors');
    const { tensors } = await readSafetensors(weightsFile);
    const nan = new Map([...tensors].map(([k, v]) => [k, float32(v.shape, new Float32Array(v.data.length).fill(NaN))]));
    const nanFile = join(folders, 'nan.safetensors');
    await writeSafetensors(nanFile, nan);
    await refused('/upload/model', [...encoder.filter((f) => f.path !== 'weights.safetensors'), { path: 'weights.safetensors', bytes: await readFile(nanFile) }], 'NON_FINITE_VALUES', /weights\.safetensors: tensor ".*" holds NaN or infinite values/);

    const responses = (shape: [number, number], fill: number) => ({ path: 'responses.npy', bytes: encodeNpy(float32(shape, new Float32Array(shape[0] * shape[1]).fill(fill))) });
    await refused('/upload/dataset', [...images, responses([2, 3], NaN)], 'NON_FINITE_VALUES', /neuron 0 has no response that is a number/);
    await refused('/upload/dataset', [...images, responses([2, 3], Infinity)], 'NON_FINITE_VALUES');
    await refused('/upload/dataset', [...images, responses([0, 3], 0)], 'NO_NEURONS', /responses\.npy: holds no neurons/);
    // a NaN here and there is a missing response, and fine
    const some = float32([2, 3], new Float32Array([1, NaN, 2, NaN, 3, 4]));
    const ok = await t.upload('/upload/dataset', [...images, { path: 'responses.npy', bytes: encodeNpy(some) }]);
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);
  });

  it('answers a model.json that is not an object, and one with members that are not paths, with 400', async () => {
    const json = (v: unknown) => [{ path: 'model.json', bytes: new TextEncoder().encode(JSON.stringify(v)) }];
    await refused('/upload/model', json([1, 2]), 'INVALID_UPLOAD', /model\.json is not a JSON object/);
    await refused('/upload/model', json({ kind: 'ensemble', format: 1, members: 'member-0' }), 'INVALID_UPLOAD', /members is not a list/);
    await refused('/upload/model', json({ kind: 'ensemble', format: 1, members: [{ a: 1 }] }), 'PATH_OUTSIDE_FOLDER', /is not a path/);
  });
});
