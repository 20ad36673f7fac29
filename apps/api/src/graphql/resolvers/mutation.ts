/** Mutations: starting runs and comparisons (one transaction each), cancelling. */
import { and, eq, inArray } from 'drizzle-orm';
import { createToken, listTokens, revokeToken } from '../../auth/tokens.ts';
import type { Method } from '../../db/schema.ts';
import { ENCODER_KINDS, comparisons, modelNeurons, models, neurons } from '../../db/schema.ts';
import type { StatusMessage } from '../../events/messages.ts';
import type { QueuedJob } from '../../jobs/queue.ts';
import { RunStore } from '../../runs/run-store.ts';
import { type BatchRow, createBatch, type StartRunsRequest } from '../../runs/start-runs.ts';
import type { Services } from '../../services.ts';
import { ServiceError, notFound } from '../../errors.ts';
import { and as andWhere, eq as eqWhere } from 'drizzle-orm';
import { readImageArchive } from '@excite/engine';
import { archiveLimits } from '../../config.ts';
import { datasetFiles } from '../../db/schema.ts';
import { type ImageSizeOf, createTraining } from '../../runs/start-training.ts';
import { TrainingStore, statusMessage } from '../../runs/training-store.ts';
import type { MutationResolvers } from '../generated/resolvers.ts';

/** After the commit: subscribers hear of the queued runs, a local worker wakes up. */
async function announce(services: Services, batch: BatchRow, jobs: QueuedJob[]): Promise<void> {
  const at = new Date().toISOString();
  const messages = jobs.flatMap((j) => j.runIds.map((runId): StatusMessage => ({ runId, batchId: batch.id, status: 'queued', error: null, at })));
  await services.bus.publish('status', messages);
  services.wakeWorker();
}

/** The size of a dataset's first image, read from its stored images.zip. */
const imageSizeOf = (services: Services): ImageSizeOf => async (db, datasetId) => {
  const [file] = await db
    .select({ blob: datasetFiles.blob })
    .from(datasetFiles)
    .where(andWhere(eqWhere(datasetFiles.datasetId, datasetId), eqWhere(datasetFiles.path, 'images.zip')));
  if (!file) throw new Error(`dataset ${datasetId} has no images.zip`);
  const archive = await readImageArchive(services.blobs.path(file.blob), archiveLimits(services.config.limits));
  const image = await archive.image(0);
  return { width: image.shape[2], height: image.shape[1] };
};

export const mutation: MutationResolvers = {
  async startTraining(_, { input }, ctx) {
    const { services } = ctx;
    const row = await services.database.transaction((scope) => createTraining({ queue: services.queue, imageSize: imageSizeOf(services) }, scope, input));
    await services.bus.publish('training', [statusMessage(row)]);
    services.wakeWorker();
    return row;
  },

  async cancelTraining(_, { id }, ctx) {
    if (!(await ctx.loaders.training.load(id))) throw notFound('training', id);
    await new TrainingStore(ctx.services).cancel(id);
    ctx.loaders.training.clear(id);
    return (await ctx.loaders.training.load(id))!;
  },

  async startRuns(_, { input }, ctx) {
    const { services } = ctx;
    const request: StartRunsRequest = { ...input, generators: [input.generator] };
    const { batch, jobs } = await services.database.transaction((scope) => createBatch(services, scope, request));
    await announce(services, batch, jobs);
    return batch;
  },

  async startComparison(_, { input }, ctx) {
    const { services } = ctx;
    const { batch, jobs, comparison } = await services.database.transaction(async (scope) => {
      const created = await createBatch(services, scope, { ...input, label: input.name ?? 'comparison' });
      const { db } = scope;
      // the neurons exist now: createBatch checked that every generator predicts them
      const neuronRows = await db
        .select({ id: neurons.id, session: neurons.session, index: neurons.index })
        .from(neurons)
        .where(inArray(neurons.session, [...new Set(input.neurons.map((n) => n.session))]));
      const neuronIds = input.neurons.map((n) => neuronRows.find((r) => r.session === n.session && r.index === n.index)!.id);
      let evaluatorIds: string[];
      if (input.evaluators?.length) {
        const rows = await db.select().from(models).where(inArray(models.id, input.evaluators.filter((id) => /^[0-9a-f-]{36}$/i.test(id))));
        for (const id of input.evaluators) {
          const row = rows.find((r) => r.id === id);
          if (!row) throw notFound('evaluator', id);
          if (row.kind === 'prior') throw new ServiceError('WRONG_MODEL_KIND', `${row.name} is a diffusion prior: evaluators are encoders, ensembles, compact or imported models`, { id });
        }
        evaluatorIds = [...new Set(input.evaluators)];
      } else {
        const rows = await db
          .selectDistinct({ id: models.id, seq: models.seq })
          .from(modelNeurons)
          .innerJoin(models, eq(models.id, modelNeurons.modelId))
          .where(and(inArray(modelNeurons.neuronId, neuronIds), inArray(models.kind, [...ENCODER_KINDS])))
          .orderBy(models.seq);
        evaluatorIds = rows.map((r) => r.id);
      }
      const [comparison] = await db
        .insert(comparisons)
        .values({ name: input.name ?? null, batchId: created.batch.id, generatorIds: [...new Set(input.generators)], evaluatorIds, methods: input.methods as Method[], neuronIds })
        .returning();
      return { ...created, comparison };
    });
    await announce(services, batch, jobs);
    return comparison;
  },

  async cancelRun(_, { id }, ctx) {
    if (!(await ctx.loaders.run.load(id))) throw notFound('run', id);
    await new RunStore(ctx.services).cancel({ runId: id });
    ctx.loaders.run.clear(id);
    return (await ctx.loaders.run.load(id))!;
  },

  async createToken(_, { input }, ctx) {
    const name = input.name.trim();
    if (!name || name.length > 200) throw new ServiceError('BAD_USER_INPUT', 'name must be 1 to 200 characters', { argument: 'name' });
    return createToken(ctx.services.database.db, input.role, name);
  },

  async revokeToken(_, { id }, ctx) {
    const { db } = ctx.services.database;
    // open WebSocket connections of the token are closed (http/server.ts listens)
    if (await revokeToken(db, id)) ctx.services.tokens.revoked(id);
    const [token] = await listTokens(db, id);
    if (!token) throw notFound('token', id);
    return token;
  },

  async cancelBatch(_, { id }, ctx) {
    const batch = await ctx.loaders.batch.load(id);
    if (!batch) throw notFound('batch', id);
    await new RunStore(ctx.services).cancel({ batchId: id });
    ctx.loaders.runCounts.clear(id);
    return batch;
  },
};
