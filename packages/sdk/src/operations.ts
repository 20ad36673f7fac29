/**
 * Every operation of the schema, by its root field: the client's methods are built from these
 * tables (operations.test.ts checks that each Query, Mutation and Subscription field has one).
 */
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import * as documents from './generated/graphql.ts';

export const QUERIES = {
  health: documents.HealthDocument,
  viewer: documents.ViewerDocument,
  tokens: documents.TokensDocument,
  encoders: documents.EncodersDocument,
  encoder: documents.EncoderDocument,
  priors: documents.PriorsDocument,
  prior: documents.PriorDocument,
  neurons: documents.NeuronsDocument,
  neuron: documents.NeuronDocument,
  datasets: documents.DatasetsDocument,
  dataset: documents.DatasetDocument,
  batches: documents.BatchesDocument,
  batch: documents.BatchDocument,
  runs: documents.RunsDocument,
  run: documents.RunDocument,
  images: documents.ImagesDocument,
  image: documents.ImageDocument,
  comparisons: documents.ComparisonsDocument,
  comparison: documents.ComparisonDocument,
  overview: documents.OverviewDocument,
  recordings: documents.RecordingsDocument,
  recording: documents.RecordingDocument,
  workers: documents.WorkersDocument,
  methods: documents.MethodsDocument,
  training: documents.TrainingDocument,
  trainings: documents.TrainingsDocument,
  trainingOptions: documents.TrainingOptionsDocument,
} as const;

export const MUTATIONS = {
  startRuns: documents.StartRunsDocument,
  cancelRun: documents.CancelRunDocument,
  cancelBatch: documents.CancelBatchDocument,
  startComparison: documents.StartComparisonDocument,
  importResponses: documents.ImportResponsesDocument,
  createToken: documents.CreateTokenDocument,
  revokeToken: documents.RevokeTokenDocument,
  startTraining: documents.StartTrainingDocument,
  cancelTraining: documents.CancelTrainingDocument,
} as const;

export const SUBSCRIPTIONS = {
  runProgress: documents.RunProgressDocument,
  runStatusChanged: documents.RunStatusChangedDocument,
  trainingProgress: documents.TrainingProgressDocument,
} as const;

export type Queries = typeof QUERIES;
export type Mutations = typeof MUTATIONS;
export type Subscriptions = typeof SUBSCRIPTIONS;

/** The value of an operation's root field `K` (the result without its one-key wrapper). */
export type FieldOf<D, K extends PropertyKey> = D extends TypedDocumentNode<infer R, any> ? (K extends keyof R ? R[K] : never) : never;
export type VariablesOfDocument<D> = D extends TypedDocumentNode<any, infer V> ? V : never;

/** The query names whose field is a connection (nodes and pageInfo): what `paginate` walks. */
export type ConnectionQuery = {
  [K in keyof Queries]: FieldOf<Queries[K], K> extends { nodes: readonly unknown[]; pageInfo: { endCursor?: string | null; hasNextPage: boolean } } ? K : never;
}[keyof Queries];

/** An item of a connection query's `nodes`. */
export type NodeOf<K extends ConnectionQuery> = FieldOf<Queries[K], K> extends { nodes: readonly (infer N)[] } ? N : never;
