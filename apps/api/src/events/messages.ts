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

export interface Topics {
  progress: ProgressMessage;
  status: StatusMessage;
}

export type Topic = keyof Topics;
