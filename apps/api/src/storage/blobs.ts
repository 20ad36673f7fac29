/**
 * Content-addressed blobs on disk: `<data>/blobs/sha256/ab/cd/abcd…` holds the bytes whose SHA-256
 * is abcd…; the database's `blobs` table holds the hash, size and media type. Writes go to a
 * temporary file first and are renamed into place, so a reader never sees half a blob and two
 * writers of the same bytes agree. Files are never changed, only added (a blob nobody references
 * is garbage, never corruption; storage/leftovers.ts collects it at start-up once it is old).
 * Storing bytes that are there already refreshes the file's time: they are about to be referenced.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, link, mkdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { pathExists } from '@excite/engine';
import type { Db } from '../db/database.ts';
import { blobs } from '../db/schema.ts';

export const MEDIA_TYPES = {
  png: 'image/png',
  npy: 'application/x-npy',
  safetensors: 'application/x-safetensors',
  json: 'application/json',
  zip: 'application/zip',
  binary: 'application/octet-stream',
} as const;

export interface StoredBlob {
  hash: string;
  size: number;
  mediaType: string;
}

const HASH = /^[0-9a-f]{64}$/;

export class BlobStore {
  constructor(readonly root: string) {}

  static isHash(value: string): boolean {
    return HASH.test(value);
  }

  path(hash: string): string {
    if (!HASH.test(hash)) throw new Error(`"${hash}" is not a SHA-256 blob hash`);
    return join(this.root, 'sha256', hash.slice(0, 2), hash.slice(2, 4), hash);
  }

  /** Stores bytes (no database row: see `record`). */
  async put(bytes: Uint8Array, mediaType: string): Promise<StoredBlob> {
    const hash = createHash('sha256').update(bytes).digest('hex');
    const target = this.path(hash);
    if (!(await touch(target))) {
      await mkdir(dirname(target), { recursive: true });
      const tmp = await this.tempPath();
      await writeFile(tmp, bytes);
      await rename(tmp, target);
    }
    return { hash, size: bytes.byteLength, mediaType };
  }

  /** Stores a copy of a file (never a link: the source may be rewritten in place later). */
  async putFile(file: string, mediaType: string): Promise<StoredBlob> {
    const hash = await hashFile(file);
    const target = this.path(hash);
    const { size } = await stat(file);
    if (!(await touch(target))) {
      await mkdir(dirname(target), { recursive: true });
      const tmp = await this.tempPath();
      await copyFile(file, tmp);
      await rename(tmp, target);
    }
    return { hash, size, mediaType };
  }

  read(hash: string): Promise<Buffer> {
    return readFile(this.path(hash));
  }

  /** Makes the blob appear at `file` (a hard link, or a copy across file systems). */
  async materialize(hash: string, file: string): Promise<void> {
    await mkdir(dirname(file), { recursive: true });
    if (await pathExists(file)) return;
    try {
      await link(this.path(hash), file);
    } catch {
      await copyFile(this.path(hash), file);
    }
  }

  private async tempPath(): Promise<string> {
    const dir = join(this.root, 'tmp');
    await mkdir(dir, { recursive: true });
    return join(dir, randomUUID());
  }

  /** Removes what a crash left in tmp/. */
  async clean(): Promise<void> {
    await rm(join(this.root, 'tmp'), { recursive: true, force: true });
  }
}

/** The database rows of stored blobs (present rows are left as they are). */
export async function recordBlobs(db: Db, stored: readonly StoredBlob[]): Promise<void> {
  const unique = [...new Map(stored.map((b) => [b.hash, b])).values()];
  if (unique.length === 0) return;
  await db.insert(blobs).values(unique).onConflictDoNothing();
}

export async function hashFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

/** Sets a file's times to now; false if it does not exist. */
async function touch(file: string): Promise<boolean> {
  const now = new Date();
  return utimes(file, now, now).then(
    () => true,
    () => false,
  );
}

