/**
 * The worker: takes one job at a time from the queue and computes its runs in one engine call.
 *
 *   claim     the job's unfinished runs become RUNNING (attempt + 1, worker, device)
 *   compute   synthesize.ts; every step of every run goes out on the bus, and at most once a
 *             second into the runs' progress columns
 *   complete  PNG and .npy blobs, scores by evaluator, then one transaction: runs that are still
 *             RUNNING become SUCCEEDED with their images and scores. A retried job (a worker died
 *             after that commit) finds its runs finished and writes nothing: results exist once.
 *
 * A cancelled run is dropped from the batch (the call stops when none is left); a run the engine
 * fails is FAILED with a code, not retried; a job interrupted by shutdown returns its runs to
 * QUEUED and fails in the queue, which retries it.
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import { and, eq, inArray, sql } from 'drizzle-orm';
import type PgBoss from 'pg-boss';
import { DataFileError, type Device, SynthesisError, deviceFromEnv, float32, synthesisPrior } from '@excite/engine';
import { encodeNpy } from '@excite/engine/data/npy.ts';
import type { ServiceConfig } from '../config.ts';
import type { Database } from '../db/database.ts';
import { type RunError, type RunStatus, images as imagesTable, modelNeurons, neurons, runs, scores as scoresTable } from '../db/schema.ts';
import type { Bus } from '../events/bus.ts';
import type { ProgressMessage, StatusMessage } from '../events/messages.ts';
import { BlobStore, MEDIA_TYPES, type StoredBlob, recordBlobs } from '../storage/blobs.ts';
import { encodePng } from './encode.ts';
import { ModelLoader } from './model-loader.ts';
import type { JobQueue, SynthesisJob } from './queue.ts';
import { scoreByEvaluators } from './score.ts';
import { type RunStep, type SynthesisOutput, type SynthesisTask, synthesize } from './synthesize.ts';

type RunRow = typeof runs.$inferSelect;

export interface WorkerDeps {
  database: Database;
  blobs: BlobStore;
  bus: Bus;
  queue: JobQueue;
  config: Pick<ServiceConfig, 'dataDir' | 'pollSeconds' | 'log'>;
}

interface CurrentJob {
  runIds: Set<string>;
  cancelled: Set<string>;
  controller: AbortController;
}

/** Why a job stopped early. */
class Stop extends Error {
  constructor(readonly why: 'cancelled' | 'shutdown') {
    super(why);
  }
}

/** Writes of the runs' progress columns (the bus carries every step). */
const PROGRESS_WRITE_MS = 1000;

export class Worker {
  readonly name = `${hostname()}:${process.pid}`;
  readonly device: Device = deviceFromEnv();
  private readonly loader: ModelLoader;
  private workerId?: string;
  private current?: CurrentJob;
  private unsubscribe?: () => void;

  constructor(private readonly deps: WorkerDeps) {
    this.loader = new ModelLoader(deps.database, deps.blobs, join(deps.config.dataDir, 'cache'));
  }

  async start(): Promise<void> {
    this.unsubscribe = this.deps.bus.subscribe('status', (m) => this.onStatus(m));
    await this.deps.bus.ready();
    this.workerId = await this.deps.queue.work(this.deps.config.pollSeconds, (job) => this.run(job));
  }

  /** Looks for a job now (after runs were queued in this process). */
  wake(): void {
    if (this.workerId) this.deps.queue.wake(this.workerId);
  }

  /** Stops taking jobs; a job in progress is interrupted and goes back to the queue. */
  async stop(): Promise<void> {
    this.current?.controller.abort(new Stop('shutdown'));
    this.unsubscribe?.();
    await this.deps.queue.stopWorking();
  }

  private onStatus(m: StatusMessage): void {
    const job = this.current;
    if (!job || m.status !== 'cancelled' || !job.runIds.has(m.runId)) return;
    job.cancelled.add(m.runId);
    if (job.cancelled.size === job.runIds.size) job.controller.abort(new Stop('cancelled'));
  }

