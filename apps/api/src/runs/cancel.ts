/**
 * Cancelling runs: queued and running runs become CANCELLED in one transaction; a job none of
 * whose runs is left is cancelled in the queue; a worker computing one of them hears the status
 * change and stops (or drops those runs from its batch). Finished runs stay as they are.
 */
import { and, eq, inArray } from 'drizzle-orm';
import type { Database } from '../db/database.ts';
import { type RunStatus, runs } from '../db/schema.ts';
import type { Bus } from '../events/bus.ts';
import type { StatusMessage } from '../events/messages.ts';
import type { JobQueue } from '../jobs/queue.ts';

export interface Canceller {
  database: Database;
  queue: JobQueue;
  bus: Bus;
}

const UNFINISHED: RunStatus[] = ['queued', 'running'];

export async function cancelRuns(c: Canceller, where: { runId: string } | { batchId: string }): Promise<number> {
  const messages = await c.database.transaction(async ({ db, executeSql }) => {
    const cancelled = await db
      .update(runs)
      .set({ status: 'cancelled', finishedAt: new Date() })
      .where(and('runId' in where ? eq(runs.id, where.runId) : eq(runs.batchId, where.batchId), inArray(runs.status, UNFINISHED)))
      .returning({ id: runs.id, batchId: runs.batchId, jobId: runs.jobId });
    const jobIds = [...new Set(cancelled.map((r) => r.jobId))];
    if (jobIds.length) {
      const open = await db
        .selectDistinct({ jobId: runs.jobId })
        .from(runs)
        .where(and(inArray(runs.jobId, jobIds), inArray(runs.status, UNFINISHED)));
      const busy = new Set(open.map((r) => r.jobId));
      await c.queue.cancel(
        jobIds.filter((id) => !busy.has(id)),
        executeSql,
      );
    }
    const at = new Date().toISOString();
    return cancelled.map((r): StatusMessage => ({ runId: r.id, batchId: r.batchId, status: 'cancelled', error: null, at }));
  });
  await c.bus.publish('status', messages);
  return messages.length;
}
