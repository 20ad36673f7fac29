/**
 * What every synthesis method reports while it runs (k-diffusion style: a callback per step), and
 * the guard that stops a run whose energy stopped being a number. The API's worker turns these
 * events into subscriptions, the CLI into a progress bar.
 */
import type { NdArray } from '../onnx/ndarray.ts';
import type { SynthesisCheckpoint } from './checkpoint.ts';
import type { MethodName } from './methods/method.ts';

/** The methods, named as `excite synthesize --method` names them (methods/registry.ts). */
export type SynthesisMethod = MethodName;

/** A small copy of the batch's current images, [batch, channels, height, width] with height, width <= 32. */
export interface Preview {
  data: Float32Array;
  shape: [number, number, number, number];
}

export interface SynthesisProgress {
  method: SynthesisMethod;
  /** 1..steps */
  step: number;
  steps: number;
  /** diffusion methods: the original timestep s_k this step denoised */
  timestep?: number;
  /** the energy of each image at this step */
  energy: Float32Array;
  /** per image, the rate the energy is about (MEI energies: the target neuron; reconstruction: the population mean) */
  activation: Float32Array;
  /** the image the step scored: GA's x, the diffusion methods' predicted x0 */
  preview: Preview;
  /**
   * GA and the diffusion methods, at every step but the last: a copy of the state after this step,
   * from which the method's `resume` setting continues (checkpoint.ts). Call it before the callback
   * returns: the next step changes the state.
   */
  checkpoint?: () => SynthesisCheckpoint;
}

/** Awaited before the next step: a slow consumer applies back-pressure, a throw stops the run. */
export type ProgressCallback = (event: SynthesisProgress) => void | Promise<void>;

export class SynthesisError extends Error {
  constructor(
    message: string,
    readonly method: SynthesisMethod,
    readonly step: number,
    readonly image?: number,
  ) {
    super(message);
    this.name = 'SynthesisError';
  }
}

/** Stops the run when an energy is NaN or infinite: a diverged run only produces garbage from here on. */
export function checkEnergy(method: SynthesisMethod, step: number, steps: number, energy: ArrayLike<number>, seeds: readonly number[]): void {
  for (let i = 0; i < energy.length; i++) {
    if (Number.isFinite(energy[i])) continue;
    throw new SynthesisError(`${method}: the energy of image ${i} (seed ${seeds[i]}) is ${energy[i]} at step ${step} of ${steps}`, method, step, i);
  }
}

export const PREVIEW_SIZE = 32;

/** Area-average downsampling of [B, C, H, W] so that neither side exceeds `maxSize` (the aspect ratio kept). */
export function previewOf(x: NdArray, maxSize = PREVIEW_SIZE): Preview {
  const [B, C, H, W] = x.shape;
  const src = x.data as Float32Array;
  const scale = Math.min(1, maxSize / Math.max(H, W));
  const h = Math.max(1, Math.round(H * scale));
  const w = Math.max(1, Math.round(W * scale));
  if (h === H && w === W) return { data: Float32Array.from(src), shape: [B, C, H, W] };
  // each output pixel averages the input pixels its footprint overlaps, weighted by the overlap
  const weights = (n: number, m: number) =>
    Array.from({ length: m }, (_, o) => {
      const lo = (o * n) / m;
      const hi = ((o + 1) * n) / m;
      const taps: [number, number][] = [];
      for (let i = Math.floor(lo); i < Math.min(n, Math.ceil(hi)); i++) taps.push([i, (Math.min(hi, i + 1) - Math.max(lo, i)) / (hi - lo)]);
      return taps;
    });
  const ys = weights(H, h);
  const xs = weights(W, w);
  const out = new Float32Array(B * C * h * w);
  for (let p = 0; p < B * C; p++)
    for (let oy = 0; oy < h; oy++)
      for (let ox = 0; ox < w; ox++) {
        let s = 0;
        for (const [iy, wy] of ys[oy]) for (const [ix, wx] of xs[ox]) s += wy * wx * src[(p * H + iy) * W + ix];
        out[(p * h + oy) * w + ox] = s;
      }
  return { data: out, shape: [B, C, h, w] };
}
