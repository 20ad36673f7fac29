/**
 * The service's tables (Drizzle). drizzle-kit generates the SQL migrations in /drizzle from this
 * file (`npm run db:generate`); both PGlite and PostgreSQL apply the same migrations at start-up.
 * Rows name blobs by their SHA-256 (storage/blobs.ts); ordering and cursors use the `seq` columns.
 */
import { METHOD_NAMES, type MethodName, type MethodSettings } from '@excite/engine';
import { bigint, customType, doublePrecision, index, integer, jsonb, pgTable, primaryKey, real, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

export const MODEL_KINDS = ['encoder', 'ensemble', 'compact', 'onnx', 'prior'] as const;
/** the kinds that predict neurons: they evaluate, and all but compact models generate */
export const ENCODER_KINDS = ['encoder', 'ensemble', 'compact', 'onnx'] as const satisfies readonly ModelKind[];
export type ModelKind = (typeof MODEL_KINDS)[number];
export const MODEL_SOURCES = ['demo', 'upload', 'trained'] as const;
export type ModelSource = (typeof MODEL_SOURCES)[number];
export const TRAINING_KINDS = ['encoder', 'readout', 'prior'] as const;
export type TrainingKind = (typeof TRAINING_KINDS)[number];
export type TrainingArchitecture = 'attention' | 'gaussian';
/** the engine's method registry names them */
export const METHODS = METHOD_NAMES;
export type Method = MethodName;
export const RUN_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export const TERMINAL_STATUSES: readonly RunStatus[] = ['succeeded', 'failed', 'cancelled'];
export const IMAGE_KINDS = ['mei', 'meni', 'diverse', 'recon', 'natural'] as const;
export type ImageKind = (typeof IMAGE_KINDS)[number];
/** the space an image's float32 array is in */
export const IMAGE_SPACES = ['prior', 'encoder', 'pixels'] as const;

const createdAt = () => timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow();
const seq = () => bigint('seq', { mode: 'number' }).generatedAlwaysAsIdentity();

/** Content-addressed files: the bytes live under the blob store, keyed by their SHA-256 (hex). */
export const blobs = pgTable('blobs', {
  hash: text('hash').primaryKey(),
  size: bigint('size', { mode: 'number' }).notNull(),
  mediaType: text('media_type').notNull(),
  createdAt: createdAt(),
});

/** Encoders, ensembles, compact ground-truth models and diffusion priors. */
export const models = pgTable(
  'models',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    seq: seq(),
    name: text('name').notNull(),
    kind: text('kind', { enum: MODEL_KINDS }).notNull(),
    source: text('source', { enum: MODEL_SOURCES }).notNull(),
    /** SHA-256 over the sorted (path, blob) pairs: the same files register once */
    contentHash: text('content_hash').notNull(),
    /** model.json as uploaded (compact models: their session and neuron files) */
    meta: jsonb('meta').notNull(),
    /** the input space { channels, height, width } (priors: their image) */
    input: jsonb('input').$type<{ channels: number; height: number; width: number }>().notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('models_content_hash').on(t.contentHash), uniqueIndex('models_seq').on(t.seq)],
);

/** The files of a model folder (model.json, weights.safetensors, members/...). */
export const modelFiles = pgTable(
  'model_files',
  {
    modelId: uuid('model_id')
      .notNull()
      .references(() => models.id, { onDelete: 'cascade' }),
    path: text('path').notNull(),
    blob: text('blob')
      .notNull()
      .references(() => blobs.hash),
  },
  (t) => [primaryKey({ columns: [t.modelId, t.path] })],
);

/** A recorded neuron: a row of a session's responses. */
export const neurons = pgTable(
  'neurons',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    session: text('session').notNull(),
    index: integer('index').notNull(),
  },
  (t) => [uniqueIndex('neurons_session_index').on(t.session, t.index)],
);

/** Which model predicts which neuron, in which output column. */
export const modelNeurons = pgTable(
  'model_neurons',
  {
    modelId: uuid('model_id')
      .notNull()
      .references(() => models.id, { onDelete: 'cascade' }),
    neuronId: uuid('neuron_id')
      .notNull()
      .references(() => neurons.id),
    column: integer('column').notNull(),
  },
  (t) => [primaryKey({ columns: [t.modelId, t.neuronId] }), index('model_neurons_neuron').on(t.neuronId)],
);

/** Image sets (images.zip) and recordings (images.zip + responses.npy). */
export const datasets = pgTable(
  'datasets',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    seq: seq(),
    name: text('name').notNull(),
    kind: text('kind', { enum: ['images', 'recording'] }).notNull(),
    contentHash: text('content_hash').notNull(),
    imageCount: integer('image_count').notNull(),
    neuronCount: integer('neuron_count'),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('datasets_content_hash').on(t.contentHash), uniqueIndex('datasets_seq').on(t.seq)],
);

