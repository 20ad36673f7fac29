/** Most exciting natural images: weak guidance, fewer steps, the last sample (meni.ts). */
import { MENI_DEFAULTS, meni } from '../meni.ts';
import { defineMethod, fixedGuidanceScale, guidedOptions, guidedSettings } from './method.ts';

export const meniMethod = defineMethod({
  name: 'meni',
  description: 'most exciting natural image: weak guidance so the prior keeps the image natural',
  needs: { prior: true, dataset: false },
  target: 'neuron',
  imageKind: 'meni',
  space: 'prior',
  settings: { ...guidedSettings(MENI_DEFAULTS), scale: fixedGuidanceScale(MENI_DEFAULTS.scale) },
  run: (context) => meni(context.encoder, context.prior!, context.items, guidedOptions(context), context.onProgress),
});
