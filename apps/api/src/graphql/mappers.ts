/** What the resolvers' parents are: database rows and event payloads (codegen.ts maps schema types onto these). */
import type { batches, blobs, comparisons, datasets, images, models, neurons, recordedResponses, recordingStimuli, recordings, runs, TrainingEpochRow, TrainingRecipe, trainings } from '../db/schema.ts';
import type { ProgressMessage, StatusMessage, TrainingMessage } from '../events/messages.ts';

export type ModelRow = typeof models.$inferSelect;
export type NeuronRow = typeof neurons.$inferSelect;
export type DatasetRow = typeof datasets.$inferSelect;
export type BlobRow = typeof blobs.$inferSelect;
export type BatchRow = typeof batches.$inferSelect;
export type RunRow = typeof runs.$inferSelect;
export type ImageRow = typeof images.$inferSelect;
export type ComparisonRow = typeof comparisons.$inferSelect;
export type RecordingRow = typeof recordings.$inferSelect;
export type RecordedResponseRow = typeof recordedResponses.$inferSelect;
export type RecordedStimulusRow = typeof recordingStimuli.$inferSelect & { natural: boolean };
export type { NeuronMethodParent, MethodPairParent, EvaluatorAgreementParent, NeuronCeilingParent, NoiseCeilingParent, RecordingAnalysisResult as RecordingAnalysisParent } from '../recordings/analysis.ts';
/** a file of a model or dataset folder */
export interface FileRow {
  path: string;
  blob: string;
}
export interface TrajectoryParent {
  energy: string;
  activation: string;
}
export interface ScoreParent {
  evaluatorId: string;
  value: number;
  generator: boolean;
}
export interface CellParent {
  generatorId: string;
  evaluatorId: string;
  method: RunRow['method'];
  mean: number | null;
  median: number | null;
  count: number;
}
export type StatusEventParent = StatusMessage;
export type { TokenInfo as TokenParent } from '../auth/tokens.ts';
export type ProgressEventParent = ProgressMessage;
export type TrainingRow = typeof trainings.$inferSelect;
export type TrainingRecipeParent = TrainingRecipe;
export type TrainingEpochParent = TrainingEpochRow;
export type TrainingEventParent = TrainingMessage;
