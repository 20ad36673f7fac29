/**
 * What `excite train` and `excite fit-readout` do: load sessions, train one model per seed (an
 * ensemble when there are several) or fit new readouts on a trained, frozen core, and write model
 * directories with their provenance and validation metrics.
 */
import os from 'node:os';
import { join, relative } from 'node:path';
import { readFile, rm } from 'node:fs/promises';
import { pathExists } from '../data/paths.ts';
import { mean, median } from '../evaluate/correlation.ts';
import { DEMO_ENCODER, DEMO_ALT_ENCODER, type EncoderSpec, PAPER_ENCODER, type ReadoutSpec } from '../models/encoder.ts';
import { type EncoderModel, loadModel, membersOf, writeEncoder, writeEnsemble } from '../models/model-dir.ts';
import type { NdArray } from '../onnx/ndarray.ts';
import type { LaplaceStencil } from '../models/regularizers.ts';
import type { LrSchedule } from './lr-schedule.ts';
import type { PlateauOptions } from './plateau.ts';
import { type LoadedSession, loadSession, splitSession, statisticsOf } from './sessions.ts';
import { type EpochReport, type TrainResult, trainEncoder } from './trainer.ts';

export const PRESETS = { paper: PAPER_ENCODER, demo: DEMO_ENCODER, 'demo-alt': DEMO_ALT_ENCODER } as const;
export type PresetName = keyof typeof PRESETS;

export const READOUTS: Record<'attention' | 'gaussian', (preset: PresetName) => ReadoutSpec> = {
  attention: (preset) => PRESETS[preset].readout.type === 'attention' ? PRESETS[preset].readout : { type: 'attention', keyDim: 32, dropout: 0.1, l1: 1 },
  gaussian: () => ({ type: 'gaussian', l1: 3, initSigma: 0.2 }),
};

export interface ProgressEvents {
  /** a member starts training (index, count); kept: it was finished by an earlier, interrupted run of the same command */
  onMember?: (index: number, count: number, seed: number, kept?: boolean) => void;
  onEpoch?: (report: EpochReport) => void;
  /** batches done of the epoch's total, and the batch's Poisson loss per image */
  onBatch?: (done: number, total: number, loss: number) => void;
}

/** What a service adds to a training: stopping it, checkpoints within epochs, and a hook after each checkpoint. */
export interface TrainingControl {
  signal?: AbortSignal;
  checkpointSeconds?: number;
  /** after each checkpoint is written whole, and after each member is written */
  onCheckpoint?: () => Promise<void>;
  /** an abort within an epoch first checkpoints the batches done */
  checkpointOnAbort?: boolean;
}

/**
 * Settings that change a preset's architecture or regularization (each recorded in model.json's
 * spec): what the ablation in docs/encoders.md varies.
 */
export interface SpecOverrides {
  /** core channels */
  channels?: number;
  /** core layers, the input convolution included */
  layers?: number;
  /** square input side in pixels */
  inputSize?: number;
  laplaceStencil?: LaplaceStencil;
  /** attention readout: L1 weight on the queries */
  queryL1?: number;
  /** attention readout: initial queries and feature weights */
  readoutInit?: 'normal' | 'constant';
  /** attention readout: weight of the attention entropy penalty */
  attentionEntropy?: number;
  /** the readout's L1 weight on its feature weights (attention: also on the queries unless queryL1) */
  readoutL1?: number;
  /** attention readout: dropout rate of the feature map during training */
  readoutDropout?: number;
  /** attention readout: amplitude of the position code added to the core's map */
  positionScale?: number;
  /** attention readout: D, the dimension of its keys, values, queries and feature weights */
  keyDim?: number;
}

/** A preset's spec with the overrides applied. */
export function applyOverrides(base: Pick<EncoderSpec, 'core' | 'readout'>, o: SpecOverrides): Pick<EncoderSpec, 'core' | 'readout'> {
  const core = { ...base.core, ...(o.channels ? { channels: o.channels } : {}), ...(o.layers ? { layers: o.layers } : {}), ...(o.laplaceStencil ? { laplaceStencil: o.laplaceStencil } : {}) };
  let readout = base.readout;
  if (o.readoutL1 !== undefined) readout = { ...readout, l1: o.readoutL1 };
  if (readout.type === 'attention') {
    readout = {
      ...readout,
      ...(o.readoutDropout !== undefined ? { dropout: o.readoutDropout } : {}),
      ...(o.queryL1 !== undefined ? { queryL1: o.queryL1 } : {}),
      ...(o.readoutInit ? { init: o.readoutInit } : {}),
      ...(o.attentionEntropy ? { entropy: o.attentionEntropy } : {}),
      ...(o.positionScale !== undefined ? { positionScale: o.positionScale } : {}),
      ...(o.keyDim ? { keyDim: o.keyDim } : {}),
    };
  }
  return { core, readout };
}

