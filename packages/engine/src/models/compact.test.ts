import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { readImageArchive } from '../data/image-archive.ts';
import { stackImages } from '../data/images.ts';
import { appendBackward } from '../onnx/autodiff.ts';
import { evaluate } from '../onnx/evaluate.ts';
import { type NdArray, float32, float64, toNumbers } from '../onnx/ndarray.ts';
import { Rng } from '../random.ts';
import { createSession } from '../runtime/session.ts';
import { V4_DATA, v4Title } from '../testing/v4-data.ts';
import { COMPACT_IMAGE_SIZE, type CompactNeuron, compactEncoder, loadCompactModel } from './compact.ts';

// this suite's time limit: loads and runs published compact models: about 15 s a test
vi.setConfig({ testTimeout: 180_000 });

/** reference_predictions.json: each model's outputs on the first 8 images, in double precision. */
interface ReferencePredictions {
  images: string;
  predictions: Record<string, number[]>;
}

/** Random Keras tensors of the compact architecture with the given channels per layer. */
function randomNeuron(channels: number[], id = 0): CompactNeuron {
  const rng = new Rng(id);
  const tensors = new Map<string, NdArray>();
  const put = (name: string, shape: number[]) => tensors.set(name, float32(shape, rng.normals(shape.reduce((a, b) => a * b, 1), 0.1)));
  const bn = (L: number, c: number) => ['gamma', 'beta', 'mean', 'var'].forEach((t) => put(`bn${L}.${t}`, [c]));
  put('conv0.kernel', [5, 5, 3, channels[0]]);
  put('conv0.bias', [channels[0]]);
  bn(0, channels[0]);
  for (let L = 1; L <= 4; L++) {
    put(`sep${L}.depthwise`, [5, 5, channels[L - 1], 1]);
    put(`sep${L}.pointwise`, [1, 1, channels[L - 1], channels[L]]);
    put(`sep${L}.bias`, [channels[L]]);
    bn(L, channels[L]);
  }
  put('dense.kernel', [28 * 28 * channels[4], 1]);
  put('dense.bias', [1]);
  return { id, file: `neuron${id}.safetensors`, tensors, metadata: {} };
}

describe('compactEncoder', () => {
  it('builds one rate column per neuron, in the given order', () => {
    const model = compactEncoder([randomNeuron([4, 3, 2, 2, 1], 5), randomNeuron([2, 2, 2, 2, 2], 1)]);
    expect(model.neurons).toEqual([5, 1]);
    expect(model.graph.outputs.map((v) => [v.name, v.shape])).toEqual([['rates', ['batch', 2]]]);
    expect(model.graph.weights.get('neuron5.conv0.weight')?.shape).toEqual([4, 3, 5, 5]);
    expect(model.graph.weights.get('neuron5.sep1.depthwise')?.shape).toEqual([4, 1, 5, 5]);
    expect(model.graph.weights.get('neuron5.dense.weight')?.shape).toEqual([28 * 28, 1]);
  });

  it('names the file of a model that does not fit the architecture', () => {
    const missing = randomNeuron([2, 2, 2, 2, 2], 3);
    (missing.tensors as Map<string, NdArray>).delete('sep3.bias');
    expect(() => compactEncoder([missing])).toThrow('neuron3.safetensors: has no tensor "sep3.bias"');
    const wrong = randomNeuron([2, 2, 2, 2, 2], 4);
    (wrong.tensors as Map<string, NdArray>).set('dense.kernel', float32([100, 1]));
    expect(() => compactEncoder([wrong])).toThrow('neuron4.safetensors: tensor "dense.kernel" has shape [100,1], expected [1568,1]');
    expect(() => compactEncoder([{ ...randomNeuron([2, 2, 2, 2, 2]), metadata: { strides: '1,2,x' } }])).toThrow(/metadata strides="1,2,x"/);
  });
});

const measured: string[] = [];
afterAll(() => measured.length && console.log(measured.join('\n')));

