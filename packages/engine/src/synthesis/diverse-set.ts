/**
 * Diverse sets (the paper's outlook): several images per neuron that stay exciting while
 * differing, from EGG with the MEI energy plus the diversity term (diversity.ts) among the images
 * of each neuron. The images of one neuron form its set; they need different seeds, since identical
 * images are a stationary point of the similarity (its gradient vanishes there).
 */
import { type GuidedMeiSettings, guidedDiffusion } from './egg.ts';
import { withDiversity } from './diversity.ts';
import { meiEnergy } from './energy.ts';
import type { SynthesisEncoder } from './synthesis-encoder.ts';
import type { SynthesisPrior } from './synthesis-prior.ts';
import type { ProgressCallback } from './progress.ts';
import type { SynthesisItem, SynthesisResult } from './synthesis-result.ts';

export interface DiverseSetSettings extends GuidedMeiSettings {
  /** the weight of the mean cosine similarity against the rate (default 1) */
  diversity?: number;
  /** 'unet' (default) or 'x0', as for EGG */
  gradient?: 'unet' | 'x0';
}

/** The similarity penalty's weight, and the images of a set when a caller asks for sets by neuron (the service). */
export const DIVERSE_DEFAULTS = { diversity: 1, setSize: 4 } as const;

export function diverseMeis(encoder: SynthesisEncoder, prior: SynthesisPrior, items: readonly SynthesisItem[], settings: DiverseSetSettings = {}, onProgress?: ProgressCallback): Promise<SynthesisResult> {
  const seen = new Set<string>();
  for (const { neuron, seed } of items) {
    const key = `${neuron}:${seed}`;
    if (seen.has(key)) throw new Error(`diverse: neuron ${neuron} has seed ${seed} twice; the images of one set need different seeds`);
    seen.add(key);
  }
  const neurons = items.map((i) => i.neuron);
  const { diversity, ...rest } = settings;
  const energy = withDiversity(meiEnergy(neurons), neurons, diversity ?? DIVERSE_DEFAULTS.diversity);
  return guidedDiffusion(encoder, prior, energy, { method: 'diverse', ...rest, seeds: items.map((i) => i.seed) }, onProgress);
}
