/**
 * Unguided samples of a prior: ancestral sampling over K respaced steps with the
 * prior's variance, from seeded noise; the result in pixels 0..255.
 */
import { type NdArray, float32 } from '../onnx/ndarray.ts';
import { Rng } from '../random.ts';
import { createSession } from '../runtime/session.ts';
import { sessionDenoiser } from './denoiser.ts';
import { type Prior, priorGraph, priorSchedule, priorToPixels } from './prior.ts';
import { type StepCallback, gaussianNoise, sampleAncestral } from './sampler.ts';

export interface SamplePriorOptions {
  /** images (default 16) */
  count?: number;
  /** respaced sampling steps K (default 100) */
  steps?: number;
  seed?: number;
  /** clip each step's predicted x0 to [-1, 1] (ADM's clip_denoised, on in its image_sample.py; default false) */
  clipDenoised?: boolean;
  /** images per UNet run (default all at once) */
  batchSize?: number;
  threads?: number;
  onStep?: StepCallback;
}

/** Samples [count, C, H, W] in pixels 0..255 (clipped), and the raw samples in the prior's space. */
export async function samplePrior(prior: Prior, options: SamplePriorOptions = {}): Promise<{ pixels: NdArray<Float32Array>; samples: NdArray<Float32Array> }> {
  const count = options.count ?? 16;
  const batch = Math.min(count, options.batchSize ?? count);
  const { imageSize: S, inChannels: C } = prior.config;
  const schedule = priorSchedule(prior, options.steps ?? 100);
  const session = await createSession(priorGraph(prior), {}, { threads: options.threads });
  const rng = new Rng(options.seed ?? 0);
  const out = new Float32Array(count * C * S * S);
  try {
    const denoiser = sessionDenoiser(session);
    for (let at = 0; at < count; at += batch) {
      const b = Math.min(batch, count - at);
      const xT = gaussianNoise([b, C, S, S], rng);
      const x = await sampleAncestral(denoiser, xT, schedule, { rng, variance: prior.meta.diffusion.variance, clipDenoised: options.clipDenoised }, options.onStep);
      out.set(x.data as Float32Array, at * C * S * S);
    }
  } finally {
    await session.release();
  }
  const shape = [count, C, S, S];
  return { pixels: float32(shape, priorToPixels(out)), samples: float32(shape, out) };
}
