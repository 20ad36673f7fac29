/**
 * The job queue: pg-boss on the service's own database, through the same `executeSql` for PGlite
 * and PostgreSQL, so that jobs are inserted in the transaction that creates their runs. A job is
 * a group of runs that one batched engine call computes.
 */
import PgBoss from 'pg-boss';
import type { Database, ExecuteSql } from '../db/database.ts';

export const SYNTHESIS_QUEUE = 'excite-synthesis';
/** trainings have a queue of their own: a worker takes one training besides its one batch of runs, so long trainings never hold up short runs */
export const TRAINING_QUEUE = 'excite-training';

export interface TrainingJob {
  trainingId: string;
}

export interface SynthesisJob {
  runIds: string[];
}

export interface QueuedJob {
  id: string;
  runIds: string[];
}

/** A job that outlives this is failed and retried (pg-boss allows less than 24 h). */
const EXPIRE_SECONDS = 12 * 3600;
/** retries after a crash (a worker that died mid-job); a run that fails in the engine is not retried */
const RETRY_LIMIT = 2;

export class JobQueue {
  private constructor(readonly boss: PgBoss) {}

  static async start(database: Database): Promise<JobQueue> {
    const boss = new PgBoss({ db: { executeSql: database.executeSql as PgBoss.Db['executeSql'] }, schema: 'pgboss' });
    boss.on('error', (e: Error) => console.error(`excite: job queue: ${e.message}`));
    // processes starting together would deadlock in pg-boss's installation: one at a time
    await database.exclusive(async () => {
      await boss.start();
      for (const name of [SYNTHESIS_QUEUE, TRAINING_QUEUE]) {
        if (!(await boss.getQueue(name))) await boss.createQueue(name, { name, retryLimit: RETRY_LIMIT, retryDelay: 1, expireInSeconds: EXPIRE_SECONDS, retentionDays: 7 });
      }
    });
    return new JobQueue(boss);
  }

  /** Inserts jobs with the caller's transaction (`executeSql` of its scope). */
  async enqueue(executeSql: ExecuteSql, jobs: readonly QueuedJob[]): Promise<void> {
    if (jobs.length === 0) return;
    await this.boss.insert(
      jobs.map((j) => ({ id: j.id, name: SYNTHESIS_QUEUE, data: { runIds: j.runIds } satisfies SynthesisJob, retryLimit: RETRY_LIMIT, retryDelay: 1, expireInSeconds: EXPIRE_SECONDS })),
      { db: { executeSql: executeSql as PgBoss.Db['executeSql'] } },
    );
  }

  /** Inserts a training's job with the caller's transaction. */
  async enqueueTraining(executeSql: ExecuteSql, job: { id: string; trainingId: string }): Promise<void> {
    await this.boss.insert([{ id: job.id, name: TRAINING_QUEUE, data: { trainingId: job.trainingId } satisfies TrainingJob, retryLimit: RETRY_LIMIT, retryDelay: 1, expireInSeconds: EXPIRE_SECONDS }], {
      db: { executeSql: executeSql as PgBoss.Db['executeSql'] },
    });
  }

  /** Cancels trainings' jobs in the caller's transaction. */
  async cancelTrainingJobs(jobIds: readonly string[], executeSql: ExecuteSql): Promise<void> {
    if (jobIds.length) await this.boss.cancel(TRAINING_QUEUE, [...jobIds], { db: { executeSql: executeSql as PgBoss.Db['executeSql'] } });
  }

  /** Runs `handler` on one training at a time; resolves to the worker's id. */
  workTrainings(pollSeconds: number, handler: (job: PgBoss.Job<TrainingJob>) => Promise<void>): Promise<string> {
    return this.boss.work<TrainingJob>(TRAINING_QUEUE, { batchSize: 1, pollingIntervalSeconds: pollSeconds }, async ([job]) => handler(job));
  }

  async stopWorkingTrainings(): Promise<void> {
    await this.boss.offWork(TRAINING_QUEUE);
  }

  /** Cancels jobs (a started one stops through its runs' cancellation), in the caller's transaction. */
  async cancel(jobIds: readonly string[], executeSql: ExecuteSql): Promise<void> {
    if (jobIds.length) await this.boss.cancel(SYNTHESIS_QUEUE, [...jobIds], { db: { executeSql: executeSql as PgBoss.Db['executeSql'] } });
  }

  /** Runs `handler` on one job at a time; resolves to the worker's id. */
  work(pollSeconds: number, handler: (job: PgBoss.Job<SynthesisJob>) => Promise<void>): Promise<string> {
    return this.boss.work<SynthesisJob>(SYNTHESIS_QUEUE, { batchSize: 1, pollingIntervalSeconds: pollSeconds }, async ([job]) => handler(job));
  }

  /** Wakes a local worker now rather than at its next poll. */
  wake(workerId: string): void {
    this.boss.notifyWorker(workerId);
  }

  async stopWorking(): Promise<void> {
    await this.boss.offWork(SYNTHESIS_QUEUE);
  }

  async stop(): Promise<void> {
    await this.boss.stop({ graceful: true, wait: true, close: false, timeout: 10_000 });
  }
}
