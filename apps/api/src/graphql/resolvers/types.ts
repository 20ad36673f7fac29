/** Fields of the object types that are not plain columns of their rows. */
import { and, asc, eq, gt, sql } from 'drizzle-orm';
import { modelNeurons, neurons } from '../../db/schema.ts';
import type { ModelMeta } from '../../registry/inspect-model.ts';
import type { GraphQLContext } from '../context.ts';
import type { Resolvers, RunErrorCode } from '../generated/resolvers.ts';
import type { CellParent, ModelRow, TrainingRow } from '../mappers.ts';
import { decodeCursor, pageSize, toPage } from '../pagination.ts';
import { listRuns } from './lists.ts';
import { trainingOfWorker } from './workers.ts';

const metaOf = (row: ModelRow) => row.meta as ModelMeta;

/** A row's reference that must exist (a foreign key): its absence is a bug, not a user error. */
async function required<T>(value: Promise<T | undefined>, what: string): Promise<T> {
  const row = await value;
  if (row === undefined) throw new Error(`${what} is missing`);
  return row;
}

const modelOf = (ctx: GraphQLContext, id: string) => required(ctx.loaders.model.load(id), `model ${id}`);

const files = {
  path: (f: { path: string }) => f.path,
  blob: (f: { blob: string }, _: unknown, ctx: GraphQLContext) => required(ctx.loaders.blob.load(f.blob), `blob ${f.blob}`),
};

/** The remaining time's upper bound: every epoch left at maxEpochs, at the mean epoch time so far. */
function remainingSeconds(t: TrainingRow): number | null {
  if (t.status !== 'running' && t.status !== 'queued') return null;
  if (t.history.length === 0) return null;
  const perEpoch = t.history.reduce((s, h) => s + h.seconds, 0) / t.history.length;
  const left = (t.recipe.members - t.member) * t.recipe.maxEpochs - t.epoch - t.step / Math.max(1, t.steps);
  return Math.max(0, left * perEpoch);
}

