/**
 * Run state, in one place: every change of a run's status, lease, progress, checkpoint and results
 * goes through here, written with Drizzle over the schema's tables (the queue's own tables are
 * pg-boss's, reached through `JobQueue`), and every change is announced on the bus by `announce`.
 *
 *   QUEUED --claim--> RUNNING --complete--> SUCCEEDED
 *                       |   \--fail------> FAILED
 *                       |    \-handBack / recoverLost (lease lapsed)--> QUEUED (a new job, from the checkpoint)
 *   QUEUED, RUNNING --cancel--> CANCELLED
 *
 * One fencing rule for a worker's writes: a claim increments the run's `attempts`, and every later
 * write of that worker (lease, progress, checkpoint, results, failure, hand-back) names the attempt
 * it claimed and changes the run only while it is RUNNING in that attempt. A worker that lost its
 * lease (and may still be computing) therefore changes nothing of its successor's run.
 *
 * Crash recovery: pg-boss 10 has no worker heartbeat (a dead worker's job would wait for its
 * 12-hour expiry), so runs carry their own lease, renewed every third of `leaseSeconds` while the
 * worker computes. Every worker also sweeps (`recoverLost`): a RUNNING run whose lease lapsed, and a
 * QUEUED run whose queue job can no longer run it (fetched by a worker that died before claiming
 * it, or ended otherwise), goes back to the queue as a new job of the same runs; the old job is
 * cancelled so that pg-boss never retries it. A run that lost its worker `MAX_ATTEMPTS` times fails
 * with WORKER_LOST rather than taking down worker after worker.
 */
import { randomUUID } from 'node:crypto';
import { type SQL, and, eq, inArray, isNull, lt, or, sql } from 'drizzle-orm';
import type { Database, Db, ExecuteSql } from '../db/database.ts';
import { type RunError, type RunStatus, images, runCheckpoints, runs, scores } from '../db/schema.ts';
import type { Bus } from '../events/bus.ts';
import type { StatusMessage } from '../events/messages.ts';
import { type RunCheckpoint, encodeRunCheckpoint } from '../jobs/checkpoints.ts';
import { type JobQueue, type QueuedJob, SYNTHESIS_QUEUE } from '../jobs/queue.ts';
import { type StoredBlob, recordBlobs } from '../storage/blobs.ts';

export type RunRow = typeof runs.$inferSelect;
type NewImage = typeof images.$inferInsert;

/** Claims of a run (crashes and shutdowns) after which a run whose worker is lost again fails. */
export const MAX_ATTEMPTS = 5;

/** The runs a worker holds: run id to the attempt it claimed. */
export type Held = ReadonlyMap<string, number>;

export interface StepProgress {
  runId: string;
  step: number;
  activation: number;
  energy: number;
}

/** A run's results, ready to store: the blobs are written, the rows name them. */
export interface RunResult {
  runId: string;
  seconds: number;
  steps: number;
  energy: number;
  activation: number;
  energyTrace: string;
  activationTrace: string;
  images: { row: Omit<NewImage, 'runId'>; scores: { evaluatorId: string; value: number }[] }[];
}

const UNFINISHED: RunStatus[] = ['queued', 'running'];

/** The fencing rule: RUNNING in the attempt the writer claimed. */
function heldBy(held: Held): SQL {
  const pairs = sql.join(
    [...held].map(([id, attempt]) => sql`(${id}::uuid, ${attempt}::int)`),
    sql`, `,
  );
  return and(eq(runs.status, 'running'), sql`(${runs.id}, ${runs.attempts}) IN (${pairs})`)!;
}

/** A run's progress column as its checkpoint left it (0 without one). */
const checkpointedStep = sql`coalesce((SELECT ${runCheckpoints.step} FROM ${runCheckpoints} WHERE ${runCheckpoints.runId} = ${runs.id}), 0)`;

export class RunStore {
  constructor(private readonly deps: { database: Database; queue: JobQueue; bus: Bus }) {}

