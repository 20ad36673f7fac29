import { describe, expect, it } from 'vitest';
import { resizeBilinear } from '../data/images.ts';
import { evaluate } from '../onnx/evaluate.ts';
import { gradcheck } from '../gradcheck/gradcheck.ts';
import { Graph } from '../onnx/graph.ts';
import { inline } from '../models/scoring-model.ts';
import { type NdArray, float32 } from '../onnx/ndarray.ts';
import { Rng } from '../random.ts';
import { diversityMask, withDiversity } from './diversity.ts';
import { type Energy, meiEnergy, reconstructionEnergy } from './energy.ts';
import { energyGradientGraph } from './energy-graph.ts';
import { toEncoderInput } from './preprocess.ts';
import { tinyEncoder } from './testing/tiny-models.ts';

const encoder = tinyEncoder(1);
const noise = (shape: number[], seed: number) => float32(shape, new Rng(seed).normals(shape.reduce((a, b) => a * b, 1)));

/** Rates of the tiny encoder and an energy's outputs for the same standardized images (float64 reference). */
function energyOf(energy: Energy, x: NdArray) {
  const { graph, feeds } = energyGradientGraph(encoder, energy, { input: 'x', shape: [1, 12, 12] });
  const out = evaluate(graph, { ...feeds, x, energy_seed: float32([x.shape[0]], new Float32Array(x.shape[0]).fill(1)) });
  const rates = evaluate(encoder.graph, { image: x }).rates.data;
  return { energy: out.energy.data, activation: out.activation.data, grad: out.x_grad.data, rates };
}

