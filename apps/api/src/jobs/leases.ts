/**
 * Crash recovery. pg-boss 10 has no worker heartbeat (a dead worker's job would wait for its
 * 12-hour expiry), so runs carry their own lease: the worker that claims a run holds it for
 * `leaseSeconds` and renews it every third of that while it computes. Every worker also sweeps:
 * a RUNNING run whose lease lapsed (its worker was killed, lost its machine or its database
 * connection), and a QUEUED run whose queue job can no longer run it (a worker fetched the job and
 * died before claiming it; the job ended otherwise), goes back to the queue as a new job of the same
 * runs; the old job is cancelled so that pg-boss never retries it. The new attempt resumes from the
 * run's last checkpoint (checkpoints.ts). A run that lost its worker `MAX_ATTEMPTS` times fails
 * with WORKER_LOST rather than taking down worker after worker.
 *
 * Every claim increments the run's `attempts`; writes of a run's progress, checkpoint and results
 * name the attempt, so a worker that lost its lease (and may still be computing) changes nothing.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { Database, ExecuteSql } from '../db/database.ts';
import type { RunError } from '../db/schema.ts';
import type { Bus } from '../events/bus.ts';
import type { StatusMessage } from '../events/messages.ts';
import { type JobQueue, type QueuedJob, SYNTHESIS_QUEUE } from './queue.ts';

/** Claims of a run (crashes and shutdowns) after which a run whose worker is lost again fails. */
export const MAX_ATTEMPTS = 5;

export interface RecoveryDeps {
  database: Database;
  queue: JobQueue;
  bus: Bus;
}

interface Candidate {
  id: string;
  job_id: string;
  batch_id: string;
  status: 'queued' | 'running';
  attempts: number;
}

/**
 * Requeues `candidates` (rows locked by the caller's transaction): each old job's runs become one
 * new job; their progress shows the step of their checkpoint.
 */
async function requeueLocked(executeSql: ExecuteSql, queue: JobQueue, candidates: Candidate[]): Promise<StatusMessage[]> {
  if (candidates.length === 0) return [];
  const byJob = new Map<string, Candidate[]>();
  for (const c of candidates) byJob.set(c.job_id, [...(byJob.get(c.job_id) ?? []), c]);
  const jobs: QueuedJob[] = [...byJob.values()].map((group) => ({ id: randomUUID(), runIds: group.map((c) => c.id) }));
  for (const job of jobs) {
    await executeSql(
      `UPDATE runs SET status = 'queued', job_id = $1, lease_expires_at = NULL,
         step = coalesce((SELECT step FROM run_checkpoints WHERE run_id = runs.id), 0)
       WHERE id = ANY($2::uuid[])`,
      [job.id, job.runIds],
    );
  }
  await queue.enqueue(executeSql, jobs);
  await queue.cancel([...byJob.keys()], executeSql);
  const at = new Date().toISOString();
  return candidates.map((c) => ({ runId: c.id, batchId: c.batch_id, status: 'queued', error: null, at }));
}

/**
 * A worker hands back runs it holds (shutdown): those still RUNNING in the attempt it claimed go
 * back to the queue at once, resuming from their checkpoints.
 */
export async function handBack(deps: RecoveryDeps, held: ReadonlyMap<string, number>): Promise<number> {
  if (held.size === 0) return 0;
  const messages = await deps.database.transaction(async ({ executeSql }) => {
    const { rows } = await executeSql(
      `SELECT r.id, r.job_id, r.batch_id, r.status, r.attempts FROM runs r
       JOIN unnest($1::uuid[], $2::int[]) AS h(id, attempts) ON h.id = r.id AND h.attempts = r.attempts
       WHERE r.status = 'running' ORDER BY r.seq FOR UPDATE OF r`,
      [[...held.keys()], [...held.values()]],
    );
    return requeueLocked(executeSql, deps.queue, rows as unknown as Candidate[]);
  });
  await deps.bus.publish('status', messages);
  return messages.length;
}

/**
 * One sweep: requeues runs whose worker is gone (see above) and fails those that lost theirs too
 * often. Several workers may sweep at once: each takes the rows the others have not locked.
 */
export async function recoverLostRuns(deps: RecoveryDeps, leaseSeconds: number, log: (line: string) => void): Promise<number> {
  const { requeued, failed } = await deps.database.transaction(async ({ executeSql }) => {
    const { rows } = await executeSql(
      `SELECT r.id, r.job_id, r.batch_id, r.status, r.attempts FROM runs r
       LEFT JOIN pgboss.job j ON j.name = $1 AND j.id = r.job_id
       WHERE (r.status = 'running' AND (r.lease_expires_at IS NULL OR r.lease_expires_at < now()))
          OR (r.status = 'queued' AND (j.id IS NULL OR j.state IN ('completed', 'cancelled', 'failed')
                                       OR (j.state = 'active' AND j.started_on < now() - make_interval(secs => $2))))
       ORDER BY r.seq LIMIT 1000
       FOR UPDATE OF r SKIP LOCKED`,
      [SYNTHESIS_QUEUE, leaseSeconds],
    );
    const candidates = rows as unknown as Candidate[];
    const exhausted = candidates.filter((c) => c.status === 'running' && c.attempts >= MAX_ATTEMPTS);
    const error: RunError = { code: 'WORKER_LOST', message: `its worker was lost ${MAX_ATTEMPTS} times (killed, out of memory, or its machine gone): not retried again` };
    if (exhausted.length) {
      await executeSql(`UPDATE runs SET status = 'failed', finished_at = now(), lease_expires_at = NULL, error = $1::jsonb WHERE id = ANY($2::uuid[])`, [JSON.stringify(error), exhausted.map((c) => c.id)]);
      await deps.queue.cancel([...new Set(exhausted.map((c) => c.job_id))], executeSql);
    }
    const at = new Date().toISOString();
    return {
      requeued: await requeueLocked(
        executeSql,
        deps.queue,
        candidates.filter((c) => !exhausted.includes(c)),
      ),
      failed: exhausted.map((c): StatusMessage => ({ runId: c.id, batchId: c.batch_id, status: 'failed', error, at })),
    };
  });
  if (requeued.length) log(`excite: ${requeued.length} run${requeued.length > 1 ? 's' : ''} lost ${requeued.length > 1 ? 'their' : 'its'} worker: queued again`);
  if (failed.length) log(`excite: ${failed.length} run(s) lost their worker ${MAX_ATTEMPTS} times: failed (WORKER_LOST)`);
  await deps.bus.publish('status', [...requeued, ...failed]);
  return requeued.length + failed.length;
}

/** Renews the leases of runs held in the given attempts; returns the ids still held. */
export async function renewLeases(database: Database, held: ReadonlyMap<string, number>, leaseSeconds: number): Promise<Set<string>> {
  if (held.size === 0) return new Set();
  const { rows } = await database.executeSql(
    `UPDATE runs SET lease_expires_at = now() + make_interval(secs => $3)
     FROM unnest($1::uuid[], $2::int[]) AS h(id, attempts)
     WHERE runs.id = h.id AND runs.attempts = h.attempts AND runs.status = 'running'
     RETURNING runs.id`,
    [[...held.keys()], [...held.values()], leaseSeconds],
  );
  return new Set(rows.map((r) => r.id as string));
}

/** The lease a claim starts with, as SQL (for the claim's UPDATE). */
export const leaseFromNow = (leaseSeconds: number) => sql`now() + make_interval(secs => ${leaseSeconds})`;
