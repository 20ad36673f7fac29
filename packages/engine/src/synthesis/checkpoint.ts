/**
 * Checkpoints of a batched synthesis: after any step but the last, the state that lets the loop go
 * on exactly as if it had never stopped (a worker that died, a service that shut down). GA's state
 * is its images and AdamW's moments; the diffusion methods' state is x_t and each image's noise
 * generator. The progress event of a step offers `checkpoint()` (a copy, taken only when asked);
 * the method's `resume` setting starts from one. Resuming gives the same images as an
 * uninterrupted run of the same seeds.
 */
import type { SynthesisMethod } from './progress.ts';

/** An image's noise generator (random.ts). */
export interface RngState {
  state: number;
  spare?: number;
}

export interface SynthesisCheckpoint {
  method: SynthesisMethod;
  /** steps done, 1..steps-1 */
  step: number;
  steps: number;
  /** images in the batch */
  images: number;
  /** the current images [images, C, H, W] flattened: GA's x, the diffusion methods' x_t after the step */
  x: Float32Array;
  /** diffusion methods: each image's noise generator after the step */
  rngStates?: RngState[];
  /** GA with AdamW: its step count and moments (same layout as x) */
  optimizer?: { step: number; m: Float32Array; v: Float32Array };
}

/** Checks that a checkpoint continues this run (method, steps, batch and image size). */
export function checkResume(checkpoint: SynthesisCheckpoint, method: SynthesisMethod, steps: number, images: number, imageSize: number): void {
  const problem =
    checkpoint.method !== method
      ? `it is of ${checkpoint.method}`
      : checkpoint.steps !== steps
        ? `it has ${checkpoint.steps} steps, the run ${steps}`
        : !Number.isInteger(checkpoint.step) || checkpoint.step < 1 || checkpoint.step >= steps
          ? `its step ${checkpoint.step} is not one of 1..${steps - 1}`
          : checkpoint.images !== images || checkpoint.x.length !== images * imageSize
            ? `it holds ${checkpoint.images} images of ${checkpoint.x.length / Math.max(1, checkpoint.images)} values, the run ${images} of ${imageSize}`
            : undefined;
  if (problem) throw new Error(`${method}: cannot resume from this checkpoint: ${problem}`);
}

/** The checkpoint of images [from, to) of a batch (a run's share of a batched call). */
export function sliceCheckpoint(c: SynthesisCheckpoint, from: number, to: number): SynthesisCheckpoint {
  const n = c.x.length / c.images;
  const part = (a: Float32Array) => a.slice(from * n, to * n);
  return {
    ...c,
    images: to - from,
    x: part(c.x),
    rngStates: c.rngStates?.slice(from, to),
    optimizer: c.optimizer && { step: c.optimizer.step, m: part(c.optimizer.m), v: part(c.optimizer.v) },
  };
}

/** One batch's checkpoint from its parts' (in order): they must be at the same step. */
export function joinCheckpoints(parts: readonly SynthesisCheckpoint[]): SynthesisCheckpoint {
  const [first] = parts;
  if (!first) throw new Error('joinCheckpoints: no checkpoints');
  for (const p of parts) {
    if (p.method !== first.method || p.step !== first.step || p.steps !== first.steps || !p.optimizer !== !first.optimizer || !p.rngStates !== !first.rngStates) {
      throw new Error(`joinCheckpoints: the checkpoints are of different steps or methods (${p.method} step ${p.step}, ${first.method} step ${first.step})`);
    }
  }
  const concat = (arrays: Float32Array[]) => {
    const out = new Float32Array(arrays.reduce((n, a) => n + a.length, 0));
    let offset = 0;
    for (const a of arrays) {
      out.set(a, offset);
      offset += a.length;
    }
    return out;
  };
  return {
    ...first,
    images: parts.reduce((n, p) => n + p.images, 0),
    x: concat(parts.map((p) => p.x)),
    rngStates: first.rngStates && parts.flatMap((p) => p.rngStates!),
    optimizer: first.optimizer && { step: first.optimizer.step, m: concat(parts.map((p) => p.optimizer!.m)), v: concat(parts.map((p) => p.optimizer!.v)) },
  };
}
