/** EGG with the energy differentiated at the predicted x0 only: no backward pass through the UNet (egg.ts). */
import { EGG_DEFAULTS, eggX0Mei } from '../egg.ts';
import { defineMethod, diffusionSteps, guidanceScale, inputNorm } from './method.ts';

export const eggX0Method = defineMethod({
  name: 'egg-x0',
  description: 'energy guided diffusion with the gradient taken at the predicted x0 (cheaper)',
  needs: { prior: true, dataset: false },
  target: 'neuron',
  imageKind: 'mei',
  space: 'prior',
  settings: { steps: diffusionSteps(EGG_DEFAULTS.steps), scale: guidanceScale(EGG_DEFAULTS.scale), norm: inputNorm(EGG_DEFAULTS.norm) },
  run: ({ encoder, prior, items, settings, onProgress, signal, sessions, precision, resume }) =>
    eggX0Mei(encoder, prior!, items, { steps: settings.steps, scale: settings.scale, norm: settings.norm, signal, sessions, precision, resume }, onProgress),
});
