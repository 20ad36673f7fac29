/**
 * Runs' checkpoints in the database (table run_checkpoints): a run's share of the engine's state
 * (x, noise generator states, optimizer moments: the engine's SynthesisCheckpoint) plus the energy
 * and activation of the steps so far (the trajectory). The arrays are one safetensors blob in a
 * bytea column, the rest is JSON. The run store writes them (fenced by the worker's attempt, so a
 * worker that lost the run cannot overwrite its successor's) and drops them when the run succeeds;
 * the worker reads them when a retry starts.
 */
import { inArray } from 'drizzle-orm';
import { type RngState, type SynthesisCheckpoint, decodeSafetensors, encodeSafetensors, float32 } from '@excite/engine';
import type { Db } from '../db/database.ts';
import { runCheckpoints } from '../db/schema.ts';

/** A run's checkpoint: the engine's state and the trajectory so far. */
export interface RunCheckpoint {
  checkpoint: SynthesisCheckpoint;
  /** energy and activation of every step so far, [step][image] flattened */
  energy: number[];
  activation: number[];
}

interface StoredState {
  version: 1;
  method: SynthesisCheckpoint['method'];
  step: number;
  steps: number;
  images: number;
  rngStates?: RngState[];
  optimizerStep?: number;
}

export function encodeRunCheckpoint(c: RunCheckpoint): { step: number; state: StoredState; tensors: Uint8Array } {
  const { checkpoint: k } = c;
  const arrays = new Map([
    ['x', float32([k.x.length], k.x)],
    ['energy', float32([c.energy.length], Float32Array.from(c.energy))],
    ['activation', float32([c.activation.length], Float32Array.from(c.activation))],
  ]);
  if (k.optimizer) {
    arrays.set('optimizer.m', float32([k.optimizer.m.length], k.optimizer.m));
    arrays.set('optimizer.v', float32([k.optimizer.v.length], k.optimizer.v));
  }
  const state: StoredState = { version: 1, method: k.method, step: k.step, steps: k.steps, images: k.images, rngStates: k.rngStates, optimizerStep: k.optimizer?.step };
  return { step: k.step, state, tensors: encodeSafetensors(arrays) };
}

export function decodeRunCheckpoint(state: unknown, tensors: Uint8Array): RunCheckpoint {
  const s = state as StoredState;
  if (s?.version !== 1) throw new Error(`a checkpoint of version ${s?.version} cannot be read`);
  const { tensors: t } = decodeSafetensors(tensors, 'checkpoint');
  const array = (name: string) => {
    const a = t.get(name);
    if (!a) throw new Error(`the checkpoint has no "${name}"`);
    return Float32Array.from(a.data as ArrayLike<number>);
  };
  return {
    checkpoint: {
      method: s.method,
      step: s.step,
      steps: s.steps,
      images: s.images,
      x: array('x'),
      rngStates: s.rngStates,
      optimizer: s.optimizerStep === undefined ? undefined : { step: s.optimizerStep, m: array('optimizer.m'), v: array('optimizer.v') },
    },
    energy: [...array('energy')],
    activation: [...array('activation')],
  };
}

export async function loadCheckpoints(db: Db, runIds: readonly string[]): Promise<Map<string, RunCheckpoint>> {
  if (runIds.length === 0) return new Map();
  const rows = await db.select().from(runCheckpoints).where(inArray(runCheckpoints.runId, [...runIds]));
  const out = new Map<string, RunCheckpoint>();
  for (const r of rows) {
    try {
      out.set(r.runId, decodeRunCheckpoint(r.state, r.tensors));
    } catch {
      // an unreadable checkpoint only costs the steps it held: the run starts over
    }
  }
  return out;
}