export const datasetFiles = pgTable(
  'dataset_files',
  {
    datasetId: uuid('dataset_id')
      .notNull()
      .references(() => datasets.id, { onDelete: 'cascade' }),
    path: text('path').notNull(),
    blob: text('blob')
      .notNull()
      .references(() => blobs.hash),
  },
  (t) => [primaryKey({ columns: [t.datasetId, t.path] })],
);

/** One startRuns (or comparison) call: the runs it created. */
export const batches = pgTable(
  'batches',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    seq: seq(),
    label: text('label'),
    runCount: integer('run_count').notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('batches_seq').on(t.seq)],
);

/** A run's settings as it ran: the method's defaults under what the user set. */
export type RunSettings = MethodSettings;

export interface RunError {
  code: string;
  message: string;
}

/** One synthesis: a method for one neuron (or reconstruction target) and seed with one generator. */
export const runs = pgTable(
  'runs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    seq: seq(),
    batchId: uuid('batch_id')
      .notNull()
      .references(() => batches.id),
    method: text('method', { enum: METHODS }).notNull(),
    generatorId: uuid('generator_id')
      .notNull()
      .references(() => models.id),
    priorId: uuid('prior_id').references(() => models.id),
    datasetId: uuid('dataset_id').references(() => datasets.id),
    neuronId: uuid('neuron_id').references(() => neurons.id),
    /** reconstructions: the target's image index in the dataset */
    targetImage: integer('target_image'),
    seed: integer('seed').notNull(),
    /** the settings as they ran, defaults filled in */
    settings: jsonb('settings').$type<RunSettings>().notNull(),
    /** the queue job that computes this run (with the other runs of its group) */
    jobId: uuid('job_id').notNull(),
    status: text('status', { enum: RUN_STATUSES }).notNull().default('queued'),
    step: integer('step').notNull().default(0),
    steps: integer('steps').notNull(),
    activation: real('activation'),
    energy: real('energy'),
    progressAt: timestamp('progress_at', { withTimezone: true, mode: 'date' }),
    error: jsonb('error').$type<RunError>(),
    device: text('device'),
    worker: text('worker'),
    attempts: integer('attempts').notNull().default(0),
    /** a RUNNING run's lease: its worker renews it while alive; once it lapses another worker takes the run over (runs/run-store.ts) */
    leaseExpiresAt: timestamp('lease_expires_at', { withTimezone: true, mode: 'date' }),
    createdAt: createdAt(),
    startedAt: timestamp('started_at', { withTimezone: true, mode: 'date' }),
    finishedAt: timestamp('finished_at', { withTimezone: true, mode: 'date' }),
    /** engine seconds of the call that computed the run (shared by the runs of one job) */
    seconds: doublePrecision('seconds'),
    /** float32 .npy of the energy and the activation at every step */
    energyTrace: text('energy_trace').references(() => blobs.hash),
    activationTrace: text('activation_trace').references(() => blobs.hash),
  },
  (t) => [
    uniqueIndex('runs_seq').on(t.seq),
    index('runs_batch').on(t.batchId, t.seq),
    index('runs_job').on(t.jobId),
    index('runs_status').on(t.status),
    index('runs_generator').on(t.generatorId),
    index('runs_neuron').on(t.neuronId),
    index('runs_lease').on(t.status, t.leaseExpiresAt),
  ],
);

const bytea = customType<{ data: Uint8Array; driverData: Uint8Array }>({ dataType: () => 'bytea' });

/**
 * The last checkpoint of a run that has not finished (jobs/checkpoints.ts): the engine's state
 * after `step` steps, so that a retry resumes instead of starting over. Removed when the run
 * succeeds.
 */
export const runCheckpoints = pgTable('run_checkpoints', {
  runId: uuid('run_id')
    .primaryKey()
    .references(() => runs.id, { onDelete: 'cascade' }),
  /** the attempt that wrote it */
  attempt: integer('attempt').notNull(),
  step: integer('step').notNull(),
  /** what is not an array: method, steps, images, noise generator states, optimizer step */
  state: jsonb('state').notNull(),
  /** the arrays (x, optimizer moments, the energy and activation so far) as safetensors */
  tensors: bytea('tensors').notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});

/** A training's recipe as it runs: the input's settings with their defaults filled in. */
export interface TrainingRecipe {
  architecture: TrainingArchitecture;
  /** ENCODER: the engine's preset; READOUT: null (the core's) */
  preset: string | null;
  imageRange: string | null;
  validationFraction: number;
  members: number;
  seed: number;
  maxEpochs: number;
  lr: number;
  batchSize: number;
  patience: number;
  decayFactor: number;
  maxDecays: number;
  minLr: number;
}