  /** Tells every API process (and the worker computing a run) that runs changed status. */
  private async announce(rows: readonly Pick<RunRow, 'id' | 'batchId'>[], status: RunStatus, error: RunError | null = null): Promise<void> {
    const at = new Date().toISOString();
    await this.deps.bus.publish(
      'status',
      rows.map((r): StatusMessage => ({ runId: r.id, batchId: r.batchId, status, error, at })),
    );
  }

  /** The job's waiting runs (QUEUED, or RUNNING with a lapsed lease) become RUNNING here, in the job's order. */
  async claim(jobId: string, runIds: readonly string[], worker: { name: string; device: string }, leaseSeconds: number): Promise<RunRow[]> {
    const claimed = await this.deps.database.db
      .update(runs)
      .set({
        status: 'running',
        startedAt: new Date(),
        attempts: sql`${runs.attempts} + 1`,
        worker: worker.name,
        device: worker.device,
        leaseExpiresAt: sql`now() + make_interval(secs => ${leaseSeconds})`,
        step: checkpointedStep,
        error: null,
      })
      .where(
        and(
          eq(runs.jobId, jobId),
          inArray(runs.id, [...runIds]),
          or(eq(runs.status, 'queued'), and(eq(runs.status, 'running'), or(isNull(runs.leaseExpiresAt), lt(runs.leaseExpiresAt, sql`now()`)))),
        ),
      )
      .returning();
    const order = new Map(runIds.map((id, i) => [id, i]));
    claimed.sort((a, b) => order.get(a.id)! - order.get(b.id)!);
    await this.announce(claimed, 'running');
    return claimed;
  }

  /** Renews the leases of runs still held; returns the ids still held. */
  async renew(held: Held, leaseSeconds: number): Promise<Set<string>> {
    if (held.size === 0) return new Set();
    const renewed = await this.deps.database.db
      .update(runs)
      .set({ leaseExpiresAt: sql`now() + make_interval(secs => ${leaseSeconds})` })
      .where(heldBy(held))
      .returning({ id: runs.id });
    return new Set(renewed.map((r) => r.id));
  }

  /** The runs' progress columns (the bus carries every step; these are what a query reads). */
  async progress(held: Held, steps: readonly StepProgress[]): Promise<void> {
    if (steps.length === 0) return;
    const values = sql.join(
      steps.map((s) => sql`(${s.runId}::uuid, ${s.step}::int, ${s.activation}::real, ${s.energy}::real)`),
      sql`, `,
    );
    const mine = new Map(steps.map((s) => [s.runId, held.get(s.runId)!]));
    await this.deps.database.db.execute(sql`
      UPDATE ${runs} SET step = v.step, activation = v.activation, energy = v.energy, progress_at = now()
      FROM (VALUES ${values}) AS v(id, step, activation, energy)
      WHERE ${runs.id} = v.id AND ${heldBy(mine)}`);
  }

  /** Stores checkpoints of runs still held, in one transaction; returns how many were stored. */
  async checkpoint(held: Held, checkpoints: ReadonlyMap<string, RunCheckpoint>): Promise<number> {
    return this.deps.database.transaction(async ({ db }) => {
      let stored = 0;
      for (const [runId, c] of checkpoints) {
        const { step, state, tensors } = encodeRunCheckpoint(c);
        const attempt = held.get(runId)!;
        const written = await db
          .insert(runCheckpoints)
          .select(
            db
              .select({ runId: runs.id, attempt: sql<number>`${attempt}::int`.as('attempt'), step: sql<number>`${step}::int`.as('step'), state: sql`${JSON.stringify(state)}::jsonb`.as('state'), tensors: sql`${tensors}`.as('tensors'), updatedAt: sql`now()`.as('updated_at') })
              .from(runs)
              .where(and(eq(runs.id, runId), heldBy(new Map([[runId, attempt]])))),
          )
          .onConflictDoUpdate({
            target: runCheckpoints.runId,
            set: { attempt: sql`excluded.attempt`, step: sql`excluded.step`, state: sql`excluded.state`, tensors: sql`excluded.tensors`, updatedAt: sql`excluded.updated_at` },
          })
          .returning({ runId: runCheckpoints.runId });
        stored += written.length;
      }
      return stored;
    });
  }

