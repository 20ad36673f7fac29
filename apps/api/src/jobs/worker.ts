/**
 * The worker: takes one job at a time from the queue and computes its runs in one engine call.
 * Every change of a run's state goes through the run store (runs/run-store.ts), which fences each
 * write by the attempt this worker claimed.
 *
 *   claim     the job's runs that wait become RUNNING here with a lease, renewed while the job runs
 *   compute   synthesize.ts, from the runs' checkpoints when they have them; every step of every
 *             run goes out on the bus, at most once a second into the runs' progress columns, and
 *             every `checkpointSeconds` the engine's state into the runs' checkpoints
 *   complete  result-writer.ts writes the blobs and scores; the store marks the runs still held
 *             SUCCEEDED with them in one transaction. A retry of a run that finished writes
 *             nothing: results exist once.
 *
 * A cancelled run (or one whose lease another worker took over) is dropped from the batch; the
 * call stops when none is left. A run the engine fails is FAILED with a code, not retried. On
 * shutdown the step in flight finishes, is checkpointed, and the runs go back to the queue at once
 * (a worker that is killed instead loses its lease, and another worker's sweep requeues them).
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import { and, eq, inArray } from 'drizzle-orm';
import type PgBoss from 'pg-boss';
import { DataFileError, type Device, SessionCache, SynthesisError, deviceFromEnv, synthesisPrior, mean } from '@excite/engine';
import { type ServiceConfig, archiveLimits } from '../config.ts';
import type { Database } from '../db/database.ts';
import { type RunError, modelNeurons } from '../db/schema.ts';
import type { Bus } from '../events/bus.ts';
import type { ProgressMessage, StatusMessage } from '../events/messages.ts';
import { RunStore, type RunRow } from '../runs/run-store.ts';
import type { BlobStore } from '../storage/blobs.ts';
import { type RunCheckpoint, loadCheckpoints } from './checkpoints.ts';
import { encodePng } from './encode.ts';
import { ModelLoader } from './model-loader.ts';
import type { JobQueue, SynthesisJob } from './queue.ts';
import { TrainingWorker } from './training-worker.ts';
import { type Trace, writeResults } from './result-writer.ts';
import { type RunCheckpoints, type RunStep, type SynthesisOutput, type SynthesisTask, synthesize } from './synthesize.ts';
import { Stop } from './stop.ts';

export interface WorkerDeps {
  database: Database;
  blobs: BlobStore;
  bus: Bus;
  queue: JobQueue;
  config: Pick<ServiceConfig, 'dataDir' | 'pollSeconds' | 'leaseSeconds' | 'checkpointSeconds' | 'shutdownSeconds' | 'sessionCache' | 'log' | 'limits'>;
}

interface CurrentJob {
  runIds: Set<string>;
  /** the attempt of each run this worker claimed: its writes name it */
  attempts: Map<string, number>;
  /** runs no longer computed for: cancelled, or taken over after a lapsed lease */
  dropped: Set<string>;
  controller: AbortController;
}


/** Writes of the runs' progress columns (the bus carries every step). */
const PROGRESS_WRITE_MS = 1000;

export class Worker {
  readonly name = `${hostname()}:${process.pid}`;
  readonly device: Device = deviceFromEnv();
  private readonly loader: ModelLoader;
  private readonly store: RunStore;
  private workerId?: string;
  private current?: CurrentJob;
  /** the job being computed, until its handler returns */
  private running?: Promise<void>;
  private stopping = false;
  private unsubscribe?: () => void;
  private sweeper?: NodeJS.Timeout;
  private sweeping?: Promise<unknown>;

  /** compiled graphs kept between jobs (one job runs at a time, so an evicted session is idle) */
  private readonly sessions?: SessionCache;

  /** the training slot: one training at a time beside the one job of runs (jobs/training-worker.ts) */
  private readonly trainings: TrainingWorker;

  constructor(private readonly deps: WorkerDeps) {
    this.loader = new ModelLoader(deps.database, deps.blobs, join(deps.config.dataDir, 'cache'), archiveLimits(deps.config.limits));
    this.store = new RunStore(deps);
    this.trainings = new TrainingWorker({ ...deps, name: this.name, device: this.device, loader: this.loader });
    if (deps.config.sessionCache > 0) this.sessions = new SessionCache({ capacity: deps.config.sessionCache });
  }

  async start(): Promise<void> {
    this.unsubscribe = this.deps.bus.subscribe('status', (m) => this.onStatus(m));
    await this.deps.bus.ready();
    // runs a dead worker left behind (this process's predecessor too) are requeued first
    await this.sweep();
    this.sweeper = setInterval(() => void this.sweep(), (this.deps.config.leaseSeconds * 1000) / 2);
    this.workerId = await this.deps.queue.work(this.deps.config.pollSeconds, (job) => {
      const running = this.run(job);
      this.running = running.finally(() => (this.running = undefined)).catch(() => undefined);
      return running;
    });
    await this.trainings.start();
  }

