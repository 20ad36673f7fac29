/**
 * The training loop that the encoder and the prior trainers share: rounds (an epoch of batches,
 * or a single step), a forward and backward pass per batch, the AdamW step, hooks after every
 * step and every round (validation, schedules), a checkpoint every N rounds from which a later
 * run resumes exactly, progress and an abort signal. Each trainer keeps its objective, its data
 * and what it adds to the checkpoint.
 */
import { type NdArray, float32 } from '../onnx/ndarray.ts';
import type { Rng } from '../random.ts';
import type { AdamW } from './adamw.ts';
import { type CheckpointContent, readCheckpoint, writeCheckpoint } from './checkpoint.ts';

export interface StepResult {
  loss: number;
  /** gradient of each trainable weight */
  grads: ReadonlyMap<string, Float32Array>;
}

/** A trainer's own part of a checkpoint: JSON state and tensor files beside the loop's. */
export type TrainerState = CheckpointContent<unknown>;

export interface LoopCheckpoint {
  dir: string;
  /** rounds between checkpoints */
  every: number;
  /** also after the round that ends the run, so that a later run with a larger budget continues */
  atEnd: boolean;
  own: () => TrainerState;
  /** also within a round, once this many seconds passed since the last checkpoint (0 or unset: only between rounds) */
  seconds?: number;
  /** after each checkpoint is written whole (a service copies the folder into its database) */
  written?: () => Promise<void>;
  /** an abort within a round first checkpoints the batches done (a service's shutdown keeps the batch in flight) */
  saveOnAbort?: boolean;
}

/** Where a checkpoint written within a round left it: the batches done and the generator as the round began. */
export interface RoundPosition {
  batch: number;
  roundRng: RngState;
}

type RngState = ReturnType<Rng['getState']>;

export interface LoopOptions<B, R extends StepResult> {
  /** the weights AdamW updates in place (read anew each step: a trainer may swap them) */
  weights: () => ReadonlyMap<string, NdArray>;
  optimizer: AdamW;
  rng: Rng;
  /** rounds already done (a resumed run) and the rounds to end at */
  start: number;
  rounds: number;
  /** a checkpoint written within round `start`: its batches are drawn again and the first `batch` skipped */
  within?: RoundPosition;
  /** the batches of a round; called as the round begins */
  batches: (round: number) => readonly B[];
  step: (batch: B, round: number) => Promise<R>;
  /** where a batch is, for errors ("epoch 3 (session a)") */
  label: (batch: B, round: number) => string;
  afterStep?: (result: R, batch: B, round: number) => void;
  /** after a round's batches (validation, learning-rate schedule); true ends the run */
  endRound?: (round: number) => Promise<boolean> | boolean;
  checkpoint?: LoopCheckpoint;
  /** after each batch's update: batches done of the round's total, and the batch's result */
  onBatch?: (done: number, total: number, result: R) => void;
  signal?: AbortSignal;
}

interface LoopState {
  /** rounds done */
  round: number;
  /** optimizer steps done */
  step: number;
  rng: RngState;
  own: unknown;
  /** a checkpoint within round `round` */
  within?: RoundPosition;
}

const moments = (prefix: string, m: Record<string, Float32Array>) => Object.entries(m).map(([k, v]) => [`${prefix}${k}`, float32([v.length], v)] as const);

function unprefixed(prefix: string, m: ReadonlyMap<string, NdArray>): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  for (const [k, v] of m) if (k.startsWith(prefix)) out[k.slice(prefix.length)] = v.data as Float32Array;
  return out;
}

async function saveLoop<B, R extends StepResult>(o: LoopOptions<B, R>, c: LoopCheckpoint, round: number, within?: RoundPosition): Promise<void> {
  const own = c.own();
  const optimizer = o.optimizer.state();
  const state: LoopState = { round, step: optimizer.step, rng: o.rng.getState(), own: own.state, ...(within ? { within } : {}) };
  await writeCheckpoint(c.dir, { state, tensors: { weights: o.weights(), optimizer: new Map([...moments('m.', optimizer.m), ...moments('v.', optimizer.v)]), ...own.tensors } });
  await c.written?.();
}

export interface Resumed {
  /** rounds done */
  round: number;
  /** a checkpoint written within round `round` */
  within?: RoundPosition;
  weights: Map<string, NdArray>;
  own: { state: unknown; tensors: Record<string, Map<string, NdArray>> };
}

/**
 * Reads the checkpoint in `dir`, if one was completed there, and restores the optimizer's moments
 * and the generator; the trainer restores the weights and its own part.
 */
export async function resumeLoop(dir: string | undefined, optimizer: AdamW, rng: Rng): Promise<Resumed | undefined> {
  if (!dir) return undefined;
  const saved = await readCheckpoint<LoopState>(dir);
  if (!saved) return undefined;
  const { weights, optimizer: m, ...tensors } = saved.tensors;
  optimizer.load({ step: saved.state.step, m: unprefixed('m.', m), v: unprefixed('v.', m) });
  rng.setState(saved.state.rng);
  return { round: saved.state.round, within: saved.state.within, weights, own: { state: saved.state.own, tensors } };
}

export async function runLoop<B, R extends StepResult>(o: LoopOptions<B, R>): Promise<void> {
  let saved = performance.now();
  for (let round = o.start; round < o.rounds; round++) {
    // a round resumed within: its batches drawn again from the generator as it began, then the generator as it was
    const within = round === o.start ? o.within : undefined;
    const now = o.rng.getState();
    const roundRng = within?.roundRng ?? now;
    if (within) o.rng.setState(roundRng);
    const batches = o.batches(round);
    if (within) o.rng.setState(now);
    const from = within?.batch ?? 0;
    for (let i = from; i < batches.length; i++) {
      const batch = batches[i];
      if (o.signal?.aborted) {
        if (o.checkpoint?.saveOnAbort && i > from) await saveLoop(o, o.checkpoint, round, { batch: i, roundRng });
        o.signal.throwIfAborted();
      }
      const result = await o.step(batch, round);
      if (!Number.isFinite(result.loss)) throw new Error(`the training loss is ${result.loss} at ${o.label(batch, round)}: lower the learning rate`);
      const weights = o.weights();
      o.optimizer.step(new Map([...result.grads.keys()].map((n) => [n, weights.get(n)!.data as Float32Array])), result.grads);
      o.afterStep?.(result, batch, round);
      o.onBatch?.(i + 1, batches.length, result);
      const c = o.checkpoint;
      if (c?.seconds && i + 1 < batches.length && performance.now() - saved >= c.seconds * 1000) {
        await saveLoop(o, c, round, { batch: i + 1, roundRng });
        saved = performance.now();
      }
    }
    const stop = (await o.endRound?.(round)) === true;
    const last = stop || round + 1 === o.rounds;
    if (o.checkpoint && (round + 1) % o.checkpoint.every === 0 && (o.checkpoint.atEnd || !last)) {
      await saveLoop(o, o.checkpoint, round + 1);
      saved = performance.now();
    }
    if (stop) break;
  }
}
