/**
 * Training state, in one place, under the rules of runs (run-store.ts): every change of a
 * training's status, lease, progress, checkpoint and result goes through here and is announced on
 * the bus ('training' topic, kind 'status').
 *
 *   QUEUED --claim--> RUNNING --complete--> SUCCEEDED (the model registered)
 *                       |   \--fail------> FAILED
 *                       |    \-handBack / recoverLost (lease lapsed)--> QUEUED (a new job, from the checkpoint)
 *   QUEUED, RUNNING --cancel--> CANCELLED
 *
 * Fencing: a claim increments `attempts`; every later write of that worker names the attempt and
 * changes the training only while it is RUNNING in it, so a worker that lost its lease changes
 * nothing of the attempt that took the training over. A training whose worker is lost
 * MAX_ATTEMPTS times fails with WORKER_LOST.
 */
import { randomUUID } from 'node:crypto';
import { type SQL, and, eq, inArray, isNull, lt, or, sql } from 'drizzle-orm';
import type { Database, Db, ExecuteSql } from '../db/database.ts';
import { type RunError, type RunStatus, type TrainingEpochRow, trainingCheckpoints, trainings } from '../db/schema.ts';
import type { Bus } from '../events/bus.ts';
import type { TrainingMessage } from '../events/messages.ts';
import { type JobQueue, TRAINING_QUEUE } from '../jobs/queue.ts';
import { MAX_ATTEMPTS } from './run-store.ts';

export type TrainingRow = typeof trainings.$inferSelect;

/** The training a worker holds and the attempt it claimed. */
export interface HeldTraining {
  id: string;
  attempt: number;
}

export interface TrainingProgress {
  member: number;
  epoch: number;
  step: number;
  steps: number;
  bestValLoss: number | null;
  lastValLoss: number | null;
  bestValCorrelation: number | null;
  lastValCorrelation: number | null;
  history: TrainingEpochRow[];
}

export interface StoredTrainingCheckpoint {
  attempt: number;
  state: { member: number; epoch: number; step: number; history: TrainingEpochRow[] };
  folder: Uint8Array;
}

const UNFINISHED: RunStatus[] = ['queued', 'running'];

const heldBy = (h: HeldTraining): SQL => and(eq(trainings.id, h.id), eq(trainings.status, 'running'), eq(trainings.attempts, h.attempt))!;

/** A training's status change as subscribers see it. */
export function statusMessage(row: TrainingRow, status: RunStatus = row.status, error: RunError | null = row.error ?? null): TrainingMessage {
  return { trainingId: row.id, kind: 'status', attempt: row.attempts, member: row.member, epoch: row.epoch, status, error, at: new Date().toISOString() };
}

export class TrainingStore {
  constructor(private readonly deps: { database: Database; queue: JobQueue; bus: Bus }) {}

  private async announce(rows: readonly TrainingRow[]): Promise<void> {
    await this.deps.bus.publish('training', rows.map((r) => statusMessage(r)));
  }

  /** The job's training, QUEUED (or RUNNING with a lapsed lease), becomes RUNNING here. */
  async claim(jobId: string, trainingId: string, worker: { name: string; device: string }, leaseSeconds: number): Promise<TrainingRow | undefined> {
    const [row] = await this.deps.database.db
      .update(trainings)
      .set({
        status: 'running',
        startedAt: sql`coalesce(${trainings.startedAt}, now())`,
        attempts: sql`${trainings.attempts} + 1`,
        worker: worker.name,
        device: worker.device,
        leaseExpiresAt: sql`now() + make_interval(secs => ${leaseSeconds})`,
        error: null,
      })
      .where(
        and(
          eq(trainings.id, trainingId),
          eq(trainings.jobId, jobId),
          or(eq(trainings.status, 'queued'), and(eq(trainings.status, 'running'), or(isNull(trainings.leaseExpiresAt), lt(trainings.leaseExpiresAt, sql`now()`)))),
        ),
      )
      .returning();
    if (row) await this.announce([row]);
    return row;
  }

  /** Renews the lease; false when the training is no longer held (cancelled, taken over). */
  async renew(held: HeldTraining, leaseSeconds: number): Promise<boolean> {
    const rows = await this.deps.database.db
      .update(trainings)
      .set({ leaseExpiresAt: sql`now() + make_interval(secs => ${leaseSeconds})` })
      .where(heldBy(held))
      .returning({ id: trainings.id });
    return rows.length > 0;
  }

  /** The progress columns (the bus carries every batch; these are what a query reads). */
  async progress(held: HeldTraining, p: TrainingProgress): Promise<void> {
    await this.deps.database.db
      .update(trainings)
      .set({ ...p, progressAt: new Date() })
      .where(heldBy(held));
  }

  /** Stores the checkpoint while the training is held; false when it is not. */
  async checkpoint(held: HeldTraining, state: StoredTrainingCheckpoint['state'], folder: Uint8Array): Promise<boolean> {
    return this.deps.database.transaction(async ({ db }) => {
      const [mine] = await db.select({ id: trainings.id }).from(trainings).where(heldBy(held)).for('update');
      if (!mine) return false;
      await db
        .insert(trainingCheckpoints)
        .values({ trainingId: held.id, attempt: held.attempt, state, folder, updatedAt: new Date() })
        .onConflictDoUpdate({ target: trainingCheckpoints.trainingId, set: { attempt: held.attempt, state, folder, updatedAt: new Date() } });
      return true;
    });
  }

