/**
 * The worker's training slot: one training at a time, from the training queue, beside the one job
 * of runs the worker computes (jobs/worker.ts), so a training of hours never holds up runs of
 * seconds. Every change of a training's state goes through the training store
 * (runs/training-store.ts), fenced by the attempt this worker claimed.
 *
 *   claim     the training becomes RUNNING here with a lease, renewed while it trains
 *   resume    its last checkpoint (a zip of the engine's output folder: finished members and the
 *             current member's checkpoint folder) is unpacked into a scratch folder of this machine
 *   train     the engine's own workflows (trainModel, fitReadouts) on the datasets' folders, the
 *             sessions named by the datasets' names: every batch and epoch goes out on the bus,
 *             the progress columns at most once a second and at every epoch; after every epoch and
 *             every `checkpointSeconds` within one, the folder is zipped into the database
 *   complete  the model folder is registered (source TRAINED, provenance in its model.json) and the
 *             training SUCCEEDED with it
 *
 * A cancelled training (or one another worker took over) stops between batches; a shutdown hands
 * it back to the queue at once after the batch in flight; a killed worker's lease lapses and
 * another worker's sweep requeues it.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inArray } from 'drizzle-orm';
import { unzipSync, zipSync } from 'fflate';
import type PgBoss from 'pg-boss';
import { DataFileError, type EpochReport, fitReadouts, pathInside, type PresetName, trainModel } from '@excite/engine';
import { type RunError, type TrainingEpochRow, datasets } from '../db/schema.ts';
import type { TrainingMessage } from '../events/messages.ts';
import { registerModelFolder } from '../registry/register-model.ts';
import { type HeldTraining, type TrainingProgress, type TrainingRow, TrainingStore } from '../runs/training-store.ts';
import type { ModelLoader } from './model-loader.ts';
import type { TrainingJob } from './queue.ts';
import type { WorkerDeps } from './worker.ts';
import { Stop } from './stop.ts';

/**
 * Where a training's output folder grows: on this machine, not the shared data folder (the
 * checkpoints that matter are in the database); a killed worker's folder is removed by the next
 * worker that starts on this machine.
 */
const SCRATCH = join(tmpdir(), 'excite-trainings');

