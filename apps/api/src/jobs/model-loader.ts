/**
 * A worker's models and datasets: their files are materialized from the blob store into
 * `<data>/cache/<models|datasets>/<id>/` (hard links where possible) and loaded by the engine; the last few
 * loaded stay in memory, since consecutive jobs mostly use the same generator and prior. Nothing
 * stored is trusted more than an upload: file paths must stay inside the folder, an ensemble's
 * members inside its own (the engine checks them again as it loads), archives within their limits.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { eq } from 'drizzle-orm';
import { ARCHIVE_LIMITS, type ArchiveLimits, type ImageArchive, type Prior, loadPrior, pathExists, pathInside, readImageArchive, type ScoringModel, loadScoringModel } from '@excite/engine';
import type { Database } from '../db/database.ts';
import { datasetFiles, datasets, modelFiles, models } from '../db/schema.ts';
import type { ModelMeta } from '../registry/inspect-model.ts';
import type { BlobStore } from '../storage/blobs.ts';

export type ModelRow = typeof models.$inferSelect;

export interface LoadedEncoder {
  row: ModelRow;
  scoring: ScoringModel;
  meta: ModelMeta;
}

export interface LoadedDataset {
  row: typeof datasets.$inferSelect;
  archive: ImageArchive;
}

/** A small LRU of promises: concurrent requests share one load; a failed load is forgotten. */
class Cache<T> {
  private readonly entries = new Map<string, Promise<T>>();
  constructor(private readonly capacity: number) {}

  get(key: string, load: () => Promise<T>): Promise<T> {
    let entry = this.entries.get(key);
    if (entry) {
      this.entries.delete(key);
      this.entries.set(key, entry);
      return entry;
    }
    entry = load();
    entry.catch(() => this.entries.get(key) === entry && this.entries.delete(key));
    this.entries.set(key, entry);
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
    return entry;
  }
}

export class ModelLoader {
  private readonly encoders = new Cache<LoadedEncoder>(8);
  private readonly priors = new Cache<Prior>(2);
  private readonly datasets = new Cache<LoadedDataset>(2);

  constructor(
    private readonly database: Database,
    private readonly blobs: BlobStore,
    private readonly cacheDir: string,
    private readonly archiveLimits: ArchiveLimits = ARCHIVE_LIMITS,
  ) {}

  /** An encoder or ensemble; a compact model's one neuron (compact models are evaluated per neuron: each is its own network). */
  encoder(modelId: string, compactNeuron?: number): Promise<LoadedEncoder> {
    return this.encoders.get(`${modelId}:${compactNeuron ?? ''}`, async () => {
      const row = await this.row(modelId);
      const meta = row.meta as ModelMeta;
      const dir = await this.materialize('models', modelId, modelFiles, modelFiles.modelId);
      if (row.kind === 'compact') {
        if (compactNeuron === undefined) throw new Error(`${row.name} is a compact model: load it per neuron`);
        const file = join(dir, `neuron${compactNeuron}.safetensors`);
        return { row, meta, scoring: await loadScoringModel(file, { compactSession: meta.session }) };
      }
      return { row, meta, scoring: await loadScoringModel(dir) };
    });
  }

  prior(modelId: string): Promise<Prior> {
    return this.priors.get(modelId, async () => loadPrior(await this.materialize('models', modelId, modelFiles, modelFiles.modelId)));
  }

  dataset(datasetId: string): Promise<LoadedDataset> {
    return this.datasets.get(datasetId, async () => {
      const [row] = await this.database.db.select().from(datasets).where(eq(datasets.id, datasetId));
      if (!row) throw new Error(`dataset ${datasetId} is not registered`);
      const dir = await this.materialize('datasets', datasetId, datasetFiles, datasetFiles.datasetId);
      return { row, archive: await readImageArchive(join(dir, 'images.zip'), this.archiveLimits) };
    });
  }

  /** A model's folder as uploaded (a READOUT training's core). */
  modelFolder(modelId: string): Promise<string> {
    return this.materialize('models', modelId, modelFiles, modelFiles.modelId);
  }

  /** A dataset's folder (images.zip, responses.npy): what the engine's trainers read. */
  datasetFolder(datasetId: string): Promise<string> {
    return this.materialize('datasets', datasetId, datasetFiles, datasetFiles.datasetId);
  }

  private async row(modelId: string): Promise<ModelRow> {
    const [row] = await this.database.db.select().from(models).where(eq(models.id, modelId));
    if (!row) throw new Error(`model ${modelId} is not registered`);
    return row;
  }

  /** The folder of a model's or dataset's files, built aside and renamed into place whole. */
  private async materialize(kind: string, id: string, table: typeof modelFiles | typeof datasetFiles, owner: typeof modelFiles.modelId | typeof datasetFiles.datasetId): Promise<string> {
    const dir = join(this.cacheDir, kind, id);
    if (await pathExists(dir)) return dir;
    const files = await this.database.db.select({ path: table.path, blob: table.blob }).from(table).where(eq(owner, id));
    if (files.length === 0) throw new Error(`${kind.slice(0, -1)} ${id} has no files`);
    const building = `${dir}.${randomUUID()}`;
    try {
      // a stored path is written only inside the folder (rows written before paths were checked may say otherwise)
      for (const f of files) await this.blobs.materialize(f.blob, pathInside(building, f.path, `${kind.slice(0, -1)} ${id}`, 'file'));
      await mkdir(dirname(dir), { recursive: true });
      await rename(building, dir);
    } catch (e) {
      await rm(building, { recursive: true, force: true });
      // another worker sharing the data directory got there first
      if (!(await pathExists(dir))) throw e;
    }
    return dir;
  }
}

