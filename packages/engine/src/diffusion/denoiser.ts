/**
 * The denoiser interface the samplers run over (k-diffusion style): a noise prediction for x_t at
 * the original timestep indices. A UNet session, an analytic model or a test double can stand
 * behind it.
 */
import type { NdArray } from '../onnx/ndarray.ts';
import type { EngineSession } from '../runtime/session.ts';
import { float32 } from '../onnx/ndarray.ts';

export interface DenoiserOutput {
  /** the predicted noise, [B, C, H, W] like x_t */
  eps: NdArray;
  /** ADM's variance channels in [-1, 1] (learned range), [B, C, H, W]; absent for fixed variance */
  v?: NdArray;
}

export interface Denoiser {
  /**
   * Predicts for x_t [B, C, H, W] (float32), given per batch item the ORIGINAL timestep index s_k
   * (0..T-1) that the network was trained with, not the respaced step k.
   */
  predict(x: NdArray, timesteps: readonly number[]): Promise<DenoiserOutput>;
}

export interface SessionDenoiserOptions {
  /** graph input names (default the UNet's: `x` and `t`) */
  input?: string;
  timestep?: string;
  /** graph output names (default `eps`, and `v` when the session has it) */
  eps?: string;
  v?: string;
}

/**
 * A denoiser over a UNet session (models/unet.ts): feeds x and the timesteps as float32 [B], and
 * reads `eps` and, for a learned-sigma model, `v`.
 */
export function sessionDenoiser(session: EngineSession, options: SessionDenoiserOptions = {}): Denoiser {
  const names = { input: options.input ?? 'x', timestep: options.timestep ?? 't', eps: options.eps ?? 'eps', v: options.v ?? 'v' };
  const hasV = session.outputNames.includes(names.v);
  const outputs = hasV ? [names.eps, names.v] : [names.eps];
  return {
    async predict(x, timesteps) {
      if (timesteps.length !== x.shape[0]) throw new Error(`${timesteps.length} timesteps for a batch of ${x.shape[0]}`);
      const out = await session.run({ [names.input]: x, [names.timestep]: float32([timesteps.length], timesteps) }, outputs);
      return hasV ? { eps: out[names.eps], v: out[names.v] } : { eps: out[names.eps] };
    },
  };
}
