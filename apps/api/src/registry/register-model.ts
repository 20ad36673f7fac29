/**
 * Registering a model folder: the engine checks it (inspect-model.ts), its files become blobs,
 * and one transaction writes the model, its files and its neurons, or nothing. The same files
 * register once: a second registration returns the first model.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { and, eq, inArray } from 'drizzle-orm';
import { type NeuronRef, pathInside } from '@excite/engine';
import type { Database, Db } from '../db/database.ts';
import { type ModelKind, type ModelSource, modelFiles, modelNeurons, models, neurons } from '../db/schema.ts';
import { BlobStore, MEDIA_TYPES, type StoredBlob, recordBlobs } from '../storage/blobs.ts';
import { inspectModelFolder } from './inspect-model.ts';

export interface Registration<Row> {
  row: Row;
  /** false: the same files were registered before, `row` is that registration */
  created: boolean;
}

export type ModelRow = typeof models.$inferSelect;

export interface Registry {
  database: Database;
  blobs: BlobStore;
}

export async function registerModelFolder(registry: Registry, dir: string, options: { name?: string; session?: string; source: ModelSource }): Promise<Registration<ModelRow> & { kind: ModelKind; neurons: number }> {
  const model = await inspectModelFolder(dir, options);
  const stored = await Promise.all(model.files.map(async (path) => ({ path, blob: await registry.blobs.putFile(pathInside(dir, path, join(dir, 'model.json'), 'file'), mediaTypeOf(path)) })));
  const hash = contentHash(stored.map((f) => ({ path: f.path, hash: f.blob.hash })));
  const result = await registry.database.transaction(async ({ db }) => {
    await recordBlobs(db, stored.map((f) => f.blob));
    // a concurrent registration of the same files may win: then this one is that one
    const [row] = await db
      .insert(models)
      .values({ name: model.name, kind: model.kind, source: options.source, contentHash: hash, meta: model.meta, input: model.input })
      .onConflictDoNothing({ target: models.contentHash })
      .returning();
    if (!row) return { row: (await db.select().from(models).where(eq(models.contentHash, hash)))[0], created: false };
    await db.insert(modelFiles).values(stored.map((f) => ({ modelId: row.id, path: f.path, blob: f.blob.hash })));
    if (model.neurons.length) {
      const ids = await neuronIds(db, model.neurons);
      await db.insert(modelNeurons).values(model.neurons.map((n, column) => ({ modelId: row.id, neuronId: ids.get(neuronKey(n))!, column })));
    }
    return { row, created: true };
  });
  return { ...result, kind: model.kind, neurons: model.neurons.length };
}

export const neuronKey = (n: { session: string; neuron: number }) => `${n.session}:${n.neuron}`;

/** Ids of neurons, created where new. */
export async function neuronIds(db: Db, refs: readonly NeuronRef[]): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  const sessions = [...new Set(refs.map((r) => r.session))];
  for (const session of sessions) {
    const indices = [...new Set(refs.filter((r) => r.session === session).map((r) => r.neuron))];
    // in chunks: a statement's parameters are limited (65535)
    for (let i = 0; i < indices.length; i += 5000) {
      const chunk = indices.slice(i, i + 5000);
      await db
        .insert(neurons)
        .values(chunk.map((index) => ({ session, index })))
        .onConflictDoNothing();
      const rows = await db
        .select()
        .from(neurons)
        .where(and(eq(neurons.session, session), inArray(neurons.index, chunk)));
      for (const r of rows) ids.set(neuronKey({ session: r.session, neuron: r.index }), r.id);
    }
  }
  return ids;
}

/** SHA-256 over the sorted (path, blob hash) pairs. */
export function contentHash(files: readonly { path: string; hash: string }[]): string {
  const h = createHash('sha256');
  for (const f of [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) h.update(`${f.path}\0${f.hash}\n`);
  return h.digest('hex');
}

export function mediaTypeOf(path: string): string {
  if (path.endsWith('.json')) return MEDIA_TYPES.json;
  if (path.endsWith('.safetensors')) return MEDIA_TYPES.safetensors;
  if (path.endsWith('.npy')) return MEDIA_TYPES.npy;
  if (path.endsWith('.zip')) return MEDIA_TYPES.zip;
  if (path.endsWith('.png')) return MEDIA_TYPES.png;
  return MEDIA_TYPES.binary;
}

export type { StoredBlob };
