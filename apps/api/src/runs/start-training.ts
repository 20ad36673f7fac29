/**
 * Starting a training: everything is checked first (the recipe's ranges, the datasets, the core),
 * then one transaction writes the training and its queue job, so a refused call leaves nothing
 * behind. The recipe is stored with its defaults filled in: what the worker runs is what the row says.
 */
import { randomUUID } from 'node:crypto';
import { inArray } from 'drizzle-orm';
import { PRESETS } from '@excite/engine';
import type { Db, TransactionScope } from '../db/database.ts';
import { type TrainingArchitecture, type TrainingKind, type TrainingRecipe, datasets, models, trainings } from '../db/schema.ts';
import { isUuid } from '../db/uuid.ts';
import { ServiceError, notFound } from '../errors.ts';
import type { JobQueue } from '../jobs/queue.ts';
import type { TrainingRow } from './training-store.ts';

export interface StartTrainingRequest {
  kind: TrainingKind;
  datasets: readonly string[];
  architecture?: TrainingArchitecture | null;
  preset?: string | null;
  core?: string | null;
  images?: { range?: string | null; validationFraction?: number | null } | null;
  members?: number | null;
  seed?: number | null;
  name?: string | null;
  maxEpochs?: number | null;
  settings?: { lr?: number | null; batchSize?: number | null; patience?: number | null; decayFactor?: number | null; maxDecays?: number | null; minLr?: number | null } | null;
}

/** The first image's size of a dataset (width x height), its files looked up with `db` (the caller's transaction: PGlite has one connection). */
export type ImageSizeOf = (db: Db, datasetId: string) => Promise<{ width: number; height: number }>;

export const MAX_SEED = 2 ** 31 - 1;
/** datasets of one training (sessions of one model) */
export const MAX_TRAINING_DATASETS = 32;

/** A recipe setting's range: [min, max], `above`: min excluded, `below`: max excluded. */
interface Range {
  min: number;
  max: number;
  integer?: boolean;
  above?: boolean;
  below?: boolean;
}

export const TRAINING_RANGES = {
  maxEpochs: { min: 1, max: 1000, integer: true },
  members: { min: 1, max: 8, integer: true },
  validationFraction: { min: 0.05, max: 0.5 },
  lr: { min: 0, max: 0.1, above: true },
  batchSize: { min: 1, max: 512, integer: true },
  patience: { min: 1, max: 100, integer: true },
  decayFactor: { min: 0, max: 1, above: true, below: true },
  maxDecays: { min: 0, max: 20, integer: true },
  minLr: { min: 0, max: 0.1 },
} satisfies Record<string, Range>;

export const TRAINING_SETTING_DESCRIPTIONS: Record<keyof typeof TRAINING_RANGES | 'seed', string> = {
  maxEpochs: 'epochs per member at most (training stops earlier on plateaus)',
  members: 'ENCODER: models trained with seeds seed..seed+members-1, averaged as an ensemble',
  seed: 'the same seed, datasets and recipe give the same weights',
  validationFraction: 'the fraction of each dataset\'s images held out for validation (a seeded random split)',
  lr: 'AdamW\'s learning rate',
  batchSize: 'images per batch',
  patience: 'epochs without improvement of the validation loss before the learning rate decays',
  decayFactor: 'the factor of each decay',
  maxDecays: 'decays before training stops',
  minLr: 'training stops when the learning rate would fall below this',
};

/** excite train's defaults (workflows.ts, trainer.ts). */
export const TRAINING_DEFAULTS = { maxEpochs: 200, members: 1, seed: 1, validationFraction: 0.1, lr: 3e-3, batchSize: 64, patience: 5, decayFactor: 0.3, maxDecays: 5, minLr: 1e-4 };

