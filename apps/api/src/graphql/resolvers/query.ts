/** Queries: single objects by id (null when there is none), and the paginated lists. */
import { and, eq } from 'drizzle-orm';
import { listTokens } from '../../auth/tokens.ts';
import { comparisons, neurons } from '../../db/schema.ts';
import { isUuid } from '../../db/uuid.ts';
import { notFound } from '../../errors.ts';
import type { QueryResolvers } from '../generated/resolvers.ts';
import { listBatches, listComparisons, listDatasets, listEncoders, listImages, listNeurons, listPriors, listRuns, listTrainings, overviewCounts } from './lists.ts';
import { methodInfos, trainingOptions } from './methods.ts';
import { listWorkers } from './workers.ts';

export const query: QueryResolvers = {
  health: () => 'ok',
  methods: (_, __, ctx) => methodInfos(ctx.services.config.limits.maxSteps),
  viewer: async (_, __, ctx) => {
    const [token] = (await listTokens(ctx.services.database.db, ctx.principal!.tokenId));
    if (!token) throw notFound('token', ctx.principal!.tokenId);
    return token;
  },
  tokens: (_, __, ctx) => listTokens(ctx.services.database.db),
  encoders: (_, args, ctx) => listEncoders(ctx, args),
  encoder: async (_, { id }, ctx) => {
    const m = await ctx.loaders.model.load(id);
    return m && m.kind !== 'prior' ? m : null;
  },
  priors: (_, args, ctx) => listPriors(ctx, args),
  prior: async (_, { id }, ctx) => {
    const m = await ctx.loaders.model.load(id);
    return m?.kind === 'prior' ? m : null;
  },
  neurons: (_, args, ctx) => listNeurons(ctx, args),
  neuron: async (_, { session, index }, ctx) => {
    const [n] = await ctx.services.database.db
      .select()
      .from(neurons)
      .where(and(eq(neurons.session, session), eq(neurons.index, index)));
    return n ?? null;
  },
  datasets: (_, args, ctx) => listDatasets(ctx, args),
  dataset: async (_, { id }, ctx) => (await ctx.loaders.dataset.load(id)) ?? null,
  batches: (_, args, ctx) => listBatches(ctx, args),
  batch: async (_, { id }, ctx) => (await ctx.loaders.batch.load(id)) ?? null,
  runs: (_, args, ctx) => listRuns(ctx, args),
  run: async (_, { id }, ctx) => (await ctx.loaders.run.load(id)) ?? null,
  images: (_, args, ctx) => listImages(ctx, args),
  image: async (_, { id }, ctx) => (await ctx.loaders.image.load(id)) ?? null,
  comparisons: (_, args, ctx) => listComparisons(ctx, args),
  comparison: async (_, { id }, ctx) => {
    if (!isUuid(id)) return null;
    const [c] = await ctx.services.database.db.select().from(comparisons).where(eq(comparisons.id, id));
    return c ?? null;
  },
  overview: (_, __, ctx) => overviewCounts(ctx.services.database.db),
  workers: (_, __, ctx) => listWorkers(ctx),
  training: async (_, { id }, ctx) => (await ctx.loaders.training.load(id)) ?? null,
  trainingOptions: () => trainingOptions(),
  trainings: (_, args, ctx) => listTrainings(ctx, args),
};
