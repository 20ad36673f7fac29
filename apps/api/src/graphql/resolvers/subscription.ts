/** Subscriptions: one run's steps (replayed, then live, ending with the run) and status changes. */
import { TERMINAL_STATUSES } from '../../db/schema.ts';
import type { ProgressMessage, StatusMessage, TrainingMessage } from '../../events/messages.ts';
import { notFound } from '../../errors.ts';
import type { SubscriptionResolvers } from '../generated/resolvers.ts';

export const subscription: SubscriptionResolvers = {
  runProgress: {
    async subscribe(_, { run: runId }, ctx) {
      const run = await ctx.loaders.run.load(runId);
      if (!run) throw notFound('run', runId);
      const finished = async () => {
        ctx.loaders.run.clear(runId);
        const now = await ctx.loaders.run.load(runId);
        return !now || TERMINAL_STATUSES.includes(now.status);
      };
      return ctx.services.hub.followRun(runId, finished);
    },
    resolve: (event: ProgressMessage) => event,
  },
  runStatusChanged: {
    async subscribe(_, { batch, run }, ctx) {
      if (run && !(await ctx.loaders.run.load(run))) throw notFound('run', run);
      if (batch && !(await ctx.loaders.batch.load(batch))) throw notFound('batch', batch);
      return ctx.services.hub.statusChanges((m) => (!batch || m.batchId === batch) && (!run || m.runId === run));
    },
    resolve: (event: StatusMessage) => event,
  },
  trainingProgress: {
    async subscribe(_, { training: trainingId }, ctx) {
      const training = await ctx.loaders.training.load(trainingId);
      if (!training) throw notFound('training', trainingId);
      const now = async () => {
        ctx.loaders.training.clear(trainingId);
        return ctx.loaders.training.load(trainingId);
      };
      return ctx.services.hub.followTraining(training, now);
    },
    resolve: (event: TrainingMessage) => event,
  },
};
