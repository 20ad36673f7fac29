/**
 * What synthesis needs of a diffusion prior: the ADM UNet, its weights, its image space and
 * the process it was trained on. A loaded prior directory (diffusion/prior.ts) converts into one.
 */
import type { Prior } from '../diffusion/prior.ts';
import { type DiffusionSchedule, type VarianceKind, linearBetas, respaceSchedule, respacedTimesteps } from '../diffusion/schedule.ts';
import type { UNetConfig } from '../models/unet.ts';
import type { NdArray } from '../onnx/ndarray.ts';

export interface SynthesisPrior {
  unet: UNetConfig;
  /** by state_dict name */
  weights: ReadonlyMap<string, NdArray>;
  imageSize: number;
  channels: number;
  variance: VarianceKind;
  /** T and the linear betas' bounds of the training process (default 1000, 1e-4, 0.02) */
  trainSteps?: number;
  betaStart?: number;
  betaEnd?: number;
}

export function synthesisPrior(prior: Pick<Prior, 'config' | 'weights' | 'meta'>): SynthesisPrior {
  const d = prior.meta.diffusion;
  return {
    unet: prior.config,
    weights: prior.weights,
    imageSize: prior.config.imageSize,
    channels: prior.config.inChannels,
    variance: d.variance,
    trainSteps: d.trainSteps,
    betaStart: d.betaStart,
    betaEnd: d.betaEnd,
  };
}

/** The prior's process respaced to K sampling steps. */
export function samplingSchedule(prior: SynthesisPrior, steps: number): DiffusionSchedule {
  const T = prior.trainSteps ?? 1000;
  return respaceSchedule(linearBetas(T, prior.betaStart ?? 1e-4, prior.betaEnd ?? 0.02), respacedTimesteps(T, steps));
}
