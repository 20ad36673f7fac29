import { createHash } from 'node:crypto';
import { readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../testing/harness.ts';
import { BlobStore } from './blobs.ts';

const root = await tempDir('blobs');
afterAll(() => rm(root, { recursive: true, force: true }));

describe('the blob store', () => {
  it('stores bytes under their SHA-256, once, and hands them out by hash', async () => {
    const store = new BlobStore(join(root, 'blobs'));
    const bytes = new TextEncoder().encode('most exciting');
    const hash = createHash('sha256').update(bytes).digest('hex');
    const a = await store.put(bytes, 'text/plain');
    const b = await store.put(bytes, 'text/plain');
    expect(a).toEqual({ hash, size: bytes.length, mediaType: 'text/plain' });
    expect(b).toEqual(a);
    expect(store.path(hash)).toBe(join(root, 'blobs', 'sha256', hash.slice(0, 2), hash.slice(2, 4), hash));
    expect(new Uint8Array(await store.read(hash))).toEqual(bytes);
    // no temporary files are left behind
    expect(await readdir(join(root, 'blobs', 'tmp'))).toEqual([]);
  });

  it('copies files in (later changes to the source do not reach the blob) and materializes them out', async () => {
    const store = new BlobStore(join(root, 'blobs'));
    const source = join(root, 'weights.safetensors');
    await writeFile(source, 'weights v1');
    const { hash, size } = await store.putFile(source, 'application/x-safetensors');
    expect(size).toBe(10);
    await writeFile(source, 'weights v2');
    expect(await readFile(store.path(hash), 'utf8')).toBe('weights v1');
    const out = join(root, 'cache', 'model', 'weights.safetensors');
    await store.materialize(hash, out);
    expect(await readFile(out, 'utf8')).toBe('weights v1');
    expect((await stat(out)).ino).toBe((await stat(store.path(hash))).ino);
  });

  it('refuses what is not a hash as a path', () => {
    expect(() => new BlobStore(root).path('../../etc/passwd')).toThrow(/not a SHA-256 blob hash/);
  });
});