/** The recipe's settings beyond the plateau schedule. */
export interface RecipeOptions {
  /** overrides of the preset's architecture and regularization */
  overrides?: SpecOverrides;
  /** batch-norm running statistics momentum, PyTorch's convention (default 0.1) */
  momentum?: number;
  /** augmentation: training images shifted by up to this many pixels */
  shift?: number;
  /** session ids, one per data folder (default: the folders' names) */
  sessions?: readonly string[];
  lr?: number;
  /** the learning-rate schedule (default 'plateau': decays on plateaus of the validation loss) */
  schedule?: LrSchedule;
  batchSize?: number;
  /** merged over the provenance model.json records (a service names its datasets rather than its cache folders) */
  provenance?: Record<string, unknown>;
}

export interface TrainModelOptions extends ProgressEvents, TrainingControl, RecipeOptions {
  data: readonly string[];
  /** the readout; with `init`, optional (the initial model's) */
  arch?: 'attention' | 'gaussian';
  preset?: PresetName;
  /**
   * a trained model or ensemble folder to continue training (fine-tuning): member i starts from
   * its member i's weights (core, batch-norm statistics and the readouts of sessions it knows) and
   * takes its architecture, input space and, unless `seed` is given, its seed (so its validation
   * images stay the ones it never trained on)
   */
  init?: string;
  /** image columns "A:B" used for training and validation (default: all) */
  images?: string;
  seed?: number;
  members?: number;
  out: string;
  valFraction?: number;
  plateau?: Partial<PlateauOptions>;
  /** recorded as provenance */
  command?: string;
}

function machine() {
  return { cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, platform: `${os.platform()} ${os.release()}`, node: process.version };
}

/** Held-out r per session: median, mean and each neuron's (to 4 decimals; pages draw their histogram). */
function metricsOf(result: TrainResult) {
  const validation: Record<string, { median_r: number; mean_r: number; neurons: number; r: number[] }> = {};
  for (const [id, r] of result.valCorrelations) validation[id] = { median_r: median(r), mean_r: mean(r), neurons: r.length, r: Array.from(r, (v) => Math.round(v * 1e4) / 1e4) };
  return { validation };
}

/** The schedule as model.json records it: only when it is not the default plateau schedule. */
const scheduleOf = (o: Pick<RecipeOptions, 'schedule'>) => (o.schedule && o.schedule !== 'plateau' ? { lr_schedule: o.schedule } : {});

/** The data and recipe a trained core's model.json records (a new training and a continued one alike). */
const recipeProvenance = (o: Pick<TrainModelOptions, 'data' | 'images' | 'momentum' | 'shift' | 'schedule' | 'overrides'>) => ({
  data: o.data, images: o.images ?? 'all', momentum: o.momentum ?? 0.1, shift: o.shift ?? 0, ...scheduleOf(o), ...(o.overrides ? { overrides: o.overrides } : {}),
});

const plateauOf = (p: Partial<PlateauOptions> | undefined) => ({ patience: 5, factor: 0.3, maxDecays: 5, minLr: 1e-4, maxEpochs: 200, tolerance: 1e-6, ...p });

/**
 * A member written by an earlier run of the same command with the same seed, whose checkpoint is
 * gone (it finished): an interrupted ensemble run resumes at the member it was training, and a
 * finished run run again keeps what it wrote (a single model too) instead of training it over.
 */
async function finishedMember(dir: string, seed: number, command: string | undefined): Promise<boolean> {
  if (command === undefined) return false;
  if (await pathExists(join(dir, '.checkpoint'))) return false;
  const json = await readFile(join(dir, 'model.json'), 'utf8').catch(() => undefined);
  if (json === undefined) return false;
  const training = (JSON.parse(json) as { training?: { seed?: number; command?: string } }).training;
  return training?.seed === seed && training.command === command;
}

type MemberEvents = Pick<ProgressEvents, 'onEpoch' | 'onBatch'> & TrainingControl & Pick<RecipeOptions, 'lr' | 'schedule' | 'batchSize' | 'momentum' | 'shift'>;

/** Seeds of `members` members from `first` on. */
const seedsFrom = (first: number, members: number) => Array.from({ length: members }, (_, i) => first + i);