export const typeResolvers: Resolvers = {
  WorkerStatus: {
    training: (w, _, ctx) => trainingOfWorker(ctx, w.name),
  },
  Training: {
    datasets: async (t, _, ctx) => Promise.all(t.datasetIds.map((id) => required(ctx.loaders.dataset.load(id), `dataset ${id}`))),
    core: (t, _, ctx) => (t.coreId ? modelOf(ctx, t.coreId) : null),
    model: (t, _, ctx) => (t.modelId ? modelOf(ctx, t.modelId) : null),
    attempt: (t) => t.attempts,
    members: (t) => t.recipe.members,
    maxEpochs: (t) => t.recipe.maxEpochs,
    error: (t) => (t.error ? { code: t.error.code as RunErrorCode, message: t.error.message } : null),
    elapsedSeconds: (t) => (t.startedAt ? ((t.finishedAt ?? new Date()).getTime() - t.startedAt.getTime()) / 1000 : null),
    remainingSeconds,
    updatedAt: (t) => t.progressAt,
  },
  TrainingProgressEvent: {
    error: (e) => (e.error ? { code: e.error.code as RunErrorCode, message: e.error.message } : null),
    at: (e) => new Date(e.at),
    training: async (e, _, ctx) => {
      ctx.loaders.training.clear(e.trainingId);
      return required(ctx.loaders.training.load(e.trainingId), `training ${e.trainingId}`);
    },
  },
  Blob: {
    url: (b) => `/blobs/${b.hash}`,
  },
  ModelFile: files,
  Encoder: {
    readout: (m) => metaOf(m).readout ?? null,
    architecture: (m) => metaOf(m).architecture ?? null,
    ops: (m) => metaOf(m).ops ?? null,
    members: (m) => metaOf(m).members?.length ?? 1,
    sessions: (m) => metaOf(m).sessions,
    neuronCount: (m, _, ctx) => ctx.loaders.neuronCount.load(m.id),
    metrics: (m) => metaOf(m).metrics ?? null,
    training: (m) => metaOf(m).training ?? null,
    files: (m, _, ctx) => ctx.loaders.modelFiles.load(m.id),
    async neurons(m, args, ctx) {
      const first = pageSize(args.first, ctx.services.config.limits.maxPageSize);
      const after = decodeCursor(args.after, ['number']);
      const { db } = ctx.services.database;
      const where = and(eq(modelNeurons.modelId, m.id), args.session ? eq(neurons.session, args.session) : undefined);
      const rows = await db
        .select({ neuron: neurons, column: modelNeurons.column })
        .from(modelNeurons)
        .innerJoin(neurons, eq(neurons.id, modelNeurons.neuronId))
        .where(and(where, after ? gt(modelNeurons.column, after[0] as number) : undefined))
        .orderBy(asc(modelNeurons.column))
        .limit(first + 1);
      const [{ n }] = await db.select({ n: sql<number>`count(*)::int` }).from(modelNeurons).innerJoin(neurons, eq(neurons.id, modelNeurons.neuronId)).where(where);
      const page = toPage(rows, first, (r) => [r.column], n);
      return { ...page, nodes: page.nodes.map((r) => r.neuron) };
    },
  },
  Prior: {
    imageSize: (m) => m.input.height,
    channels: (m) => m.input.channels,
    architecture: (m) => metaOf(m).architecture ?? null,
    diffusion: (m) => metaOf(m).diffusion ?? null,
    metrics: (m) => metaOf(m).metrics ?? null,
    training: (m) => metaOf(m).training ?? null,
    files: (m, _, ctx) => ctx.loaders.modelFiles.load(m.id),
  },
  Neuron: {
    encoders: async (n, _, ctx) => (await ctx.loaders.modelsOfNeuron.load(n.id)).filter((m) => m.kind !== 'prior'),
  },
  Dataset: {
    files: (d, _, ctx) => ctx.loaders.datasetFiles.load(d.id),
  },
  Batch: {
    counts: (b, _, ctx) => ctx.loaders.runCounts.load(b.id),
    done: async (b, _, ctx) => {
      const c = await ctx.loaders.runCounts.load(b.id);
      return c.queued + c.running === 0;
    },
    runs: (b, args, ctx) => listRuns(ctx, { ...args, order: args.order ?? 'OLDEST_FIRST', filter: { ...args.filter, batch: b.id } }),
  },
  Run: {
    batch: (r, _, ctx) => required(ctx.loaders.batch.load(r.batchId), `batch ${r.batchId}`),
    generator: (r, _, ctx) => modelOf(ctx, r.generatorId),
    prior: (r, _, ctx) => (r.priorId ? modelOf(ctx, r.priorId) : null),
    dataset: async (r, _, ctx) => (r.datasetId ? ((await ctx.loaders.dataset.load(r.datasetId)) ?? null) : null),
    neuron: async (r, _, ctx) => (r.neuronId ? ((await ctx.loaders.neuron.load(r.neuronId)) ?? null) : null),
    progress: (r) => r,
    // a top-k run's settings name no steps: it is one pass
    settings: (r) => ({ ...r.settings, steps: r.settings.steps ?? r.steps }),
    error: (r) => (r.error ? { code: r.error.code as RunErrorCode, message: r.error.message } : null),
    trajectory: (r) => (r.energyTrace && r.activationTrace ? { energy: r.energyTrace, activation: r.activationTrace } : null),
    images: (r, _, ctx) => ctx.loaders.imagesOfRun.load(r.id),
  },
  RunProgress: {
    fraction: (r) => (r.steps > 0 ? r.step / r.steps : 0),
    updatedAt: (r) => r.progressAt,
  },
  Trajectory: {
    energy: (t, _, ctx) => required(ctx.loaders.blob.load(t.energy), `blob ${t.energy}`),
    activation: (t, _, ctx) => required(ctx.loaders.blob.load(t.activation), `blob ${t.activation}`),
  },
  Image: {
    run: (i, _, ctx) => required(ctx.loaders.run.load(i.runId), `run ${i.runId}`),
    method: async (i, _, ctx) => (await required(ctx.loaders.run.load(i.runId), `run ${i.runId}`)).method,
    generator: async (i, _, ctx) => modelOf(ctx, (await required(ctx.loaders.run.load(i.runId), `run ${i.runId}`)).generatorId),
    neuron: async (i, _, ctx) => (i.neuronId ? ((await ctx.loaders.neuron.load(i.neuronId)) ?? null) : null),
    png: (i, _, ctx) => required(ctx.loaders.blob.load(i.png), `blob ${i.png}`),
    array: (i, _, ctx) => required(ctx.loaders.blob.load(i.array), `blob ${i.array}`),
    space: (i) => i.space.toUpperCase(),
    /** the generator's score first, then the other evaluators by name: a stable order for tables and CSV columns */
    async scores(i, _, ctx) {
      const [run, rows] = await Promise.all([required(ctx.loaders.run.load(i.runId), `run ${i.runId}`), ctx.loaders.scoresOfImage.load(i.id)]);
      const evaluators = await Promise.all(rows.map((s) => modelOf(ctx, s.evaluatorId)));
      const name = new Map(evaluators.map((m) => [m.id, m.name]));
      return rows
        .map((s) => ({ ...s, generator: s.evaluatorId === run.generatorId }))
        .sort((a, b) => Number(b.generator) - Number(a.generator) || name.get(a.evaluatorId)!.localeCompare(name.get(b.evaluatorId)!) || a.evaluatorId.localeCompare(b.evaluatorId));
    },
    recorded: (i, _, ctx) => (i.neuronId ? ctx.loaders.recordedOfImage.load(i.id) : []),
  },
  Score: {
    evaluator: (s, _, ctx) => modelOf(ctx, s.evaluatorId),
  },
  Comparison: {
    batch: (c, _, ctx) => required(ctx.loaders.batch.load(c.batchId), `batch ${c.batchId}`),
    generators: (c, _, ctx) => Promise.all(c.generatorIds.map((id) => modelOf(ctx, id))),
    evaluators: (c, _, ctx) => Promise.all(c.evaluatorIds.map((id) => modelOf(ctx, id))),
    methods: (c) => c.methods as CellParent['method'][],
    neurons: (c, _, ctx) => Promise.all(c.neuronIds.map((id) => required(ctx.loaders.neuron.load(id), `neuron ${id}`))),
    /** one statement for every comparison of the response (a loader by batch), not one per comparison */
    async cells(c, _, ctx) {
      const evaluators = new Set(c.evaluatorIds);
      const rows = c.evaluatorIds.length ? (await ctx.loaders.scoreStatsOfBatch.load(c.batchId)).filter((r) => evaluators.has(r.evaluatorId)) : [];
      const found = new Map(rows.map((r) => [`${r.generatorId}/${r.evaluatorId}/${r.method}`, r]));
      return c.generatorIds.flatMap((generatorId) =>
        c.evaluatorIds.flatMap((evaluatorId) =>
          (c.methods as CellParent['method'][]).map((method): CellParent => found.get(`${generatorId}/${evaluatorId}/${method}`) ?? { generatorId, evaluatorId, method, mean: null, median: null, count: 0 }),
        ),
      );
    },
  },
  ComparisonCell: {
    generator: (c, _, ctx) => modelOf(ctx, c.generatorId),
    evaluator: (c, _, ctx) => modelOf(ctx, c.evaluatorId),
  },
  RunStatusEvent: {
    run: (e, _, ctx) => required(ctx.loaders.run.load(e.runId), `run ${e.runId}`),
    at: (e) => new Date(e.at),
  },
  ProgressEvent: {
    at: (e) => new Date(e.at),
    preview: (e) => (e.preview ? { width: e.preview.width, height: e.preview.height, channels: e.preview.channels, dataUrl: `data:image/png;base64,${e.preview.png}` } : null),
  },
};