describe.skipIf(!V4_DATA)(v4Title('compact models against the published predictions'), () => {
  it.each(['201025', '210225'])('session %s: every neuron within 1e-3 of reference_predictions.json', async (session) => {
    const folder = join(V4_DATA!, 'compact', session);
    const reference: ReferencePredictions = JSON.parse(await readFile(join(folder, 'reference_predictions.json'), 'utf8'));
    const model = await loadCompactModel(folder);
    expect(model.neurons).toEqual(Object.keys(reference.predictions).map((k) => Number(k.slice('neuron'.length))).sort((a, b) => a - b));
    expect(model.graph.outputs[0].shape).toEqual(['batch', model.neurons.length]);

    const archive = await readImageArchive(join(V4_DATA!, 'sessions', session, 'images.zip'));
    const images = stackImages(await archive.images(0, 8));
    const encoder = await createSession(model.graph);
    const { rates } = await encoder.run({ image: images });
    await encoder.release();

    // per neuron: max |ours - reference| over the 8 images, relative to the largest |reference|
    let worst = { err: 0, neuron: -1 };
    let worstElement = 0;
    model.neurons.forEach((k, column) => {
      const expected = reference.predictions[`neuron${k}`];
      const got = expected.map((_, i) => (rates.data as Float32Array)[i * model.neurons.length + column]);
      const scale = Math.max(...expected.map(Math.abs));
      const err = Math.max(...got.map((v, i) => Math.abs(v - expected[i]))) / scale;
      if (err > worst.err) worst = { err, neuron: k };
      worstElement = Math.max(worstElement, ...got.map((v, i) => Math.abs(v - expected[i]) / Math.abs(expected[i])));
      expect(err, `neuron${k}: [${got}] vs [${expected}]`).toBeLessThan(1e-3);
    });
    measured.push(`compact ${session}: ${model.neurons.length} neurons, max rel err ${worst.err.toExponential(2)} (neuron${worst.neuron}), max per-value rel err ${worstElement.toExponential(2)}`);
  }, 600_000);

  it('a single neuron file is an encoder of one rate', async () => {
    const model = await loadCompactModel(join(V4_DATA!, 'compact/211022/neuron3.safetensors'));
    expect(model.neurons).toEqual([3]);
    expect(model.graph.inputs.map((v) => [v.name, v.shape])).toEqual([['image', ['batch', 3, COMPACT_IMAGE_SIZE, COMPACT_IMAGE_SIZE]]]);
    expect(model.graph.outputs.map((v) => [v.name, v.shape])).toEqual([['rates', ['batch', 1]]]);
  });

  it('a folder loads only the neurons asked for, in order of K, with the same rates as the whole folder', async () => {
    const folder = join(V4_DATA!, 'compact/210225');
    const some = await loadCompactModel(folder, { neurons: [7, 2] });
    expect(some.neurons).toEqual([2, 7]);
    const reference: ReferencePredictions = JSON.parse(await readFile(join(folder, 'reference_predictions.json'), 'utf8'));
    const archive = await readImageArchive(join(V4_DATA!, 'sessions/210225/images.zip'));
    const session = await createSession(some.graph);
    const { rates } = await session.run({ image: stackImages(await archive.images(0, 2)) });
    await session.release();
    const expected = [2, 7].flatMap((k) => reference.predictions[`neuron${k}`].slice(0, 2));
    const got = [0, 1].flatMap((column) => [0, 1].map((i) => (rates.data as Float32Array)[i * 2 + column]));
    got.forEach((v, i) => expect(Math.abs(v - expected[i]) / Math.abs(expected[i])).toBeLessThan(1e-3));
    await expect(loadCompactModel(folder, { neurons: [2, 999] })).rejects.toThrow('has no neuron999.safetensors');
  });

  it('the image gradient matches the float64 reference and its directional finite differences', async () => {
    const model = await loadCompactModel(join(V4_DATA!, 'compact/201025/neuron3.safetensors'));
    const g = model.graph;
    const { grads } = appendBackward(g, { outputs: ['rates'], wrt: ['image'] });
    const archive = await readImageArchive(join(V4_DATA!, 'sessions/201025/images.zip'));
    const image = stackImages([await archive.image(0)]);
    const seed = float32([1, 1], [1]);
    const session = await createSession(g);
    const ours = toNumbers((await session.run({ image, rates_seed: seed }))[grads[0].name]);
    await session.release();

    // the backward graph in float64 against onnxruntime's float32 run of it
    const exact = evaluate(g, { image, rates_seed: seed }, [grads[0].name])[grads[0].name].data;
    const scale = Math.max(...exact.map(Math.abs));
    const ortErr = Math.max(...exact.map((v, i) => Math.abs(v - ours[i]))) / scale;
    measured.push(`gradient: onnxruntime vs float64 reference, max abs err / max abs = ${ortErr.toExponential(2)}`);
    expect(ortErr).toBeLessThan(1e-4);

    // the float64 gradient against central differences of the float64 forward along random
    // directions: the model is piecewise linear, so a step small enough to cross no ReLU kink is exact
    const x = toNumbers(image);
    const rate = (v: Float64Array, step: number) => evaluate(g, { image: float64(image.shape, x.map((xi, i) => xi + step * v[i])) }, ['rates']).rates.data[0];
    const rng = new Rng(7);
    const step = 1e-6;
    for (let d = 0; d < 2; d++) {
      const v = Float64Array.from(rng.normals(x.length));
      const fd = (rate(v, step) - rate(v, -step)) / (2 * step);
      const analytic = exact.reduce((s, gi, i) => s + gi * v[i], 0);
      const onnx = ours.reduce((s, gi, i) => s + gi * v[i], 0);
      measured.push(`gradient direction ${d}: reference ${analytic.toExponential(6)}, onnxruntime ${onnx.toExponential(6)}, finite difference ${fd.toExponential(6)}`);
      expect(Math.abs(analytic - fd) / Math.abs(fd)).toBeLessThan(1e-5);
      expect(Math.abs(onnx - fd) / Math.abs(fd)).toBeLessThan(1e-3);
    }
  }, 600_000);
});