  /** Looks for a job now (after runs or a training were queued in this process). */
  wake(): void {
    if (this.workerId) this.deps.queue.wake(this.workerId);
    this.trainings.wake();
  }

  /**
   * Stops taking jobs. A job in progress finishes its step in flight, checkpoints it and hands its
   * runs back to the queue; after `shutdownSeconds` they are handed back without that step.
   */
  async stop(): Promise<void> {
    const trainings = this.trainings.stop();
    this.stopping = true;
    clearInterval(this.sweeper);
    await this.deps.queue.stopWorking();
    const current = this.current;
    current?.controller.abort(new Stop('shutdown'));
    if (this.running) {
      let timer: NodeJS.Timeout | undefined;
      const late = await Promise.race([this.running.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), this.deps.config.shutdownSeconds * 1000)))]);
      clearTimeout(timer);
      if (late && current) {
        this.deps.config.log(`excite: the step in flight did not finish within ${this.deps.config.shutdownSeconds} s: its runs go back to the queue from their last checkpoint`);
        await this.store.handBack(current.attempts);
      }
    }
    await this.sweeping;
    await trainings;
    this.unsubscribe?.();
    await this.sessions?.clear();
  }

  /** Requeues runs whose worker is gone (the run store's recoverLost); errors are logged, the next sweep tries again. */
  private sweep(): Promise<unknown> {
    if (this.stopping || this.sweeping) return Promise.resolve();
    const { leaseSeconds, log } = this.deps.config;
    this.sweeping = this.store
      .recoverLost(leaseSeconds, log)
      .then((n) => n > 0 && this.wake())
      .catch((e) => log(`excite: sweeping for lost runs failed: ${(e as Error).message}`))
      .finally(() => (this.sweeping = undefined));
    return this.sweeping;
  }

  private onStatus(m: StatusMessage): void {
    const job = this.current;
    if (!job || m.status !== 'cancelled' || !job.runIds.has(m.runId)) return;
    this.drop(job, [m.runId]);
  }

  private drop(job: CurrentJob, runIds: Iterable<string>): void {
    for (const id of runIds) job.dropped.add(id);
    if (job.dropped.size === job.runIds.size) job.controller.abort(new Stop('dropped'));
  }

  private async run(job: PgBoss.Job<SynthesisJob>): Promise<void> {
    if (this.stopping) throw new Error('the worker is stopping: the job goes back to the queue');
    const active = await this.store.claim(job.id, job.data.runIds, { name: this.name, device: this.device }, this.deps.config.leaseSeconds);
    if (active.length === 0) return;
    const current: CurrentJob = { runIds: new Set(active.map((r) => r.id)), attempts: new Map(active.map((r) => [r.id, r.attempts])), dropped: new Set(), controller: new AbortController() };
    this.current = current;
    const { leaseSeconds, checkpointSeconds } = this.deps.config;
    const heartbeat = setInterval(() => {
      const held = new Map([...current.attempts].filter(([id]) => !current.dropped.has(id)));
      this.store.renew(held, leaseSeconds).then(
        (still) => this.drop(current, [...held.keys()].filter((id) => !still.has(id))),
        (e) => this.deps.config.log(`excite: renewing the leases of runs ${[...held.keys()].join(', ')} failed: ${(e as Error).message}`),
      );
    }, (leaseSeconds * 1000) / 3);
    try {
      const resumed = await this.resumeFrom(active);
      const task = await this.prepare(active, current.controller.signal, resumed?.map((r) => r.checkpoint));
      const traces: Trace[] = resumed ? resumed.map((r) => ({ energy: r.energy, activation: r.activation })) : active.map(() => ({ energy: [], activation: [] }));
      let lastWrite = 0;
      let lastCheckpoint = Date.now();
      const output = await synthesize(task, async (steps, checkpoints) => {
        for (const s of steps) {
          traces[s.run].energy.push(...s.energy);
          traces[s.run].activation.push(...s.activation);
        }
        const live = steps.filter((s) => !current.dropped.has(active[s.run].id));
        await this.deps.bus.publish('progress', await Promise.all(live.map((s) => this.progressMessage(active[s.run], s))));
        if (Date.now() - lastWrite >= PROGRESS_WRITE_MS || live.some((s) => s.step === s.steps)) {
          lastWrite = Date.now();
          await this.store.progress(current.attempts, live.map((l) => ({ runId: active[l.run].id, step: l.step, activation: mean(l.activation), energy: mean(l.energy) })));
        }
        // last: a shutdown that came during this step still gets the step checkpointed
        if (checkpoints && (Date.now() - lastCheckpoint >= checkpointSeconds * 1000 || current.controller.signal.aborted)) {
          lastCheckpoint = Date.now();
          await this.checkpoint(active, current, checkpoints, traces);
        }
      });
      await this.complete(active, output, traces, current);
    } catch (e) {
      const reason = current.controller.signal.reason;
      if (reason instanceof Stop && reason.why === 'shutdown') {
        const n = await this.store.handBack(current.attempts);
        this.deps.config.log(`excite: stopping: ${n} run${n === 1 ? '' : 's'} handed back to the queue`);
        return;
      }
      if (reason instanceof Stop) return; // every run was cancelled or taken over: nothing left to store
      const error = runError(e);
      this.deps.config.log(`excite: runs ${active.map((r) => r.id).join(', ')} failed: ${error.code}: ${error.message}`);
      await this.store.fail(new Map([...current.attempts].filter(([id]) => !current.dropped.has(id))), error);
    } finally {
      clearInterval(heartbeat);
      this.current = undefined;
    }
  }

  /** Each run's checkpoint when every run of the job has one at the same step (else they start over). */
  private async resumeFrom(active: RunRow[]): Promise<RunCheckpoint[] | undefined> {
    const found = await loadCheckpoints(this.deps.database.db, active.map((r) => r.id));
    const list = active.map((r) => found.get(r.id));
    if (list.some((c) => !c) || new Set(list.map((c) => c!.checkpoint.step)).size !== 1) return undefined;
    return list as RunCheckpoint[];
  }

  private async checkpoint(active: RunRow[], current: CurrentJob, checkpoints: RunCheckpoints, traces: Trace[]): Promise<void> {
    const parts = checkpoints();
    const wanted = new Map<string, RunCheckpoint>();
    active.forEach((r, i) => !current.dropped.has(r.id) && wanted.set(r.id, { checkpoint: parts[i], energy: [...traces[i].energy], activation: [...traces[i].activation] }));
    try {
      await this.store.checkpoint(current.attempts, wanted);
    } catch (e) {
      // a missed checkpoint costs only the steps since the previous one
      this.deps.config.log(`excite: checkpointing runs ${[...wanted.keys()].join(', ')} failed: ${(e as Error).message}`);
    }
  }

  private async prepare(active: RunRow[], signal: AbortSignal, resume?: SynthesisTask['resume']): Promise<SynthesisTask> {
    const first = active[0];
    try {
      const generator = await this.loader.encoder(first.generatorId);
      const prior = first.priorId ? synthesisPrior(await this.loader.prior(first.priorId)) : undefined;
      const dataset = first.datasetId ? (await this.loader.dataset(first.datasetId)).archive : undefined;
      const neuronIds = active.map((r) => r.neuronId).filter((id): id is string => id !== null);
      const columns = new Map(
        neuronIds.length
          ? (
              await this.deps.database.db
                .select({ neuronId: modelNeurons.neuronId, column: modelNeurons.column })
                .from(modelNeurons)
                .where(and(eq(modelNeurons.modelId, first.generatorId), inArray(modelNeurons.neuronId, neuronIds)))
            ).map((c) => [c.neuronId, c.column])
          : [],
      );
      return {
        method: first.method,
        settings: first.settings,
        generator: generator.scoring,
        prior,
        dataset,
        runs: active.map((r) => ({ column: r.neuronId ? columns.get(r.neuronId)! : null, targetImage: r.targetImage, seed: r.seed })),
        signal,
        resume,
        sessions: this.sessions,
      };
    } catch (e) {
      throw Object.assign(new Error(`cannot load the run's models: ${(e as Error).message}`, { cause: e }), { code: 'MODEL_UNAVAILABLE' });
    }
  }

  private async progressMessage(run: RunRow, s: RunStep): Promise<ProgressMessage> {
    const [channels, height, width] = s.preview.shape;
    const png = await encodePng(s.preview);
    return {
      runId: run.id,
      attempt: run.attempts,
      step: s.step,
      steps: s.steps,
      timestep: s.timestep,
      energy: mean(s.energy),
      activation: mean(s.activation),
      preview: { width, height, channels, png: png.toString('base64') },
      at: new Date().toISOString(),
    };
  }

  private async complete(active: RunRow[], output: SynthesisOutput, traces: Trace[], current: CurrentJob): Promise<void> {
    const wanted = active.map((run, i) => ({ run, i })).filter(({ run }) => !current.dropped.has(run.id));
    const { results, blobs } = await writeResults({ database: this.deps.database, blobs: this.deps.blobs, loader: this.loader, log: this.deps.config.log }, wanted, output, traces);
    await this.store.complete(current.attempts, results, blobs);
  }
}

/** The code and message a failed run records. */
function runError(e: unknown): RunError {
  const message = (e as Error)?.message ?? String(e);
  if (e instanceof SynthesisError) return { code: 'DIVERGED', message };
  if ((e as { code?: string }).code === 'MODEL_UNAVAILABLE' || e instanceof DataFileError) return { code: 'MODEL_UNAVAILABLE', message };
  return { code: 'ENGINE_FAILED', message };
}
