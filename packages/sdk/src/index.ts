/**
 * @excite/sdk: the typed excite client, generated from schema.graphql (src/operations/*.graphql,
 * `npm run codegen`). Node-only helpers (folders, exports) are in `@excite/sdk/node`.
 */
export { type CallOptions, type ClientOptions, type ExciteClient, type MutationMethods, type QueryMethods, type RunDetails, type SubscriptionMethods, createClient } from './client.ts';
export { ExciteError, type ExciteErrorCode, type ServiceErrorPayload, TRANSPORT_ERROR_CODES, type TransportErrorCode, isExciteError } from './errors.ts';
export { type FollowHandlers, TERMINAL_RUN_STATUSES, isFinished } from './follow.ts';
export { type RetryOptions, DEFAULT_RETRY } from './retry.ts';
export type { UploadFile, UploadedDataset, UploadedModel } from './upload.ts';
export { MUTATIONS, QUERIES, SUBSCRIPTIONS, type ConnectionQuery, type NodeOf } from './operations.ts';
// operation documents, result and variable types, input types
export * from './generated/graphql.ts';
// the schema's enums as values too (these names shadow graphql.ts's type-only ones, which are the same unions)
export { DatasetKind, ErrorCode, GaOptimizer, ImageKind, Method, ModelKind, ModelSource, RunErrorCode, RunStatus, TokenRole, TrainingArchitecture, TrainingEventKind, TrainingKind } from './generated/enums.ts';

import type { ApiTokenFieldsFragment, BatchFieldsFragment, ComparisonFieldsFragment, DatasetFieldsFragment, EncoderFieldsFragment, ImageFieldsFragment, NeuronFieldsFragment, PriorFieldsFragment, ProgressEventFieldsFragment, RunFieldsFragment, RunStatusEventFieldsFragment, WorkerStatusFieldsFragment } from './generated/graphql.ts';
/** Short names of the fragments' types: the objects the client's methods return. */
export type ApiToken = ApiTokenFieldsFragment;
export type Encoder = EncoderFieldsFragment;
export type Prior = PriorFieldsFragment;
export type Neuron = NeuronFieldsFragment;
export type Dataset = DatasetFieldsFragment;
export type Batch = BatchFieldsFragment;
export type Run = RunFieldsFragment;
export type Image = ImageFieldsFragment;
export type Comparison = ComparisonFieldsFragment;
export type ProgressEvent = ProgressEventFieldsFragment;
export type RunStatusEvent = RunStatusEventFieldsFragment;
export type WorkerStatus = WorkerStatusFieldsFragment;