async function removeLeftScratch(): Promise<void> {
  const entries = await readdir(SCRATCH).catch(() => [] as string[]);
  for (const entry of entries) {
    const pid = Number(entry.split('.').at(-1));
    if (!Number.isInteger(pid) || pid === process.pid || alive(pid)) continue;
    await rm(join(SCRATCH, entry), { recursive: true, force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}


/** Writes of the progress columns between epochs (the bus carries every batch). */
const PROGRESS_WRITE_MS = 1000;

/** The code's version recorded in a trained model's provenance: the package's and the git commit where there is one. */
export const CODE_VERSION: string = (() => {
  if (process.env.EXCITE_CODE_VERSION) return process.env.EXCITE_CODE_VERSION;
  const here = dirname(fileURLToPath(import.meta.url));
  let commit = '';
  try {
    commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: here, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    // not a git checkout (an installed package)
  }
  return commit ? `0.1.0+${commit.slice(0, 12)}` : '0.1.0';
})();

async function zipFolder(dir: string): Promise<Uint8Array> {
  const files: Record<string, [Uint8Array, { level: 0 }]> = {};
  const walk = async (d: string): Promise<void> => {
    for (const entry of await readdir(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) files[relative(dir, path)] = [await readFile(path), { level: 0 }];
    }
  };
  await walk(dir).catch((e) => {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  });
  return zipSync(files);
}

async function unzipFolder(bytes: Uint8Array, dir: string): Promise<void> {
  for (const [path, data] of Object.entries(unzipSync(bytes))) {
    if (path.endsWith('/')) continue;
    // written by this service; still, nothing outside the folder
    const file = pathInside(dir, path, 'a training checkpoint', 'file');
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, data);
  }
}

export class TrainingWorker {
  private readonly store: TrainingStore;
  private workerId?: string;
  private current?: { id: string; controller: AbortController };
  private running?: Promise<void>;
  private stopping = false;
  private unsubscribe?: () => void;
  private sweeper?: NodeJS.Timeout;
  private sweeping?: Promise<unknown>;

  constructor(private readonly deps: WorkerDeps & { name: string; device: string; loader: ModelLoader }) {
    this.store = new TrainingStore(deps);
  }

  async start(): Promise<void> {
    await removeLeftScratch();
    this.unsubscribe = this.deps.bus.subscribe('training', (m) => this.onTraining(m));
    await this.deps.bus.ready();
    await this.sweep();
    this.sweeper = setInterval(() => void this.sweep(), (this.deps.config.leaseSeconds * 1000) / 2);
    this.workerId = await this.deps.queue.workTrainings(this.deps.config.pollSeconds, (job) => {
      const running = this.run(job);
      this.running = running.finally(() => (this.running = undefined)).catch(() => undefined);
      return running;
    });
  }

  wake(): void {
    if (this.workerId) this.deps.queue.wake(this.workerId);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.sweeper);
    await this.deps.queue.stopWorkingTrainings();
    this.current?.controller.abort(new Stop('shutdown'));
    if (this.running) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.running, new Promise((r) => (timer = setTimeout(r, this.deps.config.shutdownSeconds * 1000)))]);
      clearTimeout(timer);
    }
    await this.sweeping;
    this.unsubscribe?.();
  }

  private sweep(): Promise<unknown> {
    if (this.stopping || this.sweeping) return Promise.resolve();
    const { leaseSeconds, log } = this.deps.config;
    this.sweeping = this.store
      .recoverLost(leaseSeconds, log)
      .then((n) => n > 0 && this.wake())
      .catch((e) => log(`excite: sweeping for lost trainings failed: ${(e as Error).message}`))
      .finally(() => (this.sweeping = undefined));
    return this.sweeping;
  }

  private onTraining(m: TrainingMessage): void {
    if (m.kind === 'status' && m.status === 'cancelled' && this.current?.id === m.trainingId) this.current.controller.abort(new Stop('dropped'));
  }

  private async run(job: PgBoss.Job<TrainingJob>): Promise<void> {
    if (this.stopping) throw new Error('the worker is stopping: the job goes back to the queue');
    const { config } = this.deps;
    const row = await this.store.claim(job.id, job.data.trainingId, { name: this.deps.name, device: this.deps.device }, config.leaseSeconds);
    if (!row) return;
    const held: HeldTraining = { id: row.id, attempt: row.attempts };
    const controller = new AbortController();
    this.current = { id: row.id, controller };
    const heartbeat = setInterval(() => {
      this.store.renew(held, config.leaseSeconds).then(
        (still) => !still && controller.abort(new Stop('dropped')),
        (e) => config.log(`excite: renewing the lease of training ${row.id} failed: ${(e as Error).message}`),
      );
    }, (config.leaseSeconds * 1000) / 3);
    const scratch = join(SCRATCH, `${row.id}.${row.attempts}.${process.pid}`);
    try {
      await rm(scratch, { recursive: true, force: true });
      const out = join(scratch, 'model');
      await mkdir(out, { recursive: true });
      await this.train(row, held, out, controller.signal);
    } catch (e) {
      const reason = controller.signal.reason;
      if (reason instanceof Stop && reason.why === 'shutdown') {
        if (await this.store.handBack(held)) config.log(`excite: stopping: training ${row.id} handed back to the queue`);
        return;
      }
      if (reason instanceof Stop || e instanceof Stop) return;
      const error = trainingError(e);
      config.log(`excite: training ${row.id} failed: ${error.code}: ${error.message}`);
      await this.store.fail(held, error);
    } finally {
      clearInterval(heartbeat);
      this.current = undefined;
      await rm(scratch, { recursive: true, force: true });
    }
  }

  private async train(row: TrainingRow, held: HeldTraining, out: string, signal: AbortSignal): Promise<void> {
    const { config, bus, database, blobs, loader } = this.deps;
    const recipe = row.recipe;
    const rows = await database.db.select().from(datasets).where(inArray(datasets.id, row.datasetIds));
    const sets = row.datasetIds.map((id) => rows.find((r) => r.id === id)!);
    let folders: string[];
    let core: string | undefined;
    try {
      folders = await Promise.all(sets.map((d) => loader.datasetFolder(d.id)));
      core = row.coreId ? await loader.modelFolder(row.coreId) : undefined;
    } catch (e) {
      throw Object.assign(new Error(`cannot load the training's datasets or core: ${(e as Error).message}`, { cause: e }), { code: 'MODEL_UNAVAILABLE' });
    }

    // where it stands: from the checkpoint, if an earlier attempt stored one
    const p: TrainingProgress = { member: 0, epoch: 0, step: 0, steps: 0, bestValLoss: null, lastValLoss: null, bestValCorrelation: null, lastValCorrelation: null, history: [] };
    const saved = await this.store.loadCheckpoint(row.id);
    if (saved) {
      await unzipFolder(saved.folder, out);
      Object.assign(p, { member: saved.state.member, epoch: saved.state.epoch, step: saved.state.step, history: saved.state.history });
      summarize(p);
      config.log(`excite: training ${row.id} resumes at member ${p.member + 1}, epoch ${p.epoch + 1}, batch ${p.step + 1} (attempt ${held.attempt})`);
    }
    const message = (m: Omit<TrainingMessage, 'trainingId' | 'attempt' | 'member' | 'status' | 'at'>): TrainingMessage => ({ trainingId: row.id, attempt: held.attempt, member: p.member, status: 'running', at: new Date().toISOString(), ...m });
    // the bus keeps the order of publish calls: they are chained
    let publishing: Promise<void> = Promise.resolve();
    const publish = (m: TrainingMessage) => {
      publishing = publishing.then(() => bus.publish('training', [m])).catch((e) => config.log(`excite: training ${row.id}: publishing progress failed: ${(e as Error).message}`));
    };
    let lastWrite = 0;
    let writing: Promise<void> = Promise.resolve();
    const writeProgress = (force: boolean) => {
      if (!force && Date.now() - lastWrite < PROGRESS_WRITE_MS) return;
      lastWrite = Date.now();
      const snapshot = { ...p, history: [...p.history] };
      writing = writing.then(() => this.store.progress(held, snapshot)).catch((e) => config.log(`excite: training ${row.id}: writing progress failed: ${(e as Error).message}`));
    };

    // the progress columns start where the checkpoint is (an earlier attempt may have written past it)
    if (saved) writeProgress(true);

    const events = {
      onMember: (index: number, _count: number, _seed: number, kept?: boolean) => {
        // a member finished by an earlier attempt is kept; the member resumed keeps its place
        if (kept) return;
        if (index !== p.member) Object.assign(p, { member: index, epoch: 0, step: 0, steps: 0 });
        summarize(p);
      },
      onBatch: (done: number, total: number, loss: number) => {
        p.step = done;
        p.steps = total;
        publish(message({ kind: 'batch', epoch: p.epoch + 1, batch: done, batches: total, loss }));
        writeProgress(false);
      },
      onEpoch: (r: EpochReport) => {
        p.epoch = r.epoch;
        p.step = 0;
        p.history.push({ member: p.member, epoch: r.epoch, trainLoss: r.trainLoss, valLoss: r.valLoss, valCorrelation: r.valCorrelation, lr: r.lr, improved: r.improved, action: r.action, seconds: r.seconds });
        summarize(p);
        publish(message({ kind: 'epoch', epoch: r.epoch, loss: r.trainLoss, valLoss: r.valLoss, valCorrelation: r.valCorrelation, lr: r.lr }));
        writeProgress(true);
      },
      onCheckpoint: async () => {
        const stored = await this.store.checkpoint(held, { member: p.member, epoch: p.epoch, step: p.step === p.steps ? 0 : p.step, history: [...p.history] }, await zipFolder(out));
        if (!stored) throw new Stop('dropped');
      },
      signal,
      checkpointSeconds: config.checkpointSeconds,
      // a shutdown keeps the batches done (a cancel's checkpoint is refused by the store: nothing is kept)
      checkpointOnAbort: true,
    };
    const common = {
      data: folders,
      sessions: sets.map((d) => d.name),
      images: recipe.imageRange ?? undefined,
      seed: recipe.seed,
      out,
      valFraction: recipe.validationFraction,
      plateau: { maxEpochs: recipe.maxEpochs, patience: recipe.patience, factor: recipe.decayFactor, maxDecays: recipe.maxDecays, minLr: recipe.minLr },
      lr: recipe.lr,
      batchSize: recipe.batchSize,
      // the same across attempts: an interrupted ensemble keeps the members it finished
      command: `excite service training ${row.id}`,
      provenance: {
        data: sets.map((d) => d.name),
        service: { training: row.id, kind: row.kind, datasets: sets.map((d) => ({ id: d.id, name: d.name, content_hash: d.contentHash, images: d.imageCount, neurons: d.neuronCount })), core: row.coreId, recipe, code: CODE_VERSION, device: this.deps.device },
      },
      ...events,
    };
    if (row.kind === 'readout') await fitReadouts({ ...common, core: core! });
    else await trainModel({ ...common, arch: recipe.architecture, preset: (recipe.preset ?? 'demo') as PresetName, members: recipe.members });
    await publishing;
    await writing;

    if (!(await this.store.renew(held, config.leaseSeconds))) return;
    const model = await registerModelFolder({ database, blobs }, out, { name: row.name, source: 'trained' });
    await this.store.complete(held, model.row.id, p);
  }
}

/** Best and last validation loss and median r of the current member, from its history. */
function summarize(p: TrainingProgress): void {
  const mine: TrainingEpochRow[] = p.history.filter((h) => h.member === p.member);
  const last = mine.at(-1);
  const best = mine.reduce<TrainingEpochRow | undefined>((b, h) => (!b || h.valLoss < b.valLoss ? h : b), undefined);
  p.lastValLoss = last?.valLoss ?? null;
  p.lastValCorrelation = last?.valCorrelation ?? null;
  p.bestValLoss = best?.valLoss ?? null;
  p.bestValCorrelation = best?.valCorrelation ?? null;
}

function trainingError(e: unknown): RunError {
  const message = (e as Error)?.message ?? String(e);
  if (/the training loss is/.test(message)) return { code: 'DIVERGED', message };
  if ((e as { code?: string }).code === 'MODEL_UNAVAILABLE' || e instanceof DataFileError) return { code: 'MODEL_UNAVAILABLE', message };
  return { code: 'ENGINE_FAILED', message };
}