/** One finished epoch of one member (the engine's EpochReport and the member). */
export interface TrainingEpochRow {
  member: number;
  epoch: number;
  trainLoss: number;
  valLoss: number;
  valCorrelation: number;
  lr: number;
  improved: boolean;
  action: string;
  seconds: number;
}

/**
 * A training: an encoder (or readouts on a frozen core) fitted to recordings by a worker, on the
 * queue, leases and fencing of runs (runs/training-store.ts); on success the model it registered.
 */
export const trainings = pgTable(
  'trainings',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    seq: seq(),
    name: text('name').notNull(),
    kind: text('kind', { enum: TRAINING_KINDS }).notNull(),
    /** the datasets, in session order */
    datasetIds: uuid('dataset_ids').array().notNull(),
    coreId: uuid('core_id').references(() => models.id),
    recipe: jsonb('recipe').$type<TrainingRecipe>().notNull(),
    jobId: uuid('job_id').notNull(),
    status: text('status', { enum: RUN_STATUSES }).notNull().default('queued'),
    attempts: integer('attempts').notNull().default(0),
    worker: text('worker'),
    device: text('device'),
    leaseExpiresAt: timestamp('lease_expires_at', { withTimezone: true, mode: 'date' }),
    member: integer('member').notNull().default(0),
    /** epochs the current member finished */
    epoch: integer('epoch').notNull().default(0),
    /** batches done of the epoch in progress, of `steps` */
    step: integer('step').notNull().default(0),
    steps: integer('steps').notNull().default(0),
    bestValLoss: doublePrecision('best_val_loss'),
    lastValLoss: doublePrecision('last_val_loss'),
    bestValCorrelation: doublePrecision('best_val_correlation'),
    lastValCorrelation: doublePrecision('last_val_correlation'),
    history: jsonb('history').$type<TrainingEpochRow[]>().notNull().default([]),
    modelId: uuid('model_id').references(() => models.id),
    error: jsonb('error').$type<RunError>(),
    createdAt: createdAt(),
    /** the first attempt's start (elapsed time counts from it) */
    startedAt: timestamp('started_at', { withTimezone: true, mode: 'date' }),
    finishedAt: timestamp('finished_at', { withTimezone: true, mode: 'date' }),
    progressAt: timestamp('progress_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [uniqueIndex('trainings_seq').on(t.seq), index('trainings_status').on(t.status, t.leaseExpiresAt), index('trainings_job').on(t.jobId)],
);

/**
 * The last checkpoint of an unfinished training: the engine's output folder (finished members,
 * the current member's checkpoint folder) as one zip, written by the attempt that holds it.
 */
export const trainingCheckpoints = pgTable('training_checkpoints', {
  trainingId: uuid('training_id')
    .primaryKey()
    .references(() => trainings.id, { onDelete: 'cascade' }),
  attempt: integer('attempt').notNull(),
  /** where it was: member, epochs done, batches done of the next epoch */
  state: jsonb('state').$type<{ member: number; epoch: number; step: number; history: TrainingEpochRow[] }>().notNull(),
  folder: bytea('folder').notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});

export const TOKEN_ROLES = ['read', 'run', 'admin'] as const;
export type TokenRole = (typeof TOKEN_ROLES)[number];

/** Bearer tokens (auth/tokens.ts): only their SHA-256 is stored. */
export const apiTokens = pgTable(
  'api_tokens',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    seq: seq(),
    name: text('name').notNull(),
    role: text('role', { enum: TOKEN_ROLES }).notNull(),
    /** SHA-256 (hex) of the whole token */
    hash: text('hash').notNull(),
    /** the token's first characters, to recognize it in lists (not enough to use it) */
    prefix: text('prefix').notNull(),
    createdAt: createdAt(),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true, mode: 'date' }),
    revokedAt: timestamp('revoked_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [uniqueIndex('api_tokens_hash').on(t.hash), uniqueIndex('api_tokens_seq').on(t.seq)],
);