  /**
   * In one transaction: the blobs recorded, and each run still held SUCCEEDED with its images,
   * their scores and its checkpoint dropped. A run cancelled or taken over meanwhile gets nothing
   * (its blobs stay recorded; they are content-addressed). Returns the runs that succeeded.
   */
  async complete(held: Held, results: readonly RunResult[], blobs: readonly StoredBlob[]): Promise<RunRow[]> {
    const done = await this.deps.database.transaction(async ({ db }) => {
      await recordBlobs(db, blobs);
      const succeeded: RunRow[] = [];
      for (const r of results) {
        const [updated] = await db
          .update(runs)
          .set({ status: 'succeeded', finishedAt: new Date(), leaseExpiresAt: null, seconds: r.seconds, step: r.steps, energy: r.energy, activation: r.activation, energyTrace: r.energyTrace, activationTrace: r.activationTrace })
          .where(and(eq(runs.id, r.runId), heldBy(new Map([[r.runId, held.get(r.runId)!]]))))
          .returning();
        if (!updated) continue;
        succeeded.push(updated);
        const inserted = await db
          .insert(images)
          .values(r.images.map((img) => ({ ...img.row, runId: r.runId })))
          .onConflictDoNothing()
          .returning({ id: images.id, index: images.index });
        const byIndex = new Map(inserted.map((x) => [x.index, x.id]));
        const scoreRows = r.images.flatMap((img) => {
          const imageId = byIndex.get(img.row.index);
          return imageId ? img.scores.map((s) => ({ imageId, evaluatorId: s.evaluatorId, value: s.value })) : [];
        });
        if (scoreRows.length) await db.insert(scores).values(scoreRows).onConflictDoNothing();
      }
      await dropCheckpoints(db, succeeded.map((r) => r.id));
      return succeeded;
    });
    await this.announce(done, 'succeeded');
    return done;
  }

  /** Runs still held become FAILED with the error; returns them. */
  async fail(held: Held, error: RunError): Promise<RunRow[]> {
    if (held.size === 0) return [];
    const failed = await this.deps.database.db.update(runs).set({ status: 'failed', finishedAt: new Date(), leaseExpiresAt: null, error }).where(heldBy(held)).returning();
    await this.announce(failed, 'failed', error);
    return failed;
  }

  /**
   * Queued and running runs become CANCELLED; a job none of whose runs is left is cancelled in the
   * queue; a worker computing one of them hears the status and drops it. Finished runs stay.
   */
  async cancel(where: { runId: string } | { batchId: string }): Promise<number> {
    const cancelled = await this.deps.database.transaction(async ({ db, executeSql }) => {
      const rows = await db
        .update(runs)
        .set({ status: 'cancelled', finishedAt: new Date(), leaseExpiresAt: null })
        .where(and('runId' in where ? eq(runs.id, where.runId) : eq(runs.batchId, where.batchId), inArray(runs.status, UNFINISHED)))
        .returning();
      const jobIds = [...new Set(rows.map((r) => r.jobId))];
      if (jobIds.length) {
        const open = await db
          .selectDistinct({ jobId: runs.jobId })
          .from(runs)
          .where(and(inArray(runs.jobId, jobIds), inArray(runs.status, UNFINISHED)));
        const busy = new Set(open.map((r) => r.jobId));
        await this.deps.queue.cancel(
          jobIds.filter((id) => !busy.has(id)),
          executeSql,
        );
      }
      return rows;
    });
    await this.announce(cancelled, 'cancelled');
    return cancelled.length;
  }