describe('energies', () => {
  it('MEI: E = -r_u with a neuron per image, selected by one-hot neuron_weights', () => {
    const x = noise([3, 1, 12, 12], 1);
    const { energy, activation, rates } = energyOf(meiEnergy([2, 0, 2]), x);
    [2, 0, 2].forEach((u, i) => {
      expect(activation[i]).toBeCloseTo(rates[i * 3 + u], 10);
      expect(energy[i]).toBeCloseTo(-rates[i * 3 + u], 10);
    });
    expect(() => energyOf(meiEnergy([3]), noise([1, 1, 12, 12], 2))).toThrow(/neuron 3 is not a column of the encoder's 3 rates/);
  });

  it('reconstruction: E = mean_n (r_n - target_n)^2, the population mean rate as activation', () => {
    const x = noise([2, 1, 12, 12], 3);
    const targets = float32([2, 3], [1, 2, 3, 0.5, 0.5, 4]);
    const { energy, activation, rates } = energyOf(reconstructionEnergy(targets), x);
    for (let i = 0; i < 2; i++) {
      let mse = 0;
      for (let n = 0; n < 3; n++) mse += (rates[i * 3 + n] - targets.data[i * 3 + n]) ** 2 / 3;
      expect(energy[i]).toBeCloseTo(mse, 10);
      expect(activation[i]).toBeCloseTo((rates[i * 3] + rates[i * 3 + 1] + rates[i * 3 + 2]) / 3, 10);
    }
  });

  it('diversity: adds weight x the mean cosine similarity to the other members of the same set', () => {
    expect(Array.from(diversityMask([5, 5, 7, 5]))).toEqual([0, 0.5, 0, 0.5, 0.5, 0, 0, 0.5, 0, 0, 0, 0, 0.5, 0.5, 0, 0]);
    const x = noise([4, 1, 12, 12], 4);
    const sets = [5, 5, 7, 5];
    const base = energyOf(meiEnergy([0, 0, 1, 0]), x);
    const diverse = energyOf(withDiversity(meiEnergy([0, 0, 1, 0]), sets, 3), x);
    const d = x.data as Float32Array;
    const img = (i: number) => d.subarray(i * 144, (i + 1) * 144);
    const cos = (a: Float32Array, b: Float32Array) => {
      let ab = 0, aa = 0, bb = 0;
      for (let k = 0; k < a.length; k++) [ab, aa, bb] = [ab + a[k] * b[k], aa + a[k] * a[k], bb + b[k] * b[k]];
      return ab / Math.sqrt(aa * bb);
    };
    const expected = [0, 1, 2, 3].map((i) => {
      const others = [0, 1, 2, 3].filter((j) => j !== i && sets[j] === sets[i]);
      return base.energy[i] + (3 * others.reduce((s, j) => s + cos(img(i), img(j)), 0)) / Math.max(others.length, 1);
    });
    expected.forEach((e, i) => expect(diverse.energy[i]).toBeCloseTo(e, 8));
    expect(Array.from(diverse.activation)).toEqual(Array.from(base.activation));
  });

  it('diversity: its gradient matches finite differences', async () => {
    const r = await gradcheck({
      op: 'synthesis',
      name: 'MEI energy with the diversity term',
      bind: { batch: 3 },
      directions: 4,
      wrt: ['x'],
      build: (g) => {
        const x = g.input('x', 'float32', ['batch', 1, 12, 12]);
        const { energy } = withDiversity(meiEnergy([0, 0, 1]), [0, 0, 0], 2).build({ rates: inline(encoder.graph, x), image: x });
        g.output(energy, 'energy');
      },
    });
    expect(r.rel_err).toBeLessThan(1e-3);
    expect(r.ort_err).toBeLessThan(1e-4);
  });
});

describe('preprocessing inside the energy', () => {
  /** The same steps on the host: channel mean, bilinear resize (half-pixel), rescale to norm c. */
  function host(x: Float32Array, C: number, S: number, size: number, c: number): Float32Array {
    const gray = new Float32Array(S * S);
    for (let ch = 0; ch < C; ch++) for (let i = 0; i < S * S; i++) gray[i] += x[ch * S * S + i] / C;
    const resized = resizeBilinear(float32([1, S, S], gray), size, size).data as Float32Array;
    const norm = Math.sqrt(resized.reduce((s, v) => s + v * v, 0));
    return resized.map((v) => (v * c) / norm);
  }

  it('resizes, averages the channels and rescales each image to its norm c', () => {
    const g = new Graph('pre');
    const x = g.input('x', 'float32', ['batch', 3, 8, 8]);
    const norm = g.input('image_norm', 'float32', ['batch']);
    g.output(toEncoderInput(x, { channels: 1, height: 12, width: 12 }, { norm }), 'y');
    const xs = noise([2, 3, 8, 8], 5);
    const y = evaluate(g, { x: xs, image_norm: float32([2], [25, 40]) }).y.data;
    [25, 40].forEach((c, i) => {
      const expected = host((xs.data as Float32Array).subarray(i * 192, (i + 1) * 192), 3, 8, 12, c);
      for (let k = 0; k < 144; k++) expect(y[i * 144 + k]).toBeCloseTo(expected[k], 5);
    });
  });

  it('downsizes too, replicates gray for RGB encoders, and clips', () => {
    const g = new Graph('pre');
    const x = g.input('x', 'float32', ['batch', 1, 16, 16]);
    const norm = g.input('image_norm', 'float32', ['batch']);
    g.output(toEncoderInput(x, { channels: 3, height: 12, width: 12 }, { norm, clip: [-1.7, 1.9] }), 'y');
    expect(g.outputs[0].shape).toEqual(['batch', 3, 12, 12]);
    const y = evaluate(g, { x: noise([1, 1, 16, 16], 6), image_norm: float32([1], [60]) }).y.data;
    expect(Math.min(...y)).toBeGreaterThanOrEqual(Math.fround(-1.7)); // bounds are float32 constants
    expect(Math.max(...y)).toBeLessThanOrEqual(Math.fround(1.9));
    expect(Math.max(...y)).toBeCloseTo(1.9, 6); // norm 60 over 144 pixels: some pixels exceed the bounds
    for (let k = 0; k < 144; k++) expect(y[144 + k]).toBe(y[k]);
  });

  it('lets gradients flow through resize, channel mean, rescaling and clipping', async () => {
    const r = await gradcheck({
      op: 'synthesis',
      name: 'preprocessing: 3x8x8 to 1x12x12, norm, clip',
      bind: { batch: 2 },
      positive: ['image_norm'],
      wrt: ['x'],
      build: (g) => {
        const x = g.input('x', 'float32', ['batch', 3, 8, 8]);
        const norm = g.input('image_norm', 'float32', ['batch']);
        g.output(toEncoderInput(x, { channels: 1, height: 12, width: 12 }, { norm, clip: [-1.7, 1.9] }), 'y');
      },
    });
    expect(r.rel_err).toBeLessThan(1e-3);
    expect(r.ort_err).toBeLessThan(1e-4);
  });
});