  private async run(job: PgBoss.Job<SynthesisJob>): Promise<void> {
    const active = await this.claim(job.data.runIds);
    if (active.length === 0) return;
    const current: CurrentJob = { runIds: new Set(active.map((r) => r.id)), cancelled: new Set(), controller: new AbortController() };
    this.current = current;
    try {
      const task = await this.prepare(active, current.controller.signal);
      const traces = active.map(() => ({ energy: [] as number[], activation: [] as number[] }));
      let lastWrite = 0;
      const output = await synthesize(task, async (steps) => {
        for (const s of steps) {
          traces[s.run].energy.push(...s.energy);
          traces[s.run].activation.push(...s.activation);
        }
        const live = steps.filter((s) => !current.cancelled.has(active[s.run].id));
        await this.deps.bus.publish('progress', await Promise.all(live.map((s) => this.progressMessage(active[s.run], s))));
        if (Date.now() - lastWrite >= PROGRESS_WRITE_MS || live.some((s) => s.step === s.steps)) {
          lastWrite = Date.now();
          await this.writeProgress(active, live);
        }
      });
      await this.complete(active, output, traces, current);
    } catch (e) {
      const reason = current.controller.signal.reason;
      if (reason instanceof Stop && reason.why === 'shutdown') {
        await this.release(active);
        throw new Error('the worker stopped: the job goes back to the queue');
      }
      if (reason instanceof Stop) return; // every run was cancelled: they are CANCELLED already
      await this.fail(active, runError(e));
    } finally {
      this.current = undefined;
    }
  }

  /** The job's unfinished runs, now RUNNING here, in the job's order. */
  private async claim(runIds: readonly string[]): Promise<RunRow[]> {
    const claimed = await this.deps.database.db
      .update(runs)
      .set({ status: 'running', startedAt: new Date(), attempts: sql`${runs.attempts} + 1`, worker: this.name, device: this.device, step: 0, error: null })
      .where(and(inArray(runs.id, [...runIds]), inArray(runs.status, ['queued', 'running'])))
      .returning();
    const order = new Map(runIds.map((id, i) => [id, i]));
    claimed.sort((a, b) => order.get(a.id)! - order.get(b.id)!);
    await this.publishStatus(claimed, 'running');
    return claimed;
  }

