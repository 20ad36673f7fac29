/** Training checkpoints: weights, best weights and optimizer moments as safetensors, the rest JSON. */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readSafetensors, writeSafetensors } from '../data/safetensors.ts';
import { type NdArray, float32 } from '../onnx/ndarray.ts';
import type { AdamWState } from './adamw.ts';
import type { PlateauState } from './plateau.ts';
import type { EpochReport } from './trainer.ts';

export interface Checkpoint {
  /** last completed epoch (0-based) */
  epoch: number;
  weights: Map<string, NdArray>;
  best: Map<string, NdArray>;
  optimizer: AdamWState;
  plateau: PlateauState;
  rng: { state: number; spare?: number };
  history: EpochReport[];
}

const prefixed = (prefix: string, m: Record<string, Float32Array>) => new Map(Object.entries(m).map(([k, v]) => [`${prefix}${k}`, float32([v.length], v)]));

function unprefixed(prefix: string, m: Map<string, NdArray>): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  for (const [k, v] of m) if (k.startsWith(prefix)) out[k.slice(prefix.length)] = v.data as Float32Array;
  return out;
}

/** Writes the checkpoint atomically (state.json last: a checkpoint without it is incomplete). */
export async function saveCheckpoint(dir: string, c: Checkpoint): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeSafetensors(join(dir, 'weights.safetensors'), c.weights);
  await writeSafetensors(join(dir, 'best.safetensors'), c.best);
  await writeSafetensors(join(dir, 'optimizer.safetensors'), new Map([...prefixed('m.', c.optimizer.m), ...prefixed('v.', c.optimizer.v)]));
  const state = { epoch: c.epoch, step: c.optimizer.step, plateau: c.plateau, rng: c.rng, history: c.history };
  await writeFile(join(dir, 'state.json.tmp'), JSON.stringify(state));
  await rename(join(dir, 'state.json.tmp'), join(dir, 'state.json'));
}

export async function loadCheckpoint(dir: string): Promise<Checkpoint | undefined> {
  if (!existsSync(join(dir, 'state.json'))) return undefined;
  const state = JSON.parse(await readFile(join(dir, 'state.json'), 'utf8'));
  const [weights, best, moments] = await Promise.all(['weights', 'best', 'optimizer'].map((f) => readSafetensors(join(dir, `${f}.safetensors`))));
  return {
    epoch: state.epoch,
    weights: weights.tensors,
    best: best.tensors,
    optimizer: { step: state.step, m: unprefixed('m.', moments.tensors), v: unprefixed('v.', moments.tensors) },
    plateau: state.plateau,
    rng: state.rng,
    history: state.history,
  };
}
