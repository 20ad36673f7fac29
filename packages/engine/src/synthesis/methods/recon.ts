/** Reconstructions: images whose predicted responses match a target's (reconstruction.ts). */
import { RECONSTRUCTION_DEFAULTS, reconstruct } from '../reconstruction.ts';
import { defineMethod, diffusionSteps, fixedGuidanceScale, guidedOptions, inputNorm } from './method.ts';

export const reconMethod = defineMethod({
  name: 'recon',
  description: 'reconstruction of a dataset image from the generator’s responses to it',
  needs: { prior: true, dataset: true },
  target: 'responses',
  imageKind: 'recon',
  space: 'prior',
  settings: {
    steps: diffusionSteps(RECONSTRUCTION_DEFAULTS.steps),
    scale: fixedGuidanceScale(RECONSTRUCTION_DEFAULTS.scale),
    // unset: each reconstruction takes its target image's norm
    norm: inputNorm(undefined),
  },
  run: (context) => {
    if (!context.targets) throw new Error('recon: give target rates or images');
    return reconstruct(context.encoder, context.prior!, context.targets, { ...guidedOptions(context), seeds: context.items.map((i) => i.seed) }, context.onProgress);
  },
});
