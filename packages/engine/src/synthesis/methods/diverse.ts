/** Diverse sets: EGG MEIs of one neuron pushed apart by a similarity penalty (diverse-set.ts). */
import { DIVERSE_DEFAULTS, diverseMeis } from '../diverse-set.ts';
import { EGG_DEFAULTS } from '../egg.ts';
import { defineMethod, diffusionSteps, guidanceScale, inputNorm } from './method.ts';

export const diverseMethod = defineMethod({
  name: 'diverse',
  description: 'a set of EGG MEIs per neuron that stay exciting while differing from each other',
  needs: { prior: true, dataset: false },
  target: 'neuron',
  imageKind: 'diverse',
  space: 'prior',
  settings: {
    steps: diffusionSteps(EGG_DEFAULTS.steps),
    scale: guidanceScale(EGG_DEFAULTS.scale),
    norm: inputNorm(EGG_DEFAULTS.norm),
    diversity: { kind: 'number', description: 'weight of the mean cosine similarity within a set', default: DIVERSE_DEFAULTS.diversity, min: 0 },
    setSize: { kind: 'integer', description: 'images per set', default: DIVERSE_DEFAULTS.setSize, min: 2, max: 16 },
  },
  run: ({ encoder, prior, items, settings, onProgress, signal, sessions, precision, resume }) =>
    diverseMeis(encoder, prior!, items, { steps: settings.steps, scale: settings.scale, norm: settings.norm, diversity: settings.diversity, signal, sessions, precision, resume }, onProgress),
});
