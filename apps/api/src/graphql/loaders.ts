/** Batch loaders: the rows a response needs, one query per kind rather than one per field. */
import DataLoader from 'dataloader';
import { and, asc, count, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../db/database.ts';
import { type RunStatus, apiTokens, batches, blobs, datasetFiles, datasets, images, modelFiles, modelNeurons, models, neurons, recordedResponses, recordingStimuli, recordings, runs, scores, trainings } from '../db/schema.ts';
import { isUuid } from '../db/uuid.ts';
import type { BatchRow, BlobRow, CellParent, DatasetRow, FileRow, ImageRow, ModelRow, NeuronRow, RecordedResponseRow, RecordingRow, RunRow, TrainingRow } from './mappers.ts';

export type RunCounts = Record<RunStatus, number>;

export interface Loaders {
  model: DataLoader<string, ModelRow | undefined>;
  neuron: DataLoader<string, NeuronRow | undefined>;
  dataset: DataLoader<string, DatasetRow | undefined>;
  batch: DataLoader<string, BatchRow | undefined>;
  run: DataLoader<string, RunRow | undefined>;
  training: DataLoader<string, TrainingRow | undefined>;
  image: DataLoader<string, ImageRow | undefined>;
  blob: DataLoader<string, BlobRow | undefined>;
  modelFiles: DataLoader<string, FileRow[]>;
  datasetFiles: DataLoader<string, FileRow[]>;
  imagesOfRun: DataLoader<string, ImageRow[]>;
  scoresOfImage: DataLoader<string, { evaluatorId: string; value: number }[]>;
  neuronCount: DataLoader<string, number>;
  modelsOfNeuron: DataLoader<string, ModelRow[]>;
  runCounts: DataLoader<string, RunCounts>;
  /** a batch's score statistics of its succeeded runs, per generator, evaluator and method (comparison cells) */
  scoreStatsOfBatch: DataLoader<string, CellParent[]>;
  recording: DataLoader<string, RecordingRow | undefined>;
  /** an image's recorded responses of its own neuron, oldest recording first */
  recordedOfImage: DataLoader<string, RecordedResponseRow[]>;
  /** a token's name (who imported a recording) */
  tokenName: DataLoader<string, string | undefined>;
  /** a recording's neurons, in the order of its rows */
  neuronsOfRecording: DataLoader<string, NeuronRow[]>;
}

function byKey<K, V, R>(keys: readonly K[], rows: R[], key: (r: R) => K, value: (r: R) => V): (V | undefined)[] {
  const map = new Map(rows.map((r) => [key(r), value(r)]));
  return keys.map((k) => map.get(k));
}

function grouped<K, R>(keys: readonly K[], rows: R[], key: (r: R) => K): R[][] {
  const map = new Map<K, R[]>(keys.map((k) => [k, []]));
  for (const r of rows) map.get(key(r))?.push(r);
  return keys.map((k) => map.get(k)!);
}

/** Loads rows by uuid; an id that is not a uuid matches nothing (rather than a database error). */
const ids = (keys: readonly string[]) => keys.filter(isUuid);

export function createLoaders(db: Db, options: { cache: boolean }): Loaders {
  const loader = <V>(load: (keys: readonly string[]) => Promise<V[]>) => new DataLoader<string, V>(load, { cache: options.cache });
  return {
    model: loader(async (keys) => byKey(keys, ids(keys).length ? await db.select().from(models).where(inArray(models.id, ids(keys))) : [], (r) => r.id, (r) => r)),
    neuron: loader(async (keys) => byKey(keys, ids(keys).length ? await db.select().from(neurons).where(inArray(neurons.id, ids(keys))) : [], (r) => r.id, (r) => r)),
    dataset: loader(async (keys) => byKey(keys, ids(keys).length ? await db.select().from(datasets).where(inArray(datasets.id, ids(keys))) : [], (r) => r.id, (r) => r)),
    batch: loader(async (keys) => byKey(keys, ids(keys).length ? await db.select().from(batches).where(inArray(batches.id, ids(keys))) : [], (r) => r.id, (r) => r)),
    run: loader(async (keys) => byKey(keys, ids(keys).length ? await db.select().from(runs).where(inArray(runs.id, ids(keys))) : [], (r) => r.id, (r) => r)),
    training: loader(async (keys) => byKey(keys, ids(keys).length ? await db.select().from(trainings).where(inArray(trainings.id, ids(keys))) : [], (r) => r.id, (r) => r)),
    image: loader(async (keys) => byKey(keys, ids(keys).length ? await db.select().from(images).where(inArray(images.id, ids(keys))) : [], (r) => r.id, (r) => r)),
    blob: loader(async (keys) => byKey(keys, await db.select().from(blobs).where(inArray(blobs.hash, [...keys])), (r) => r.hash, (r) => r)),
    modelFiles: loader(async (keys) => grouped(keys, await db.select().from(modelFiles).where(inArray(modelFiles.modelId, ids(keys))).orderBy(asc(modelFiles.path)), (r) => r.modelId)),
    datasetFiles: loader(async (keys) => grouped(keys, await db.select().from(datasetFiles).where(inArray(datasetFiles.datasetId, ids(keys))).orderBy(asc(datasetFiles.path)), (r) => r.datasetId)),
    imagesOfRun: loader(async (keys) => grouped(keys, await db.select().from(images).where(inArray(images.runId, ids(keys))).orderBy(asc(images.index)), (r) => r.runId)),
    scoresOfImage: loader(async (keys) =>
      grouped(keys, await db.select().from(scores).where(inArray(scores.imageId, ids(keys))).orderBy(asc(scores.evaluatorId)), (r) => r.imageId).map((rows) => rows.map((r) => ({ evaluatorId: r.evaluatorId, value: r.value }))),
    ),
    neuronCount: loader(async (keys) =>
      byKey(keys, await db.select({ modelId: modelNeurons.modelId, n: count() }).from(modelNeurons).where(inArray(modelNeurons.modelId, ids(keys))).groupBy(modelNeurons.modelId), (r) => r.modelId, (r) => r.n).map((n) => n ?? 0),
    ),
    modelsOfNeuron: loader(async (keys) => {
      const rows = await db
        .select({ neuronId: modelNeurons.neuronId, model: models })
        .from(modelNeurons)
        .innerJoin(models, eq(models.id, modelNeurons.modelId))
        .where(and(inArray(modelNeurons.neuronId, ids(keys))))
        .orderBy(asc(models.seq));
      return grouped(keys, rows, (r) => r.neuronId).map((rs) => rs.map((r) => r.model));
    }),
    runCounts: loader(async (keys) => {
      const rows = await db.select({ batchId: runs.batchId, status: runs.status, n: count() }).from(runs).where(inArray(runs.batchId, ids(keys))).groupBy(runs.batchId, runs.status);
      return grouped(keys, rows, (r) => r.batchId).map((rs) => {
        const counts: RunCounts = { queued: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0 };
        for (const r of rs) counts[r.status] = r.n;
        return counts;
      });
    }),
    scoreStatsOfBatch: loader(async (keys) => {
      if (!ids(keys).length) return keys.map(() => []);
      const succeeded: RunStatus = 'succeeded';
      const rows = await db
        .select({
          batchId: runs.batchId,
          generatorId: runs.generatorId,
          evaluatorId: scores.evaluatorId,
          method: runs.method,
          mean: sql<number>`avg(${scores.value})::float8`,
          median: sql<number>`percentile_cont(0.5) within group (order by ${scores.value})::float8`,
          count: sql<number>`count(*)::int`,
        })
        .from(runs)
        .innerJoin(images, eq(images.runId, runs.id))
        .innerJoin(scores, eq(scores.imageId, images.id))
        .where(and(inArray(runs.batchId, ids(keys)), eq(runs.status, succeeded)))
        .groupBy(runs.batchId, runs.generatorId, scores.evaluatorId, runs.method);
      return grouped(keys, rows, (r) => r.batchId).map((rs) => rs.map(({ batchId: _, ...cell }) => cell));
    }),
    recording: loader(async (keys) => byKey(keys, ids(keys).length ? await db.select().from(recordings).where(inArray(recordings.id, ids(keys))) : [], (r) => r.id, (r) => r)),
    recordedOfImage: loader(async (keys) => {
      const rows = ids(keys).length
        ? await db
            .select({ imageId: recordingStimuli.imageId, response: recordedResponses })
            .from(recordingStimuli)
            .innerJoin(images, eq(images.id, recordingStimuli.imageId))
            .innerJoin(recordings, eq(recordings.id, recordingStimuli.recordingId))
            .innerJoin(recordedResponses, and(eq(recordedResponses.recordingId, recordingStimuli.recordingId), eq(recordedResponses.stimulus, recordingStimuli.stimulus), eq(recordedResponses.neuronId, images.neuronId)))
            .where(inArray(recordingStimuli.imageId, ids(keys)))
            .orderBy(asc(recordings.seq))
        : [];
      return grouped(keys, rows, (r) => r.imageId!).map((rs) => rs.map((r) => r.response));
    }),
    tokenName: loader(async (keys) => byKey(keys, ids(keys).length ? await db.select({ id: apiTokens.id, name: apiTokens.name }).from(apiTokens).where(inArray(apiTokens.id, ids(keys))) : [], (r) => r.id, (r) => r.name)),
    neuronsOfRecording: loader(async (keys) => {
      const recs = ids(keys).length ? await db.select().from(recordings).where(inArray(recordings.id, ids(keys))) : [];
      const sessions = [...new Set(recs.map((r) => r.session))];
      const rows = sessions.length ? await db.select().from(neurons).where(inArray(neurons.session, sessions)) : [];
      return keys.map((k) => {
        const rec = recs.find((r) => r.id === k);
        if (!rec) return [];
        const byIndex = new Map(rows.filter((n) => n.session === rec.session).map((n) => [n.index, n]));
        return rec.neuronIndices.map((i) => byIndex.get(i)!);
      });
    }),
  };
}
