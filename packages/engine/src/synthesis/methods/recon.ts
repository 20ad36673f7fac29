/** Reconstructions: images whose predicted responses match a target's (reconstruction.ts). */
import { RECONSTRUCTION_DEFAULTS, reconstruct } from '../reconstruction.ts';
import { defineMethod, diffusionSteps, guidanceScale, inputNorm } from './method.ts';

export const reconMethod = defineMethod({
  name: 'recon',
  description: 'reconstruction of a dataset image from the generator’s responses to it',
  needs: { prior: true, dataset: true },
  target: 'responses',
  imageKind: 'recon',
  space: 'prior',
  settings: {
    steps: diffusionSteps(RECONSTRUCTION_DEFAULTS.steps),
    scale: guidanceScale(RECONSTRUCTION_DEFAULTS.scale),
    // unset: each reconstruction takes its target image's norm
    norm: inputNorm(undefined, 'L2 norm c of the encoder input (default: the target image’s)'),
  },
  run: ({ encoder, prior, items, settings, targets, onProgress, signal, sessions, precision, resume }) => {
    if (!targets) throw new Error('recon: give target rates or images');
    return reconstruct(encoder, prior!, targets, { steps: settings.steps, scale: settings.scale, norm: settings.norm, seeds: items.map((i) => i.seed), signal, sessions, precision, resume }, onProgress);
  },
});
