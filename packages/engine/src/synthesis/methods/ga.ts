/** Gradient ascent on the encoder's input (ga.ts): the baseline EGG is measured against. */
import { GA_DEFAULTS, gaMei } from '../ga.ts';
import { defineMethod, inputNorm } from './method.ts';

export const gaMethod = defineMethod({
  name: 'ga',
  description: 'gradient ascent on the image, blurred gradient, rescaled to the norm budget after each step',
  needs: { prior: false, dataset: false },
  target: 'neuron',
  imageKind: 'mei',
  space: 'encoder',
  settings: {
    steps: { kind: 'integer', description: 'gradient steps', default: GA_DEFAULTS.steps, min: 1 },
    lr: { kind: 'number', description: 'learning rate', default: GA_DEFAULTS.lr, min: 0, minExclusive: true },
    norm: inputNorm(GA_DEFAULTS.norm),
    optimizer: { kind: 'choice', description: 'optimizer', default: GA_DEFAULTS.optimizer, choices: ['adamw', 'sgd'] },
  },
  run: ({ encoder, items, settings, onProgress, signal, sessions, resume }) =>
    gaMei(encoder, items, { steps: settings.steps, lr: settings.lr, norm: settings.norm, optimizer: settings.optimizer, signal, sessions, resume }, onProgress),
});