function inRange(name: keyof typeof TRAINING_RANGES, value: number | null | undefined): number {
  const fallback = (TRAINING_DEFAULTS as Record<string, number>)[name];
  if (value === null || value === undefined) return fallback;
  const r: Range = TRAINING_RANGES[name];
  const ok = Number.isFinite(value) && (!r.integer || Number.isInteger(value)) && (r.above ? value > r.min : value >= r.min) && (r.below ? value < r.max : value <= r.max);
  if (!ok) {
    const range = `${r.above ? '(' : '['}${r.min}, ${r.max}${r.below ? ')' : ']'}`;
    throw new ServiceError('INVALID_SETTINGS', `${name} must be ${r.integer ? 'an integer' : 'a number'} in ${range}, got ${value}`, { setting: name, min: r.min, max: r.max });
  }
  return value;
}

/** "A:B" checked against each dataset's image count, as the engine will parse it. */
function checkRange(range: string, counts: readonly { name: string; imageCount: number }[]): void {
  const m = /^(\d*):(\d*)$/.exec(range.trim());
  if (!m) throw new ServiceError('INVALID_SETTINGS', `images.range "${range}" is not A:B (0-based image columns, B exclusive)`, { setting: 'images.range' });
  for (const d of counts) {
    const a = m[1] ? Number(m[1]) : 0;
    const b = m[2] ? Number(m[2]) : d.imageCount;
    if (a >= b || b > d.imageCount) throw new ServiceError('INVALID_SETTINGS', `images.range ${range} is empty or beyond the ${d.imageCount} images of dataset ${d.name}`, { setting: 'images.range' });
  }
}