/** A result image of a run: its PNG (pixels 0..255) and its float32 array in the method's space. */
export const images = pgTable(
  'images',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    seq: seq(),
    runId: uuid('run_id')
      .notNull()
      .references(() => runs.id),
    /** position in the run's output: a diverse set's member, a top-k rank */
    index: integer('index').notNull(),
    kind: text('kind', { enum: IMAGE_KINDS }).notNull(),
    neuronId: uuid('neuron_id').references(() => neurons.id),
    seed: integer('seed').notNull(),
    /** natural images: the dataset image; reconstructions: the target */
    sourceIndex: integer('source_index'),
    width: integer('width').notNull(),
    height: integer('height').notNull(),
    channels: integer('channels').notNull(),
    png: text('png')
      .notNull()
      .references(() => blobs.hash),
    array: text('array')
      .notNull()
      .references(() => blobs.hash),
    space: text('space', { enum: IMAGE_SPACES }).notNull(),
    activation: real('activation'),
    energy: real('energy'),
    createdAt: createdAt(),
  },
  // one row per (run, index): a retried job's second completion inserts nothing
  (t) => [uniqueIndex('images_run_index').on(t.runId, t.index), uniqueIndex('images_seq').on(t.seq), index('images_neuron').on(t.neuronId)],
);

/** An evaluator's rate of an image's neuron (raw, unnormalized). */
export const scores = pgTable(
  'scores',
  {
    imageId: uuid('image_id')
      .notNull()
      .references(() => images.id, { onDelete: 'cascade' }),
    evaluatorId: uuid('evaluator_id')
      .notNull()
      .references(() => models.id),
    value: doublePrecision('value').notNull(),
  },
  (t) => [primaryKey({ columns: [t.imageId, t.evaluatorId] }), index('scores_evaluator').on(t.evaluatorId)],
);

/** Generators x evaluators x methods over neurons: a batch of runs and the evaluators to tabulate. */
export const comparisons = pgTable(
  'comparisons',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    seq: seq(),
    name: text('name'),
    batchId: uuid('batch_id')
      .notNull()
      .references(() => batches.id),
    generatorIds: uuid('generator_ids').array().notNull(),
    evaluatorIds: uuid('evaluator_ids').array().notNull(),
    methods: text('methods').array().notNull(),
    neuronIds: uuid('neuron_ids').array().notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('comparisons_seq').on(t.seq)],
);

/**
 * A closed-loop recording: the responses of a session's neurons to stimuli excite made (and natural
 * references shown beside them), imported once per (session, name) (recordings/import.ts).
 */
export const recordings = pgTable(
  'recordings',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    seq: seq(),
    name: text('name').notNull(),
    session: text('session').notNull(),
    /** rows of the responses: the session's neuron indices, in order */
    neuronIndices: integer('neuron_indices').array().notNull(),
    stimulusCount: integer('stimulus_count').notNull(),
    /** the largest number of repeats of any stimulus */
    maxRepeats: integer('max_repeats').notNull(),
    /** the token that imported it (null: the token was since deleted) */
    tokenId: uuid('token_id'),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('recordings_session_name').on(t.session, t.name), uniqueIndex('recordings_seq').on(t.seq)],
);

/** A stimulus of a recording: an image excite stored, or a column of an uploaded image set (a natural reference). */
export const recordingStimuli = pgTable(
  'recording_stimuli',
  {
    recordingId: uuid('recording_id')
      .notNull()
      .references(() => recordings.id, { onDelete: 'cascade' }),
    /** the stimulus number of the exported set (images.csv), or the number the importer gave a dataset column */
    stimulus: integer('stimulus').notNull(),
    imageId: uuid('image_id').references(() => images.id),
    datasetId: uuid('dataset_id').references(() => datasets.id),
    datasetImage: integer('dataset_image'),
  },
  (t) => [primaryKey({ columns: [t.recordingId, t.stimulus] }), index('recording_stimuli_image').on(t.imageId)],
);

/** One neuron's recorded response to one stimulus: the mean over its repeats, their standard error and the repeats themselves. */
export const recordedResponses = pgTable(
  'recorded_responses',
  {
    recordingId: uuid('recording_id')
      .notNull()
      .references(() => recordings.id, { onDelete: 'cascade' }),
    stimulus: integer('stimulus').notNull(),
    neuronId: uuid('neuron_id')
      .notNull()
      .references(() => neurons.id),
    mean: doublePrecision('mean').notNull(),
    /** null with a single repeat */
    sem: doublePrecision('sem'),
    repeats: integer('repeats').notNull(),
    /** the recorded repeats (missing ones left out), for noise ceilings */
    samples: doublePrecision('samples').array().notNull(),
  },
  (t) => [primaryKey({ columns: [t.recordingId, t.stimulus, t.neuronId] }), index('recorded_responses_neuron').on(t.neuronId)],
);

export const TABLES = { blobs, models, modelFiles, neurons, modelNeurons, datasets, datasetFiles, batches, runs, runCheckpoints, images, scores, comparisons, apiTokens, recordings, recordingStimuli, recordedResponses, trainings, trainingCheckpoints };
