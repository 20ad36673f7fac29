/**
 * What a crash leaves behind, removed at start-up:
 *
 * - uploads/<uuid>/: an upload that was being received or registered;
 * - cache/<models|datasets>/<id>.<uuid>/: a model's files being materialized;
 * - blobs/tmp/ (BlobStore.clean): a blob being written;
 * - unreferenced blobs: files under blobs/sha256/ and rows of the `blobs` table nobody needs.
 *
 * A blob is referenced when a row of model_files or dataset_files names it, or a run's
 * energy_trace or activation_trace, or an image's png or array (every column that references
 * the blobs table). Run checkpoints are kept in the database itself (run_checkpoints.tensors) and
 * name no blob. A blob is collected only when it is unreferenced AND older than the grace period
 * (its row's created_at and its file's modification time): a blob written just before its rows
 * (a registration between storing its files and its transaction, a run's images between storing
 * and recording them) is young, so it stays. Writing a blob that already exists refreshes its
 * file's time (BlobStore), so bytes about to be referenced again are young too.
 *
 * The embedded database belongs to one process, so at its start nothing is in flight: every
 * upload and cache leftover goes whatever its age. With PostgreSQL other processes may share the
 * data folder; there leftovers go only once older than the grace period too.
 */
import { readdir, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Database } from '../db/database.ts';
import { BlobStore } from './blobs.ts';

/** Where blobs are referenced: every column with a foreign key to blobs(hash). */
export const BLOB_REFERENCES: readonly { table: string; column: string }[] = [
  { table: 'model_files', column: 'blob' },
  { table: 'dataset_files', column: 'blob' },
  { table: 'runs', column: 'energy_trace' },
  { table: 'runs', column: 'activation_trace' },
  { table: 'images', column: 'png' },
  { table: 'images', column: 'array' },
];

export interface LeftoverReport {
  uploads: number;
  cacheFolders: number;
  /** rows of the blobs table removed (and their files) */
  blobRows: number;
  /** files under blobs/sha256 without a row, removed */
  blobFiles: number;
}

export async function collectLeftovers(o: { database: Database; blobs: BlobStore; dataDir: string; graceSeconds: number; now?: Date }): Promise<LeftoverReport> {
  const now = o.now ?? new Date();
  const cutoff = now.getTime() - o.graceSeconds * 1000;
  const soleOwner = o.database.kind === 'pglite';
  const old = async (path: string) => (await stat(path).catch(() => undefined))?.mtimeMs ?? Infinity;
  const report: LeftoverReport = { uploads: 0, cacheFolders: 0, blobRows: 0, blobFiles: 0 };

  // interrupted uploads
  const uploads = join(o.dataDir, 'uploads');
  for (const entry of await readdir(uploads).catch(() => [])) {
    const path = join(uploads, entry);
    if (soleOwner || (await old(path)) < cutoff) {
      await rm(path, { recursive: true, force: true });
      report.uploads++;
    }
  }
  // interrupted materializations: <id>.<uuid> beside the finished <id>
  for (const kind of ['models', 'datasets']) {
    const dir = join(o.dataDir, 'cache', kind);
    for (const entry of await readdir(dir).catch(() => [])) {
      if (!entry.includes('.')) continue;
      const path = join(dir, entry);
      if (soleOwner || (await old(path)) < cutoff) {
        await rm(path, { recursive: true, force: true });
        report.cacheFolders++;
      }
    }
  }

  // rows nobody references, older than the grace period (the foreign keys refuse the rest anyway)
  const unreferenced = BLOB_REFERENCES.map((r) => `NOT EXISTS (SELECT 1 FROM ${r.table} WHERE ${r.table}.${r.column} = blobs.hash)`).join(' AND ');
  const { rows } = await o.database.executeSql(`DELETE FROM blobs WHERE created_at < $1 AND ${unreferenced} RETURNING hash`, [new Date(cutoff).toISOString()]);
  const removedRows = new Set(rows.map((r) => r.hash as string));
  report.blobRows = removedRows.size;

  // files: those whose row went, and those that never had one, unless written (or re-written) lately
  const shards = join(o.blobs.root, 'sha256');
  // one query per first-level shard (256 at most), not per file
  for (const a of await readdir(shards).catch(() => [])) {
    const names: string[] = [];
    for (const b of await readdir(join(shards, a)).catch(() => [])) names.push(...(await readdir(join(shards, a, b)).catch(() => [])).filter((h) => BlobStore.isHash(h)));
    if (names.length === 0) continue;
    const { rows: present } = await o.database.executeSql(`SELECT hash FROM blobs WHERE hash = ANY($1)`, [names]);
    const recorded = new Set(present.map((r) => r.hash as string));
    for (const hash of names) {
      if (recorded.has(hash)) continue;
      const file = o.blobs.path(hash);
      if ((await old(file)) >= cutoff) continue;
      await unlink(file).catch(() => undefined);
      if (!removedRows.has(hash)) report.blobFiles++;
    }
  }
  return report;
}
