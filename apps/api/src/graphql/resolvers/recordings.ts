/** The closed loop: importing recorded responses, recordings and their analysis (recordings/). */
import { and, asc, eq } from 'drizzle-orm';
import { neurons, recordedResponses, recordingStimuli } from '../../db/schema.ts';
import type { Db } from '../../db/database.ts';
import { analyzeRecording } from '../../recordings/analysis.ts';
import { type RecordingRow, importResponses } from '../../recordings/import.ts';
import type { GraphQLContext } from '../context.ts';
import type { MutationResolvers, QueryResolvers, Resolvers } from '../generated/resolvers.ts';
import { listRecordings } from './lists.ts';

async function required<T>(value: Promise<T | undefined>, what: string): Promise<T> {
  const row = await value;
  if (row === undefined) throw new Error(`${what} is missing`);
  return row;
}

const neuronOf = (ctx: GraphQLContext, id: string) => required(ctx.loaders.neuron.load(id), `neuron ${id}`);

/** A recording's analysis from its rows: its neurons (the session's, by the indices it recorded), then the statistics. */
async function analysisOf(db: Db, recording: RecordingRow) {
  const rows = await db.select().from(neurons).where(eq(neurons.session, recording.session));
  const byIndex = new Map(rows.map((n) => [n.index, n.id]));
  return analyzeRecording(db, recording, recording.neuronIndices.map((i) => byIndex.get(i)!));
}

export const recordingQueries: Pick<QueryResolvers, 'recordings' | 'recording'> = {
  recordings: (_, args, ctx) => listRecordings(ctx, args),
  recording: async (_, { id }, ctx) => (await ctx.loaders.recording.load(id)) ?? null,
};

export const recordingMutations: Pick<MutationResolvers, 'importResponses'> = {
  importResponses: (_, { input }, ctx) => importResponses(ctx.services.database, input, ctx.principal?.tokenId ?? null),
};

export const recordingTypes: Resolvers = {
  Recording: {
    neurons: (r, _, ctx) => ctx.loaders.neuronsOfRecording.load(r.id),
    async stimuli(r, _, ctx) {
      const rows = await ctx.services.database.db.select().from(recordingStimuli).where(eq(recordingStimuli.recordingId, r.id)).orderBy(asc(recordingStimuli.stimulus));
      const imageRows = await Promise.all(rows.map((s) => (s.imageId ? ctx.loaders.image.load(s.imageId) : undefined)));
      return rows.map((s, i) => ({ ...s, natural: s.datasetId !== null || imageRows[i]?.kind === 'natural' }));
    },
    async responses(r, { neuron, stimulus }, ctx) {
      const { db } = ctx.services.database;
      let neuronId: string | undefined;
      if (neuron) {
        const [n] = await db.select().from(neurons).where(and(eq(neurons.session, neuron.session), eq(neurons.index, neuron.index)));
        if (!n) return [];
        neuronId = n.id;
      }
      return db
        .select()
        .from(recordedResponses)
        .where(and(eq(recordedResponses.recordingId, r.id), neuronId ? eq(recordedResponses.neuronId, neuronId) : undefined, stimulus != null ? eq(recordedResponses.stimulus, stimulus) : undefined))
        .orderBy(asc(recordedResponses.stimulus), asc(recordedResponses.neuronId));
    },
    /** statements of its own (the responses, stimuli and scores of the recording): the operation guard counts them as such */
    analysis: (r, _, ctx) => analysisOf(ctx.services.database.db, r),
    importedBy: async (r, _, ctx) => (r.tokenId ? ((await ctx.loaders.tokenName.load(r.tokenId)) ?? null) : null),
  },
  RecordedStimulus: {
    image: async (s, _, ctx) => (s.imageId ? ((await ctx.loaders.image.load(s.imageId)) ?? null) : null),
    dataset: async (s, _, ctx) => (s.datasetId ? ((await ctx.loaders.dataset.load(s.datasetId)) ?? null) : null),
  },
  RecordedResponse: {
    recording: (r, _, ctx) => required(ctx.loaders.recording.load(r.recordingId), `recording ${r.recordingId}`),
    neuron: (r, _, ctx) => neuronOf(ctx, r.neuronId),
  },
  NeuronMethodResponse: {
    neuron: (p, _, ctx) => neuronOf(ctx, p.neuronId),
  },
  EvaluatorAgreement: {
    evaluator: (p, _, ctx) => required(ctx.loaders.model.load(p.evaluatorId), `model ${p.evaluatorId}`),
  },
  NeuronNoiseCeiling: {
    neuron: (p, _, ctx) => neuronOf(ctx, p.neuronId),
  },
};

