/** Energy guided diffusion with the gradient through the UNet (egg.ts). */
import { EGG_DEFAULTS, eggMei } from '../egg.ts';
import { defineMethod, diffusionSteps, guidanceScale, inputNorm } from './method.ts';

export const eggMethod = defineMethod({
  name: 'egg',
  description: 'energy guided diffusion: the prior sampled with the gradient of the neuron’s response through the UNet',
  needs: { prior: true, dataset: false },
  target: 'neuron',
  imageKind: 'mei',
  space: 'prior',
  settings: { steps: diffusionSteps(EGG_DEFAULTS.steps), scale: guidanceScale(EGG_DEFAULTS.scale), norm: inputNorm(EGG_DEFAULTS.norm) },
  run: ({ encoder, prior, items, settings, onProgress, signal, sessions, precision, resume }) =>
    eggMei(encoder, prior!, items, { steps: settings.steps, scale: settings.scale, norm: settings.norm, signal, sessions, precision, resume }, onProgress),
});
