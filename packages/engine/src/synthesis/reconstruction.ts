/**
 * Reconstructions from target responses: EGG with E = mean_n (r_n - target_n)^2, K = 1000,
 * lambda = 2 (weak guidance, whatever the prior's size), c = the target image's norm, and the encoder's input clipped to [-1.7, 1.9] (the
 * standardized range of the paper's images). The clip sits inside the energy's preprocessing, after
 * the rescaling, so the result's `encoderImages` are the clipped reconstructions the encoder saw.
 */
import { withDefaults } from './defaults.ts';
import type { NdArray } from '../onnx/ndarray.ts';
import { float32 } from '../onnx/ndarray.ts';
import { type GuidedDiffusionSettings, guidedDiffusion } from './egg.ts';
import { reconstructionEnergy } from './energy.ts';
import type { SynthesisEncoder } from './synthesis-encoder.ts';
import { type ResponseOptions, encoderResponses } from './encoder-responses.ts';
import type { SynthesisPrior } from './synthesis-prior.ts';
import { imageNorms } from './image-norm.ts';
import type { ProgressCallback } from './progress.ts';
import type { SynthesisResult } from './synthesis-result.ts';

export const RECONSTRUCTION_DEFAULTS = { steps: 1000, scale: 2, clip: [-1.7, 1.9] as const, norm: 25 };

export interface ReconstructionTargets {
  /** target rates [batch, neurons]: recorded, or any model's */
  rates?: NdArray;
  /**
   * target images in the encoder's standardized input space [batch, C, H, W]: their norms are c and,
   * unless `rates` are given, the encoder's responses to them are the targets
   */
  images?: NdArray<Float32Array>;
}

export interface ReconstructionSettings extends Omit<GuidedDiffusionSettings, 'seeds'> {
  /** one per target (default 0 for each) */
  seeds?: readonly number[];
  /** for the targets' responses */
  responses?: ResponseOptions;
}

export async function reconstruct(encoder: SynthesisEncoder, prior: SynthesisPrior, targets: ReconstructionTargets, settings: ReconstructionSettings = {}, onProgress?: ProgressCallback): Promise<SynthesisResult> {
  const { images } = targets;
  if (!targets.rates && !images) throw new Error('recon: give target rates or target images');
  const rates = targets.rates ?? (await encoderResponses(encoder, images!, { session: settings.session, ...settings.responses }));
  const count = rates.shape[0];
  if (images && images.shape[0] !== count) throw new Error(`recon: ${images.shape[0]} target images for ${count} target rates`);
  const norm = settings.norm ?? (images ? Array.from(imageNorms(images.data, count)) : RECONSTRUCTION_DEFAULTS.norm);
  const energy = reconstructionEnergy(float32(rates.shape, rates.data as ArrayLike<number>));
  const seeds = settings.seeds ?? new Array<number>(count).fill(0);
  const defaults = { ...RECONSTRUCTION_DEFAULTS, method: 'recon' as const };
  return guidedDiffusion(encoder, prior, energy, { ...withDefaults(defaults, settings), norm, seeds }, onProgress);
}
