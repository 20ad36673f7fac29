/**
 * Starting runs: a batch is generators x methods x neurons (or target images) x seeds. Everything
 * is checked first; then one transaction writes the batch, its runs and their queue jobs, so a
 * refused call leaves nothing behind. Runs that one engine call can compute together (same
 * generator, method, settings, prior and dataset) share a job, up to `maxRunsPerJob`.
 */
import { randomUUID } from 'node:crypto';
import type { ImageShape } from '@excite/engine';
import { and, eq, inArray } from 'drizzle-orm';
import type { ServiceConfig } from '../config.ts';
import type { Database, Db, TransactionScope } from '../db/database.ts';
import { type Method, type RunSettings, batches, datasets, modelNeurons, models, neurons, runs } from '../db/schema.ts';
import { isUuid } from '../db/uuid.ts';
import { ServiceError, notFound } from '../errors.ts';
import type { JobQueue, QueuedJob } from '../jobs/queue.ts';
import { type SettingsInput, needsDataset, needsPrior, resolveSettings } from './settings.ts';

export interface NeuronInput {
  session: string;
  index: number;
}

export interface StartRunsRequest {
  generators: readonly string[];
  methods: readonly Method[];
  neurons?: readonly NeuronInput[] | null;
  targetImages?: readonly number[] | null;
  seeds?: readonly number[] | null;
  prior?: string | null;
  dataset?: string | null;
  settings?: SettingsInput | null;
  label?: string | null;
}

export interface RunStarter {
  database: Database;
  queue: JobQueue;
  config: Pick<ServiceConfig, 'limits'>;
}

export type BatchRow = typeof batches.$inferSelect;
type NewRun = typeof runs.$inferInsert;

const MAX_SEED = 2 ** 31 - 1;
const describeNeuron = (n: NeuronInput) => `${n.session}:${n.index}`;

/** Validates, then writes the batch, its runs and jobs in `scope` (the caller's transaction). */
export async function createBatch(starter: RunStarter, scope: TransactionScope, request: StartRunsRequest): Promise<{ batch: BatchRow; jobs: QueuedJob[] }> {
  const { limits } = starter.config;
  const methods = unique(request.methods, 'methods');
  const seeds = unique(request.seeds ?? [0], 'seeds');
  const generators = unique(request.generators, 'generators');
  const neuronList = request.neurons ?? [];
  const targets = request.targetImages ?? [];
  if (methods.length === 0) throw new ServiceError('BAD_USER_INPUT', 'methods is empty: name at least one method');
  if (seeds.length === 0) throw new ServiceError('BAD_USER_INPUT', 'seeds is empty: give at least one seed');
  for (const s of seeds) if (!Number.isInteger(s) || s < 0 || s > MAX_SEED) throw new ServiceError('BAD_USER_INPUT', `seed ${s} is not an integer from 0 to ${MAX_SEED}`);
  if (new Set(neuronList.map(describeNeuron)).size !== neuronList.length) throw new ServiceError('BAD_USER_INPUT', 'neurons lists a neuron twice');
  if (methods.some((m) => m !== 'recon') && neuronList.length === 0) throw new ServiceError('BAD_USER_INPUT', `neurons is empty: ${methods.filter((m) => m !== 'recon').map((m) => m.toUpperCase()).join(', ')} need neurons`);
  if (methods.includes('recon') && targets.length === 0) throw new ServiceError('BAD_USER_INPUT', 'targetImages is empty: RECONSTRUCTION needs the indices of dataset images to reconstruct');
  if (!methods.includes('recon') && targets.length) throw new ServiceError('BAD_USER_INPUT', 'targetImages is only for RECONSTRUCTION');

  // the size first: arithmetic only, before any lookup
  const perGenerator = methods.reduce((n, m) => n + (m === 'recon' ? targets.length * seeds.length : m === 'topk' ? neuronList.length : neuronList.length * seeds.length), 0);
  const total = perGenerator * generators.length;
  if (total > limits.maxBatchRuns) {
    throw new ServiceError('BATCH_TOO_LARGE', `this call would start ${total} runs (${generators.length} generators x ${methods.length} methods x neurons/targets x ${seeds.length} seeds); at most ${limits.maxBatchRuns} per call`, { runs: total, limit: limits.maxBatchRuns });
  }
  // checked before any lookup; resolved again below with the prior's image shape (the guidance scale's default)
  resolveSettings(methods, request.settings, limits.maxSteps);

  const { db } = scope;
  const generatorRows = await modelsById(db, generators);
  for (const id of generators) {
    const g = generatorRows.get(id);
    if (!g) throw notFound('encoder', id);
    if (g.kind !== 'encoder' && g.kind !== 'ensemble' && g.kind !== 'onnx') throw new ServiceError('WRONG_MODEL_KIND', `${g.name} is a ${g.kind} model: generators are encoders, ensembles or imported models`, { id });
  }
  const priorRow = methods.some(needsPrior) ? await choosePrior(db, request.prior, methods) : null;
  const priorId = priorRow?.id ?? null;
  if (!priorId && request.prior) throw new ServiceError('INVALID_SETTINGS', `prior is only for the methods that sample a diffusion prior, and none of ${methods.map((m) => m.toUpperCase()).join(', ')} does`);
  const datasetId = methods.some(needsDataset) ? await chooseDataset(db, request.dataset, targets) : null;
  if (!datasetId && request.dataset) throw new ServiceError('INVALID_SETTINGS', 'dataset is only for TOP_K and RECONSTRUCTION');

  // every generator must predict every neuron
  const neuronIdByName = new Map<string, string>();
  if (neuronList.length) {
    const known = await db
      .select({ id: neurons.id, session: neurons.session, index: neurons.index, modelId: modelNeurons.modelId })
      .from(neurons)
      .innerJoin(modelNeurons, eq(modelNeurons.neuronId, neurons.id))
      .where(and(inArray(modelNeurons.modelId, generators), inArray(neurons.session, [...new Set(neuronList.map((n) => n.session))])));
    const predicted = new Set(known.map((k) => `${k.modelId}/${k.session}:${k.index}`));
    for (const k of known) neuronIdByName.set(`${k.session}:${k.index}`, k.id);
    for (const id of generators) {
      const missing = neuronList.filter((n) => !predicted.has(`${id}/${describeNeuron(n)}`));
      if (missing.length) {
        const g = generatorRows.get(id)!;
        throw new ServiceError('UNKNOWN_NEURON', `${g.name} does not predict neuron${missing.length > 1 ? 's' : ''} ${missing.slice(0, 10).map(describeNeuron).join(', ')}${missing.length > 10 ? ` and ${missing.length - 10} more` : ''} (its sessions: ${((g.meta as { sessions?: string[] }).sessions ?? []).join(', ')})`, {
          neurons: missing.slice(0, 100).map((n) => ({ session: n.session, index: n.index })),
          generator: id,
        });
      }
    }
  }

  const settings = resolveSettings(methods, request.settings, limits.maxSteps, priorRow?.input);
  const [batch] = await db.insert(batches).values({ label: request.label ?? null, runCount: total }).returning();
  const planned: NewRun[] = [];
  const jobs: QueuedJob[] = [];
  for (const generatorId of generators) {
    for (const method of methods) {
      const s = settings.get(method)!;
      const items: { neuronId: string | null; targetImage: number | null; seed: number }[] =
        method === 'recon'
          ? targets.flatMap((t) => seeds.map((seed) => ({ neuronId: null, targetImage: t, seed })))
          : method === 'topk'
            ? neuronList.map((n) => ({ neuronId: neuronIdByName.get(describeNeuron(n))!, targetImage: null, seed: 0 }))
            : neuronList.flatMap((n) => seeds.map((seed) => ({ neuronId: neuronIdByName.get(describeNeuron(n))!, targetImage: null, seed })));
      // a diverse set is one engine call (its diversity term couples the images of a neuron)
      const perJob = method === 'diverse' ? 1 : starter.config.limits.maxRunsPerJob;
      for (let i = 0; i < items.length; i += perJob) {
        const jobId = randomUUID();
        const chunk = items.slice(i, i + perJob).map((item) => ({
          id: randomUUID(),
          batchId: batch.id,
          method,
          generatorId,
          priorId: needsPrior(method) ? priorId : null,
          datasetId: needsDataset(method) ? datasetId : null,
          neuronId: item.neuronId,
          targetImage: item.targetImage,
          seed: item.seed,
          settings: s satisfies RunSettings,
          jobId,
          // a top-k pass is one step
          steps: s.steps ?? 1,
        }));
        planned.push(...chunk);
        jobs.push({ id: jobId, runIds: chunk.map((r) => r.id) });
      }
    }
  }
  for (let i = 0; i < planned.length; i += 500) await db.insert(runs).values(planned.slice(i, i + 500));
  await starter.queue.enqueue(scope.executeSql, jobs);
  return { batch, jobs };
}