  async loadCheckpoint(trainingId: string): Promise<StoredTrainingCheckpoint | undefined> {
    const [row] = await this.deps.database.db.select().from(trainingCheckpoints).where(eq(trainingCheckpoints.trainingId, trainingId));
    return row && { attempt: row.attempt, state: row.state, folder: row.folder };
  }

  /** SUCCEEDED with its model, the checkpoint dropped, in one transaction; undefined when no longer held. */
  async complete(held: HeldTraining, modelId: string, p: TrainingProgress): Promise<TrainingRow | undefined> {
    const row = await this.deps.database.transaction(async ({ db }) => {
      const [updated] = await db
        .update(trainings)
        .set({ ...p, status: 'succeeded', modelId, finishedAt: new Date(), leaseExpiresAt: null, progressAt: new Date() })
        .where(heldBy(held))
        .returning();
      if (updated) await db.delete(trainingCheckpoints).where(eq(trainingCheckpoints.trainingId, held.id));
      return updated;
    });
    if (row) await this.announce([row]);
    return row;
  }

  async fail(held: HeldTraining, error: RunError): Promise<TrainingRow | undefined> {
    const [row] = await this.deps.database.db.update(trainings).set({ status: 'failed', finishedAt: new Date(), leaseExpiresAt: null, error }).where(heldBy(held)).returning();
    if (row) await this.announce([row]);
    return row;
  }

  /** A queued or running training becomes CANCELLED (its worker hears it and stops); a finished one stays. */
  async cancel(trainingId: string): Promise<boolean> {
    const rows = await this.deps.database.transaction(async ({ db, executeSql }) => {
      const cancelled = await db
        .update(trainings)
        .set({ status: 'cancelled', finishedAt: new Date(), leaseExpiresAt: null })
        .where(and(eq(trainings.id, trainingId), inArray(trainings.status, UNFINISHED)))
        .returning();
      await this.deps.queue.cancelTrainingJobs(cancelled.map((r) => r.jobId), executeSql);
      if (cancelled.length) await db.delete(trainingCheckpoints).where(eq(trainingCheckpoints.trainingId, trainingId));
      return cancelled;
    });
    await this.announce(rows);
    return rows.length > 0;
  }

  /** Shutdown: the training goes back to the queue at once, to resume from its checkpoint. */
  async handBack(held: HeldTraining): Promise<boolean> {
    const rows = await this.deps.database.transaction(async ({ db, executeSql }) => {
      const locked = await db.select().from(trainings).where(heldBy(held)).for('update');
      return this.requeue(db, executeSql, locked);
    });
    await this.announce(rows);
    return rows.length > 0;
  }

  /**
   * One sweep: trainings whose lease lapsed, or QUEUED ones whose queue job can no longer run them,
   * go back to the queue (from their checkpoints); those that lost their worker MAX_ATTEMPTS times fail.
   */
  async recoverLost(leaseSeconds: number, log: (line: string) => void): Promise<number> {
    const error: RunError = { code: 'WORKER_LOST', message: `its worker was lost ${MAX_ATTEMPTS} times (killed, out of memory, or its machine gone): not retried again` };
    const jobAlive = sql`EXISTS (SELECT 1 FROM pgboss.job j WHERE j.name = ${TRAINING_QUEUE} AND j.id = ${trainings.jobId}
      AND j.state NOT IN ('completed', 'cancelled', 'failed')
      AND NOT (j.state = 'active' AND j.started_on < now() - make_interval(secs => ${leaseSeconds})))`;
    const { requeued, failed } = await this.deps.database.transaction(async ({ db, executeSql }) => {
      const lost = await db
        .select()
        .from(trainings)
        .where(or(and(eq(trainings.status, 'running'), or(isNull(trainings.leaseExpiresAt), lt(trainings.leaseExpiresAt, sql`now()`))), and(eq(trainings.status, 'queued'), sql`NOT ${jobAlive}`)))
        .orderBy(trainings.seq)
        .limit(100)
        .for('update', { skipLocked: true });
      const exhausted = lost.filter((r) => r.status === 'running' && r.attempts >= MAX_ATTEMPTS);
      const failedRows = exhausted.length
        ? await db
            .update(trainings)
            .set({ status: 'failed', finishedAt: new Date(), leaseExpiresAt: null, error })
            .where(inArray(trainings.id, exhausted.map((r) => r.id)))
            .returning()
        : [];
      await this.deps.queue.cancelTrainingJobs(exhausted.map((r) => r.jobId), executeSql);
      return { requeued: await this.requeue(db, executeSql, lost.filter((r) => !exhausted.includes(r))), failed: failedRows };
    });
    if (requeued.length) log(`excite: ${requeued.length} training${requeued.length > 1 ? 's' : ''} lost ${requeued.length > 1 ? 'their' : 'its'} worker: queued again`);
    if (failed.length) log(`excite: ${failed.length} training(s) lost their worker ${MAX_ATTEMPTS} times: failed (WORKER_LOST)`);
    await this.announce([...requeued, ...failed]);
    return requeued.length + failed.length;
  }

  private async requeue(db: Db, executeSql: ExecuteSql, rows: readonly TrainingRow[]): Promise<TrainingRow[]> {
    const out: TrainingRow[] = [];
    for (const r of rows) {
      const jobId = randomUUID();
      const [updated] = await db.update(trainings).set({ status: 'queued', jobId, leaseExpiresAt: null }).where(eq(trainings.id, r.id)).returning();
      await this.deps.queue.enqueueTraining(executeSql, { id: jobId, trainingId: r.id });
      await this.deps.queue.cancelTrainingJobs([r.jobId], executeSql);
      out.push(updated);
    }
    return out;
  }
}