  /** A worker hands back the runs it holds (shutdown): they go back to the queue at once, resuming from their checkpoints. */
  async handBack(held: Held): Promise<number> {
    if (held.size === 0) return 0;
    const requeued = await this.deps.database.transaction(async ({ db, executeSql }) => {
      const rows = await db.select().from(runs).where(heldBy(held)).orderBy(runs.seq).for('update');
      return this.requeue(db, executeSql, rows);
    });
    await this.announce(requeued, 'queued');
    return requeued.length;
  }

  /**
   * One sweep (see the top of this file): requeues runs whose worker is gone and fails those that
   * lost theirs too often. Several workers may sweep at once: each takes the rows the others have
   * not locked. Returns how many runs it changed.
   */
  async recoverLost(leaseSeconds: number, log: (line: string) => void): Promise<number> {
    const error: RunError = { code: 'WORKER_LOST', message: `its worker was lost ${MAX_ATTEMPTS} times (killed, out of memory, or its machine gone): not retried again` };
    // a queued run's job can still run it while pg-boss has it waiting, or active and not stale
    const jobAlive = sql`EXISTS (SELECT 1 FROM pgboss.job j WHERE j.name = ${SYNTHESIS_QUEUE} AND j.id = ${runs.jobId}
      AND j.state NOT IN ('completed', 'cancelled', 'failed')
      AND NOT (j.state = 'active' AND j.started_on < now() - make_interval(secs => ${leaseSeconds})))`;
    const { requeued, failed } = await this.deps.database.transaction(async ({ db, executeSql }) => {
      const lost = await db
        .select()
        .from(runs)
        .where(or(and(eq(runs.status, 'running'), or(isNull(runs.leaseExpiresAt), lt(runs.leaseExpiresAt, sql`now()`))), and(eq(runs.status, 'queued'), sql`NOT ${jobAlive}`)))
        .orderBy(runs.seq)
        .limit(1000)
        .for('update', { skipLocked: true });
      const exhausted = lost.filter((r) => r.status === 'running' && r.attempts >= MAX_ATTEMPTS);
      if (exhausted.length) {
        await db
          .update(runs)
          .set({ status: 'failed', finishedAt: new Date(), leaseExpiresAt: null, error })
          .where(inArray(runs.id, exhausted.map((r) => r.id)));
        await this.deps.queue.cancel([...new Set(exhausted.map((r) => r.jobId))], executeSql);
      }
      return { requeued: await this.requeue(db, executeSql, lost.filter((r) => !exhausted.includes(r))), failed: exhausted };
    });
    if (requeued.length) log(`excite: ${requeued.length} run${requeued.length > 1 ? 's' : ''} lost ${requeued.length > 1 ? 'their' : 'its'} worker: queued again`);
    if (failed.length) log(`excite: ${failed.length} run(s) lost their worker ${MAX_ATTEMPTS} times: failed (WORKER_LOST)`);
    await this.announce(requeued, 'queued');
    await this.announce(failed, 'failed', error);
    return requeued.length + failed.length;
  }

  /** Runs locked by the caller's transaction go back to the queue: each old job's runs become one new job. */
  private async requeue(db: Db, executeSql: ExecuteSql, rows: readonly RunRow[]): Promise<RunRow[]> {
    if (rows.length === 0) return [];
    const byJob = new Map<string, RunRow[]>();
    for (const r of rows) byJob.set(r.jobId, [...(byJob.get(r.jobId) ?? []), r]);
    const jobs: QueuedJob[] = [...byJob.values()].map((group) => ({ id: randomUUID(), runIds: group.map((r) => r.id) }));
    for (const job of jobs) {
      await db.update(runs).set({ status: 'queued', jobId: job.id, leaseExpiresAt: null, step: checkpointedStep }).where(inArray(runs.id, job.runIds));
    }
    await this.deps.queue.enqueue(executeSql, jobs);
    await this.deps.queue.cancel([...byJob.keys()], executeSql);
    return [...rows];
  }
}

/** Checkpoints of finished runs are of no more use. */
async function dropCheckpoints(db: Db, runIds: readonly string[]): Promise<void> {
  if (runIds.length) await db.delete(runCheckpoints).where(inArray(runCheckpoints.runId, [...runIds]));
}
