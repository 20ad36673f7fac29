/** EGG with the energy differentiated at the predicted x0 only: no backward pass through the UNet (egg.ts). */
import { EGG_DEFAULTS, eggX0Mei } from '../egg.ts';
import { defineMethod, guidedOptions, guidedSettings } from './method.ts';

export const eggX0Method = defineMethod({
  name: 'egg-x0',
  description: 'energy guided diffusion with the gradient taken at the predicted x0 (cheaper)',
  needs: { prior: true, dataset: false },
  target: 'neuron',
  imageKind: 'mei',
  space: 'prior',
  settings: guidedSettings(EGG_DEFAULTS),
  run: (context) => eggX0Mei(context.encoder, context.prior!, context.items, guidedOptions(context), context.onProgress),
});
