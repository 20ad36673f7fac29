/** Energy guided diffusion with the gradient through the UNet (egg.ts). */
import { EGG_DEFAULTS, eggMei } from '../egg.ts';
import { defineMethod, guidedOptions, guidedSettings } from './method.ts';

export const eggMethod = defineMethod({
  name: 'egg',
  description: 'energy guided diffusion: the prior sampled with the gradient of the neuron’s response through the UNet',
  needs: { prior: true, dataset: false },
  target: 'neuron',
  imageKind: 'mei',
  space: 'prior',
  settings: guidedSettings(EGG_DEFAULTS),
  run: (context) => eggMei(context.encoder, context.prior!, context.items, guidedOptions(context), context.onProgress),
});