  private async prepare(active: RunRow[], signal: AbortSignal): Promise<SynthesisTask> {
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

  private async writeProgress(active: RunRow[], steps: RunStep[]): Promise<void> {
    if (steps.length === 0) return;
    const ids = steps.map((s) => active[s.run].id);
    const values = sql.join(
      steps.map((s, i) => sql`(${ids[i]}::uuid, ${s.step}::int, ${mean(s.activation)}::real, ${mean(s.energy)}::real)`),
      sql`, `,
    );
    await this.deps.database.db.execute(sql`
      UPDATE ${runs} SET step = v.step, activation = v.activation, energy = v.energy, progress_at = now()
      FROM (VALUES ${values}) AS v(id, step, activation, energy)
      WHERE ${runs.id} = v.id AND ${runs.status} = 'running'`);
  }

  private async complete(active: RunRow[], output: SynthesisOutput, traces: { energy: number[]; activation: number[] }[], current: CurrentJob): Promise<void> {
    const { blobs, database, config } = this.deps;
    const wanted = active.map((r, i) => ({ run: r, i })).filter(({ run }) => !current.cancelled.has(run.id));
    const stored: StoredBlob[] = [];
    const put = async (bytes: Uint8Array, mediaType: string) => {
      const blob = await blobs.put(bytes, mediaType);
      stored.push(blob);
      return blob.hash;
    };
    const neuronRows = await this.neuronRefs(wanted.map(({ run }) => run.neuronId));
    const rows = await Promise.all(
      wanted.map(async ({ run, i }) => {
        const n = output.images[i].length;
        const trace = (values: number[]) => put(encodeNpy(float32(n > 1 ? [values.length / n, n] : [values.length], values)), MEDIA_TYPES.npy);
        const images = await Promise.all(
          output.images[i].map(async (image) => ({
            image,
            row: {
              runId: run.id,
              index: image.index,
              kind: image.kind,
              neuronId: run.neuronId,
              seed: image.seed,
              sourceIndex: image.sourceIndex,
              channels: image.pixels.shape[0],
              height: image.pixels.shape[1],
              width: image.pixels.shape[2],
              png: await put(await encodePng(image.pixels), MEDIA_TYPES.png),
              array: await put(encodeNpy(image.array), MEDIA_TYPES.npy),
              space: image.space,
              activation: image.activation,
              energy: image.energy,
            },
          })),
        );
        const last = output.images[i];
        return { run, images, energyTrace: await trace(traces[i].energy), activationTrace: await trace(traces[i].activation), energy: mean(last.map((l) => l.energy)), activation: mean(last.map((l) => l.activation)) };
      }),
    );
    // reconstructions have no neuron to score
    const scorable = rows.flatMap((r) => (r.run.neuronId === null ? [] : r.images.map((img) => ({ img, neuronId: r.run.neuronId!, neuron: neuronRows.get(r.run.neuronId!)!, pixels: img.image.pixels }))));
    const scores = await scoreByEvaluators(database.db, this.loader, scorable, config.log);
    const scoresOf = new Map(scorable.map((x, k) => [x.img, scores[k]]));

    const finished = await database.transaction(async ({ db }) => {
      await recordBlobs(db, stored);
      const done: RunRow[] = [];
      for (const r of rows) {
        const [updated] = await db
          .update(runs)
          .set({ status: 'succeeded', finishedAt: new Date(), seconds: output.seconds, step: r.run.steps, energy: r.energy, activation: r.activation, energyTrace: r.energyTrace, activationTrace: r.activationTrace })
          .where(and(eq(runs.id, r.run.id), eq(runs.status, 'running')))
          .returning();
        if (!updated) continue; // cancelled meanwhile, or finished by an earlier attempt
        done.push(updated);
        const inserted = await db
          .insert(imagesTable)
          .values(r.images.map((img) => img.row))
          .onConflictDoNothing()
          .returning({ id: imagesTable.id, index: imagesTable.index });
        const byIndex = new Map(inserted.map((x) => [x.index, x.id]));
        const scoreRows = r.images.flatMap((img) => {
          const imageId = byIndex.get(img.row.index);
          return imageId ? (scoresOf.get(img) ?? []).map((sc) => ({ imageId, evaluatorId: sc.evaluatorId, value: sc.value })) : [];
        });
        if (scoreRows.length) await db.insert(scoresTable).values(scoreRows).onConflictDoNothing();
      }
      return done;
    });
    await this.publishStatus(finished, 'succeeded');
  }

  private async neuronRefs(ids: (string | null)[]) {
    const wanted = [...new Set(ids.filter((id): id is string => id !== null))];
    const rows = wanted.length ? await this.deps.database.db.select().from(neurons).where(inArray(neurons.id, wanted)) : [];
    return new Map(rows.map((n) => [n.id, { session: n.session, neuron: n.index }]));
  }

  private async fail(active: RunRow[], error: RunError): Promise<void> {
    this.deps.config.log(`excite: runs ${active.map((r) => r.id).join(', ')} failed: ${error.code}: ${error.message}`);
    const failed = await this.deps.database.db
      .update(runs)
      .set({ status: 'failed', finishedAt: new Date(), error })
      .where(and(inArray(runs.id, active.map((r) => r.id)), eq(runs.status, 'running')))
      .returning();
    await this.publishStatus(failed, 'failed', error);
  }

  /** Shutdown: the runs wait in the queue again. */
  private async release(active: RunRow[]): Promise<void> {
    const released = await this.deps.database.db
      .update(runs)
      .set({ status: 'queued', step: 0 })
      .where(and(inArray(runs.id, active.map((r) => r.id)), eq(runs.status, 'running')))
      .returning();
    await this.publishStatus(released, 'queued');
  }

  private async publishStatus(rows: RunRow[], status: RunStatus, error: RunError | null = null): Promise<void> {
    const at = new Date().toISOString();
    await this.deps.bus.publish(
      'status',
      rows.map((r) => ({ runId: r.id, batchId: r.batchId, status, error, at })),
    );
  }
}

function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
}

/** The code and message a failed run records. */
function runError(e: unknown): RunError {
  const message = (e as Error)?.message ?? String(e);
  if (e instanceof SynthesisError) return { code: 'DIVERGED', message };
  if ((e as { code?: string }).code === 'MODEL_UNAVAILABLE' || e instanceof DataFileError) return { code: 'MODEL_UNAVAILABLE', message };
  return { code: 'ENGINE_FAILED', message };
}
