/**
 * Natural top-k: the candidate images that drive each neuron most (natural-top-k.ts), the
 * comparison every synthesized image is held against. An item's seed is its rank (0 = best).
 */
import { float32 } from '../../onnx/ndarray.ts';
import { encoderResponses } from '../encoder-responses.ts';
import { TOP_K_DEFAULTS } from '../natural-top-k.ts';
import { previewOf } from '../progress.ts';
import { defineMethod } from './method.ts';

export const topkMethod = defineMethod({
  name: 'topk',
  description: 'the natural images of a dataset that drive the neuron most',
  needs: { prior: false, dataset: true },
  target: 'neuron',
  imageKind: 'natural',
  space: 'encoder',
  settings: { k: { kind: 'integer', description: 'images per neuron', default: TOP_K_DEFAULTS.k, min: 1, max: 100 } },
  run: async ({ encoder, items, natural, onProgress, signal, sessions }) => {
    const started = performance.now();
    if (!natural) throw new Error('topk: give the candidate natural images');
    signal?.throwIfAborted();
    // every candidate's rates once, for all the items' neurons
    const rates = await encoderResponses(encoder, natural, { sessions });
    signal?.throwIfAborted();
    const [N, neurons] = rates.shape;
    const size = natural.data.length / Math.max(1, N);
    const orders = new Map<number, number[]>();
    const orderOf = (neuron: number) => {
      let order = orders.get(neuron);
      if (!order) {
        const rate = (i: number) => rates.data[i * neurons + neuron];
        // most activating first; ties keep the earlier image first
        order = Array.from({ length: N }, (_, i) => i).sort((a, b) => rate(b) - rate(a) || a - b);
        orders.set(neuron, order);
      }
      return order;
    };
    const sourceIndices = items.map(({ neuron, seed: rank }) => {
      const source = orderOf(neuron)[rank];
      if (source === undefined) throw new Error(`topk: no candidate of rank ${rank} among ${N} images`);
      return source;
    });
    const images = float32([items.length, ...natural.shape.slice(1)], new Float32Array(items.length * size));
    sourceIndices.forEach((source, i) => images.data.set(natural.data.subarray(source * size, (source + 1) * size), i * size));
    const activation = Float32Array.from(items, ({ neuron }, i) => rates.data[sourceIndices[i] * neurons + neuron]);
    const energy = activation.map((a) => -a);
    await onProgress?.({ method: 'topk', step: 1, steps: 1, energy, activation, preview: previewOf(images) });
    return { method: 'topk', images, encoderImages: images, energy, activation, seeds: items.map((i) => i.seed), steps: 1, seconds: (performance.now() - started) / 1000, sourceIndices };
  },
});