async function trainMembers(
  o: ProgressEvents & TrainingControl & RecipeOptions & { out: string; seeds: readonly number[]; command?: string },
  train: (index: number, seed: number, checkpoint: string, events: MemberEvents) => Promise<{ spec: EncoderSpec; result: TrainResult; provenance: Record<string, unknown> }>,
): Promise<string> {
  const dirs: string[] = [];
  const members = o.seeds.length;
  for (let i = 0; i < members; i++) {
    const seed = o.seeds[i];
    const entry = members > 1 ? `member-${i}` : '.'; // the member's folder in the ensemble, or the model itself
    const dir = join(o.out, entry);
    const checkpoint = join(dir, '.checkpoint');
    if (await finishedMember(dir, seed, o.command)) {
      o.onMember?.(i, members, seed, true);
      dirs.push(entry);
      continue;
    }
    o.onMember?.(i, members, seed);
    const started = performance.now();
    const { spec, result, provenance } = await train(i, seed, checkpoint, { onEpoch: o.onEpoch, onBatch: o.onBatch, signal: o.signal, checkpointSeconds: o.checkpointSeconds, onCheckpoint: o.onCheckpoint, checkpointOnAbort: o.checkpointOnAbort, lr: o.lr, schedule: o.schedule, batchSize: o.batchSize, momentum: o.momentum, shift: o.shift });
    await writeEncoder(dir, spec, result.weights, {
      name: members > 1 ? `${o.out}/member-${i}` : o.out,
      training: { ...provenance, seed, epochs: result.history.length, best_epoch: result.bestEpoch, seconds: Math.round((performance.now() - started) / 1000), device: 'cpu', machine: machine(), command: o.command, ...o.provenance },
      metrics: metricsOf(result),
    });
    await rm(checkpoint, { recursive: true, force: true });
    await o.onCheckpoint?.();
    dirs.push(entry);
  }
  if (members > 1) await writeEnsemble(o.out, dirs, { name: o.out, training: { seeds: o.seeds, command: o.command, ...o.provenance } });
  return o.out;
}

function renameSessions(loaded: LoadedSession[], names: readonly string[] | undefined): void {
  if (!names) return;
  if (names.length !== loaded.length) throw new Error(`${names.length} session names for ${loaded.length} data folders`);
  loaded.forEach((l, i) => (l.id = names[i]));
}

/** `excite train`: core and readouts of every given session, M members with seeds seed..seed+M-1. */
export async function trainModel(o: TrainModelOptions): Promise<string> {
  if (o.init !== undefined) return continueTraining(o, o.init);
  if (!o.arch) throw new Error('train needs a readout (arch: attention or gaussian)');
  const preset = o.preset ?? 'demo';
  const side = o.overrides?.inputSize;
  const base = { ...PRESETS[preset], input: { ...PRESETS[preset].input, ...(side ? { height: side, width: side } : {}) } };
  const loaded = await loadSessions(o, base.input);
  const stats = statisticsOf(loaded);
  const spec: EncoderSpec = {
    ...applyOverrides({ core: base.core, readout: READOUTS[o.arch](preset) }, o.overrides ?? {}),
    input: { ...base.input, ...stats },
    sessions: sessionsOf(loaded),
  };
  return trainMembers({ ...o, seeds: seedsFrom(o.seed ?? 1, o.members ?? 1) }, async (_i, seed, checkpoint, events) => {
    const sessions = loaded.map((l) => splitSession(l, stats, o.valFraction ?? 0.1, seed));
    const result = await trainEncoder({ spec, sessions, seed, trainable: 'all', plateau: plateauOf(o.plateau), checkpoint, ...events });
    return { spec, result, provenance: { preset, ...recipeProvenance(o) } };
  });
}

async function loadSessions(o: Pick<TrainModelOptions, 'data' | 'images' | 'sessions'>, input: Pick<EncoderSpec['input'], 'height' | 'width' | 'fit'>): Promise<LoadedSession[]> {
  const loaded: LoadedSession[] = [];
  for (const dir of o.data) loaded.push(await loadSession(dir, o.images, input));
  renameSessions(loaded, o.sessions);
  if (new Set(loaded.map((l) => l.id)).size !== loaded.length) throw new Error('two --data folders have the same name: sessions are named by their folder');
  return loaded;
}

const sessionsOf = (loaded: readonly LoadedSession[]) => loaded.map((l) => ({ id: l.id, neurons: Array.from({ length: l.dataset.neurons }, (_, i) => i) }));

/**
 * `excite train --init MODEL`: each member continues from the initial model's member of the same
 * index, with that member's architecture, input space (its pixel statistics included: its weights
 * expect them) and seed. The regularization may change (Laplacian stencil, L1 on the queries);
 * what would change the weights' shapes or meaning (preset, channels, layers, input size) is refused.
 */
