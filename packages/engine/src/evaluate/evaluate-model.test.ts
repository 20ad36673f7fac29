import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readDataset } from '../data/dataset.ts';
import { loadCompactModel } from '../models/compact.ts';
import { float32 } from '../onnx/ndarray.ts';
import { createSession } from '../runtime/session.ts';
import { V4_DATA, v4Title } from '../testing/v4-data.ts';
import { pearsonPerNeuron } from './correlation.ts';
import { evaluateModel } from './evaluate-model.ts';

describe.runIf(V4_DATA)(v4Title('evaluateModel with grayscale'), () => {
  it('shows a color model the plain mean of R, G and B in every channel', async () => {
    const model = join(V4_DATA!, 'compact/201025/neuron3.safetensors');
    const data = join(V4_DATA!, 'sessions/201025');
    const gray = await evaluateModel({ model, data, images: '600:680', grayscale: true });
    const color = await evaluateModel({ model, data, images: '600:680' });

    // the same by hand: each image's three channels replaced by their mean, scored one by one
    const dataset = await readDataset(data);
    const compact = await loadCompactModel(model);
    const session = await createSession(compact.graph);
    const predicted: number[] = [];
    const observed: number[] = [];
    for (let k = 600; k < 680; k++) {
      const rgb = await dataset.images.image(k);
      const n = rgb.data.length / 3;
      const x = new Float32Array(3 * n);
      for (let p = 0; p < n; p++) x[p] = x[n + p] = x[2 * n + p] = (rgb.data[p] + rgb.data[n + p] + rgb.data[2 * n + p]) / 3;
      const out = await session.run({ image: float32([1, ...rgb.shape], x) });
      predicted.push((out.rates.data as Float32Array)[0]);
      observed.push(Number(dataset.responses.data[3 * dataset.images.count + k]));
    }
    await session.release();
    const [r] = pearsonPerNeuron(Float32Array.from(predicted), Float32Array.from(observed), predicted.length, 1);
    expect(gray.per_neuron[0]).toBeCloseTo(r, 5);
    // and it is not what the model gives on the color images
    expect(Math.abs(gray.per_neuron[0] - color.per_neuron[0])).toBeGreaterThan(1e-3);
  });
});
