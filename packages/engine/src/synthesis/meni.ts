/**
 * Most exciting natural images: the EGG procedure with weak guidance and fewer steps, so
 * the prior keeps the image natural; the result is the last sample, not its x0.
 */
import { withDefaults } from './defaults.ts';
import { type GuidedDiffusionSettings, guidedDiffusion } from './egg.ts';
import { meiEnergy } from './energy.ts';
import type { SynthesisEncoder } from './synthesis-encoder.ts';
import type { SynthesisPrior } from './synthesis-prior.ts';
import type { ProgressCallback } from './progress.ts';
import type { SynthesisItem, SynthesisResult } from './synthesis-result.ts';

/**
 * The paper's MENI settings: K = 50, lambda from {1, 2, 5, 10} (here 2, whatever the prior's size:
 * weak guidance is what keeps the image natural, and scaled down it no longer guides), c = 25 (or 50).
 */
export const MENI_DEFAULTS = { steps: 50, scale: 2, norm: 25 } as const;

export function meni(encoder: SynthesisEncoder, prior: SynthesisPrior, items: readonly SynthesisItem[], settings: Omit<GuidedDiffusionSettings, 'seeds' | 'result'> = {}, onProgress?: ProgressCallback): Promise<SynthesisResult> {
  const energy = meiEnergy(items.map((i) => i.neuron));
  const defaults = { ...MENI_DEFAULTS, method: 'meni' as const };
  return guidedDiffusion(encoder, prior, energy, { ...withDefaults(defaults, settings), seeds: items.map((i) => i.seed), result: 'sample' }, onProgress);
}