/** Validates the request; then writes the training and its job in `scope` (the caller's transaction). */
export async function createTraining(deps: { queue: JobQueue; imageSize: ImageSizeOf }, scope: TransactionScope, request: StartTrainingRequest): Promise<TrainingRow> {
  if (request.kind === 'prior') {
    throw new ServiceError('NOT_YET_SUPPORTED', 'the service does not train diffusion priors yet: train one with excite train-prior and upload it (docs/service.md#trainings says why)', { kind: 'PRIOR' });
  }
  const ids = request.datasets;
  if (ids.length === 0) throw new ServiceError('BAD_USER_INPUT', 'datasets is empty: name at least one recording', { argument: 'datasets' });
  if (ids.length > MAX_TRAINING_DATASETS) throw new ServiceError('BAD_USER_INPUT', `at most ${MAX_TRAINING_DATASETS} datasets per training, got ${ids.length}`, { argument: 'datasets' });
  if (new Set(ids).size !== ids.length) throw new ServiceError('BAD_USER_INPUT', 'datasets lists a dataset twice', { argument: 'datasets' });
  const seed = request.seed ?? TRAINING_DEFAULTS.seed;
  if (!Number.isInteger(seed) || seed < 0 || seed > MAX_SEED) throw new ServiceError('BAD_USER_INPUT', `seed ${seed} is not an integer from 0 to ${MAX_SEED}`, { argument: 'seed' });
  const name = request.name?.trim();
  if (request.name !== null && request.name !== undefined && (!name || name.length > 200)) throw new ServiceError('BAD_USER_INPUT', 'name must be 1 to 200 characters', { argument: 'name' });

  const readout = request.kind === 'readout';
  if (readout && !request.core) throw new ServiceError('CORE_REQUIRED', 'a READOUT training needs core: the trained encoder or ensemble whose core stays frozen');
  if (!readout && request.core) throw new ServiceError('INVALID_SETTINGS', 'core is only for READOUT trainings (an ENCODER training trains its own core)', { setting: 'core' });
  if (readout) {
    for (const key of ['architecture', 'preset', 'members'] as const) {
      if (request[key] !== null && request[key] !== undefined) throw new ServiceError('INVALID_SETTINGS', `${key} is the core's in a READOUT training: leave it out`, { setting: key });
    }
  }
  const preset = readout ? null : (request.preset ?? 'demo');
  if (preset !== null && !Object.hasOwn(PRESETS, preset)) throw new ServiceError('INVALID_SETTINGS', `preset "${preset}" is none of ${Object.keys(PRESETS).join(', ')}`, { setting: 'preset' });
  const s = request.settings ?? {};
  const recipe: TrainingRecipe = {
    architecture: request.architecture ?? 'attention',
    preset,
    imageRange: request.images?.range?.trim() || null,
    validationFraction: inRange('validationFraction', request.images?.validationFraction),
    members: inRange('members', request.members),
    seed,
    maxEpochs: inRange('maxEpochs', request.maxEpochs),
    lr: inRange('lr', s.lr),
    batchSize: inRange('batchSize', s.batchSize),
    patience: inRange('patience', s.patience),
    decayFactor: inRange('decayFactor', s.decayFactor),
    maxDecays: inRange('maxDecays', s.maxDecays),
    minLr: inRange('minLr', s.minLr),
  };

  const { db } = scope;
  const valid = ids.filter(isUuid);
  const rows = valid.length ? await db.select().from(datasets).where(inArray(datasets.id, valid)) : [];
  const list = ids.map((id) => {
    const row = rows.find((r) => r.id === id);
    if (!row) throw notFound('dataset', id);
    return row;
  });
  for (const d of list) {
    if (d.kind !== 'recording' || !d.neuronCount) throw new ServiceError('DATASET_WITHOUT_RESPONSES', `dataset ${d.name} is an image set without responses.npy: training needs recorded responses`, { id: d.id });
  }
  const names = list.map((d) => d.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice !== undefined) throw new ServiceError('DUPLICATE_SESSION', `two datasets are named ${twice}: each dataset is a session of the model, named by the dataset's name`, { session: twice });
  if (recipe.imageRange) checkRange(recipe.imageRange, list);
  for (const d of list) {
    const n = recipe.imageRange ? rangeCount(recipe.imageRange, d.imageCount) : d.imageCount;
    if (n < 2) throw new ServiceError('INVALID_SETTINGS', `dataset ${d.name} has ${n} image${n === 1 ? '' : 's'} to train on: at least 2 are needed (one for validation)`, { setting: 'images' });
  }

  let coreId: string | null = null;
  if (readout) {
    const core = isUuid(request.core!) ? (await db.select().from(models).where(inArray(models.id, [request.core!])))[0] : undefined;
    if (!core) throw notFound('model', request.core!);
    if (core.kind !== 'encoder' && core.kind !== 'ensemble') throw new ServiceError('WRONG_MODEL_KIND', `${core.name} is a ${core.kind} model: a READOUT training keeps the core of an encoder or ensemble trained by excite`, { id: core.id });
    coreId = core.id;
    const meta = core.meta as { readout?: string; members?: unknown[] };
    recipe.architecture = meta.readout === 'gaussian' ? 'gaussian' : 'attention';
    recipe.members = Array.isArray(meta.members) ? meta.members.length : 1;
  }

  // one input space for every session: the first image of each dataset
  if (list.length > 1) {
    const sizes = await Promise.all(list.map((d) => deps.imageSize(db, d.id)));
    if (new Set(sizes.map((z) => `${z.width}x${z.height}`)).size > 1) {
      throw new ServiceError('IMAGE_SIZE_MISMATCH', `the datasets' images differ in size: ${list.map((d, i) => `${d.name} ${sizes[i].width}x${sizes[i].height}`).join(', ')}`, {
        sizes: list.map((d, i) => ({ dataset: d.id, width: sizes[i].width, height: sizes[i].height })),
      });
    }
  }

  const jobId = randomUUID();
  const [row] = await db
    .insert(trainings)
    .values({ name: name || `${request.kind} ${names.join('+')}`, kind: request.kind, datasetIds: list.map((d) => d.id), coreId, recipe, jobId })
    .returning();
  await deps.queue.enqueueTraining(scope.executeSql, { id: jobId, trainingId: row.id });
  return row;
}

function rangeCount(range: string, count: number): number {
  const [a, b] = range.split(':');
  return (b ? Number(b) : count) - (a ? Number(a) : 0);
}
