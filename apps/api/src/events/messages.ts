/** What travels between workers and API processes: one run's step, one run's status change. */
import type { RunError, RunStatus } from '../db/schema.ts';

export interface PreviewMessage {
  width: number;
  height: number;
  channels: number;
  /** the PNG, base64 */
  png: string;
}

export interface ProgressMessage {
  runId: string;
  attempt: number;
  step: number;
  steps: number;
  timestep?: number;
  energy: number;
  activation: number;
  preview: PreviewMessage | null;
  /** ISO time */
  at: string;
}

export interface StatusMessage {
  runId: string;
  batchId: string;
  status: RunStatus;
  error: RunError | null;
  at: string;
}

/** A training's batch, epoch or status change (every one of them, in order, from its worker or the store). */
export interface TrainingMessage {
  trainingId: string;
  kind: 'batch' | 'epoch' | 'status';
  attempt: number;
  member: number;
  /** 1-based: the epoch a batch belongs to, or the epoch validated */
  epoch: number;
  batch?: number;
  batches?: number;
  loss?: number;
  valLoss?: number;
  valCorrelation?: number;
  lr?: number;
  status: RunStatus;
  error?: RunError | null;
  at: string;
}

export interface Topics {
  progress: ProgressMessage;
  status: StatusMessage;
  training: TrainingMessage;
}

export type Topic = keyof Topics;
