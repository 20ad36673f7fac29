import { describe, expect, it } from 'vitest';
import { Graph } from '../onnx/graph.ts';
import { SessionCache } from '../runtime/session.ts';
import { allRates, buildEncoder } from '../models/encoder.ts';
import { gaMei } from './ga.ts';
import { imageNorms } from './image-norm.ts';
import { type SynthesisProgress, SynthesisError } from './progress.ts';
import { TINY_ENCODER_SPEC, tinyEncoder } from './testing/tiny-models.ts';

const encoder = tinyEncoder(1);

describe('gradient ascent MEIs', () => {
  it('raises the neuron\'s rate, keeps every image at norm 25 and reports each step', async () => {
    const events: SynthesisProgress[] = [];
    const result = await gaMei(encoder, [{ neuron: 1, seed: 3 }, { neuron: 2, seed: 4 }], { steps: 40 }, (e) => void events.push(e));
    expect(events.map((e) => e.step)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(events[0]).toMatchObject({ method: 'ga', steps: 40 });
    expect(events[0].preview.shape).toEqual([2, 1, 12, 12]);
    for (let i = 0; i < 2; i++) {
      expect(result.activation[i]).toBeGreaterThan(events[0].activation[i] * 1.05);
      expect(result.energy[i]).toBeCloseTo(-result.activation[i], 5);
    }
    for (const norm of imageNorms(result.images.data, 2)) expect(norm).toBeCloseTo(25, 3);
    expect(result.images.shape).toEqual([2, 1, 12, 12]);
    expect(result.encoderImages).toBe(result.images);
    expect(result.steps).toBe(40);
  });

  it('gives each image of a batch what a run of that image alone gives (same seeds)', async () => {
    const items = [{ neuron: 0, seed: 11 }, { neuron: 2, seed: 12 }, { neuron: 0, seed: 13 }];
    const batched = await gaMei(encoder, items, { steps: 15 });
    for (const [i, item] of items.entries()) {
      const alone = await gaMei(encoder, [item], { steps: 15 });
      const a = alone.images.data;
      const b = batched.images.data.subarray(i * 144, (i + 1) * 144);
      let err = 0;
      for (let k = 0; k < 144; k++) err = Math.max(err, Math.abs(a[k] - b[k]));
      expect(err).toBeLessThan(1e-3);
      expect(alone.activation[0]).toBeCloseTo(batched.activation[i], 4);
    }
  });

  it('with a session cache: one compiled graph across runs, the same images as fresh sessions', async () => {
    const cache = new SessionCache();
    const fresh = await gaMei(encoder, [{ neuron: 1, seed: 5 }], { steps: 10 });
    const cached = await gaMei(encoder, [{ neuron: 1, seed: 5 }], { steps: 10, sessions: cache });
    await gaMei(encoder, [{ neuron: 0, seed: 6 }, { neuron: 2, seed: 7 }], { steps: 3, sessions: cache });
    const again = await gaMei(encoder, [{ neuron: 1, seed: 5 }], { steps: 10, sessions: cache });
    expect(cache.size).toBe(1);
    expect(Array.from(cached.images.data)).toEqual(Array.from(fresh.images.data));
    expect(Array.from(again.images.data)).toEqual(Array.from(fresh.images.data));
    await cache.clear();
  });

  it('runs the first code\'s SGD too', async () => {
    const first = await gaMei(encoder, [{ neuron: 2, seed: 1 }], { steps: 1 });
    const sgd = await gaMei(encoder, [{ neuron: 2, seed: 1 }], { steps: 30, optimizer: 'sgd' });
    expect(sgd.activation[0]).toBeGreaterThan(first.activation[0]);
    expect(imageNorms(sgd.images.data, 1)[0]).toBeCloseTo(25, 3);
  });

  it('stops with an error naming the method, step and image when the energy is NaN', async () => {
    const g = new Graph('encoder');
    const image = g.input('image', 'float32', ['batch', 1, 12, 12]);
    const built = buildEncoder(g, image, TINY_ENCODER_SPEC, { seed: 1 });
    g.output(allRates(built, TINY_ENCODER_SPEC), 'rates');
    const broken = [...g.weights.values()].find((w) => w.name.includes('readout'))!;
    (broken.data!.data as Float32Array).fill(NaN);
    const run = gaMei({ graph: g, input: encoder.input }, [{ neuron: 0, seed: 1 }, { neuron: 1, seed: 2 }], { steps: 5 });
    await expect(run).rejects.toThrow(SynthesisError);
    await expect(gaMei({ graph: g, input: encoder.input }, [{ neuron: 0, seed: 1 }], { steps: 5 })).rejects.toThrow('ga: the energy of image 0 (seed 1) is NaN at step 1 of 5');
  });
});