/** startRuns: the batch, written in one transaction. */
export async function startRuns(starter: RunStarter, request: StartRunsRequest): Promise<BatchRow> {
  const { batch } = await starter.database.transaction((scope) => createBatch(starter, scope, request));
  return batch;
}

function unique<T>(values: readonly T[], name: string): T[] {
  if (new Set(values).size !== values.length) throw new ServiceError('BAD_USER_INPUT', `${name} lists a value twice`);
  return [...values];
}

async function modelsById(db: Db, ids: readonly string[]) {
  const valid = ids.filter(isUuid);
  const rows = valid.length ? await db.select().from(models).where(inArray(models.id, valid)) : [];
  return new Map(rows.map((r) => [r.id, r]));
}

/** The batch's prior: its id, and its image shape (`input`), which a guidance scale's default follows. */
async function choosePrior(db: Db, requested: string | null | undefined, methods: readonly Method[]): Promise<{ id: string; input: ImageShape }> {
  if (requested) {
    const row = (await modelsById(db, [requested])).get(requested);
    if (!row) throw notFound('prior', requested);
    if (row.kind !== 'prior') throw new ServiceError('WRONG_MODEL_KIND', `${row.name} is a ${row.kind} model, not a diffusion prior`, { id: requested });
    return row;
  }
  const priors = await db.select({ id: models.id, input: models.input }).from(models).where(eq(models.kind, 'prior')).limit(2);
  if (priors.length === 1) return priors[0];
  const needing = methods.filter(needsPrior).map((m) => m.toUpperCase());
  throw new ServiceError('PRIOR_REQUIRED', `${needing.join(', ')} sample from a diffusion prior: ${priors.length === 0 ? 'none is registered (upload one)' : 'several are registered, name one as prior'}`);
}

async function chooseDataset(db: Db, requested: string | null | undefined, targets: readonly number[]): Promise<string> {
  if (!requested) throw new ServiceError('DATASET_REQUIRED', 'TOP_K and RECONSTRUCTION take their images from a dataset: name one as dataset');
  const [row] = isUuid(requested) ? await db.select().from(datasets).where(eq(datasets.id, requested)) : [];
  if (!row) throw notFound('dataset', requested);
  const outside = targets.filter((t) => !Number.isInteger(t) || t < 0 || t >= row.imageCount);
  if (outside.length) throw new ServiceError('BAD_USER_INPUT', `targetImages ${outside.slice(0, 10).join(', ')} are not images of ${row.name} (0..${row.imageCount - 1})`);
  return row.id;
}