async function continueTraining(o: TrainModelOptions, init: string): Promise<string> {
  const reshaping = [o.preset && 'preset', o.overrides?.channels && 'channels', o.overrides?.layers && 'layers', o.overrides?.inputSize && 'input size'].filter(Boolean);
  if (reshaping.length) throw new Error(`${reshaping.join(', ')} cannot be changed when continuing a trained model (${init}): its architecture and input are kept`);
  const starts = membersOf(await loadModel(init));
  const members = o.members ?? starts.length;
  if (members > starts.length) throw new Error(`${init} has ${starts.length} member${starts.length > 1 ? 's' : ''}: it cannot start ${members}`);
  const readout = starts[0].spec.readout.type;
  if (o.arch && o.arch !== readout) throw new Error(`${init} has an ${readout} readout, not ${o.arch}`);
  const input = starts[0].spec.input;
  const loaded = await loadSessions(o, input);
  const recorded = starts.slice(0, members).map((m) => (m.meta.training as { seed?: unknown } | undefined)?.seed);
  const seeds = o.seed !== undefined ? seedsFrom(o.seed, members) : recorded.map((s, i) => (Number.isInteger(s) ? (s as number) : i + 1));
  return trainMembers({ ...o, seeds }, async (i, seed, checkpoint, events) => {
    const start = starts[i];
    const spec: EncoderSpec = { ...applyOverrides(start.spec, o.overrides ?? {}), input, sessions: sessionsOf(loaded) };
    const sessions = loaded.map((l) => splitSession(l, input, o.valFraction ?? 0.1, seed));
    const result = await trainEncoder({ spec, sessions, seed, trainable: 'all', initialWeights: start.weights, plateau: plateauOf(o.plateau), checkpoint, ...events });
    const training = start.meta.training as { epochs?: number; seconds?: number } | undefined;
    return {
      spec,
      result,
      provenance: {
        ...recipeProvenance(o),
        // continued: the epochs above follow these
        initialized_from: { model: init, member: start.meta.name, epochs: training?.epochs ?? null, seconds: training?.seconds ?? null },
      },
    };
  });
}

export interface FitReadoutOptions extends ProgressEvents, TrainingControl, RecipeOptions {
  /** a trained model or ensemble folder whose core is kept frozen */
  core: string;
  data: readonly string[];
  images?: string;
  out: string;
  seed?: number;
  valFraction?: number;
  plateau?: Partial<PlateauOptions>;
  command?: string;
}

/**
 * What a readout fitted on a frozen core starts from unless told otherwise: no L1 on the queries
 * and queries and feature weights at 1/C. Under the L1 penalty a new attention readout's queries
 * shrink to zero and it averages the whole map; without it, on the demo cores, held-out median r
 * rose by 0.03-0.06 and the attention narrowed (docs/encoders.md, The ablation, measured).
 */
export const FIT_READOUT_DEFAULTS: SpecOverrides = { queryL1: 0, readoutInit: 'constant' };

/** `excite fit-readout`: new readouts for new sessions on a trained, frozen core (one per member). */
export async function fitReadouts(o: FitReadoutOptions): Promise<string> {
  const coreModel = await loadModel(o.core);
  const members: EncoderModel[] = membersOf(coreModel);
  const input = members[0].spec.input;
  const loaded = await loadSessions(o, input);
  return trainMembers({ ...o, seeds: seedsFrom(o.seed ?? 1, members.length) }, async (i, seed, checkpoint, events) => {
    const member = members[i];
    const spec: EncoderSpec = { ...member.spec, readout: applyOverrides(member.spec, { ...FIT_READOUT_DEFAULTS, ...o.overrides }).readout, sessions: sessionsOf(loaded) };
    const coreWeights = new Map<string, NdArray>([...member.weights].filter(([k]) => k.startsWith('core.')));
    const sessions = loaded.map((l) => splitSession(l, input, o.valFraction ?? 0.1, seed));
    const result = await trainEncoder({ spec, sessions, seed, trainable: 'readouts', initialWeights: coreWeights, plateau: plateauOf(o.plateau), checkpoint, ...events });
    const weights = new Map([...result.weights].filter(([k]) => k.startsWith('core.') || loaded.some((l) => k.startsWith(`readout.${l.id}.`))));
    // the member's folder as read, under the core path as given (a member's own name may be stale)
    const coreMember = join(o.core, relative(coreModel.dir, member.dir));
    return { spec, result: { ...result, weights }, provenance: { core: o.core, core_member: coreMember, data: o.data, images: o.images ?? 'all', ...scheduleOf(o) } };
  });
}
