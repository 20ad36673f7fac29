/** Most exciting natural images: weak guidance, fewer steps, the last sample (meni.ts). */
import { MENI_DEFAULTS, meni } from '../meni.ts';
import { defineMethod, diffusionSteps, guidanceScale, inputNorm } from './method.ts';

export const meniMethod = defineMethod({
  name: 'meni',
  description: 'most exciting natural image: weak guidance so the prior keeps the image natural',
  needs: { prior: true, dataset: false },
  target: 'neuron',
  imageKind: 'meni',
  space: 'prior',
  settings: { steps: diffusionSteps(MENI_DEFAULTS.steps), scale: guidanceScale(MENI_DEFAULTS.scale), norm: inputNorm(MENI_DEFAULTS.norm) },
  run: ({ encoder, prior, items, settings, onProgress, signal, sessions, precision, resume }) =>
    meni(encoder, prior!, items, { steps: settings.steps, scale: settings.scale, norm: settings.norm, signal, sessions, precision, resume }, onProgress),
});
