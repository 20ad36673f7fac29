/**
 * Following runs to their end: each run's progress stream (which the service replays from the
 * first step and completes when the run ends), a few runs at a time in creation order, then the
 * run's final state. What the CLI's progress bars and a dashboard's live view are made of.
 */
import type { ExciteClient, RunDetails } from './client.ts';
import { ExciteError } from './errors.ts';
import type { ProgressEventFieldsFragment, RunFieldsFragment, RunStatus } from './generated/graphql.ts';
import { DEFAULT_RETRY, backoffDelay, sleep } from './retry.ts';

/** The statuses a run ends in. */
export const TERMINAL_RUN_STATUSES: readonly RunStatus[] = ['SUCCEEDED', 'FAILED', 'CANCELLED'];

export const isFinished = (run: { status: RunStatus }): boolean => TERMINAL_RUN_STATUSES.includes(run.status);

export interface FollowHandlers {
  /** every step of every followed run, in order per run */
  onProgress?(event: ProgressEventFieldsFragment, run: RunFieldsFragment): void;
  /** a run ended (or had ended already): its final state */
  onFinished?(run: RunDetails): void;
  /** runs followed at once (default 32); the rest wait their turn */
  concurrency?: number;
}

export async function followRuns(client: ExciteClient, runs: readonly RunFieldsFragment[], handlers: FollowHandlers = {}): Promise<RunDetails[]> {
  const final: RunDetails[] = new Array(runs.length);

  const follow = async (run: RunFieldsFragment): Promise<RunDetails> => {
    for (let attempt = 0; ; attempt++) {
      if (!isFinished(run) || attempt > 0) {
        for await (const event of client.runProgress({ run: run.id })) handlers.onProgress?.(event, run);
      }
      const now = await client.run({ id: run.id });
      if (!now) throw new ExciteError('NOT_FOUND', `run ${run.id} is gone`, { operation: 'followRuns' });
      if (isFinished(now)) return now;
      // the stream ended before the run did (the connection was re-established): follow it again
      await sleep(backoffDelay(attempt, DEFAULT_RETRY));
    }
  };

  let next = 0;
  const worker = async () => {
    while (next < runs.length) {
      const i = next++;
      final[i] = await follow(runs[i]);
      handlers.onFinished?.(final[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(handlers.concurrency ?? 32, runs.length) }, worker));
  return final;
}
