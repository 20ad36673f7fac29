import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type ScoringModel, loadScoringModel } from '../models/scoring-model.ts';
import { float32, int64 } from '../onnx/ndarray.ts';
import { Rng } from '../random.ts';
import { createSession } from '../runtime/session.ts';
import { eggMei } from './egg.ts';
import { meiEnergy } from './energy.ts';
import { energyGradientGraph, neuronSelection } from './energy-graph.ts';
import { gradientAscent } from './ga.ts';
import { type SynthesisEncoder, synthesisEncoder } from './synthesis-encoder.ts';
import { TINY_UNET, tinyPrior } from './testing/tiny-models.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
const load = (name: string) => loadScoringModel(path.join(ROOT, 'models/demo', name));

function maxRel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let scale = 0;
  let m = 0;
  for (let i = 0; i < a.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m / scale;
}

async function columnsOfFull(model: ScoringModel, images: Float32Array, columns: readonly number[]): Promise<number[]> {
  const session = await createSession(model.graph, {}, { threads: 1 });
  const n = columns.length;
  const { rates } = await session.run({ image: float32([n, 1, model.input.height, model.input.width], images) });
  await session.release();
  const N = model.neurons.length;
  return columns.map((c, i) => (rates.data as Float32Array)[i * N + c]);
}

describe('an encoder computing only the neurons an energy reads', () => {
  // the shipped demo models: an attention ensemble of two members over two sessions, and a Gaussian one
  for (const name of ['attention-train', 'gaussian-cross']) {
    it(`${name}: the selection graph gives the full graph's columns, one neuron per image, in either session`, async () => {
      const model = await load(name);
      const sessions = [...new Set(model.neurons.map((n) => n.session))];
      expect(sessions.length).toBeGreaterThan(1);
      const last = model.neurons.length - 1;
      const firstOf = (s: string) => model.neurons.findIndex((n) => n.session === s);
      for (const columns of [[0, 5, firstOf(sessions[1]) - 1], [firstOf(sessions[1]), last, last]]) {
        const selection = model.select!(columns)!;
        expect(selection.rows[0]).toBe(columns[0] - firstOf(model.neurons[columns[0]].session));
        const images = new Rng(3).normals(columns.length * model.input.height * model.input.width);
        const full = await columnsOfFull(model, images, columns);
        const session = await createSession(selection.graph, {}, { threads: 1 });
        const { rates } = await session.run({ image: float32([columns.length, 1, model.input.height, model.input.width], images), neuron: int64([columns.length], selection.rows) });
        await session.release();
        expect(rates.shape).toEqual([columns.length, 1]);
        expect(maxRel(rates.data as Float32Array, full)).toBeLessThan(1e-5);
      }
      // neurons of two sessions: no single graph, the full one serves
      expect(model.select!([0, last])).toBeUndefined();
      expect(model.select!([last + 1])).toBeUndefined();
    });
  }

  it('gives the same energy and gradient as the full encoder, and the same MEIs (EGG and GA)', async () => {
    const model = await load('attention-train');
    const selective = synthesisEncoder(model);
    const full: SynthesisEncoder = { ...selective, select: undefined };
    const neurons = [3, 40, 7];
    const energy = meiEnergy(neurons);
    expect(neuronSelection(selective, energy)).toBeDefined();
    expect(neuronSelection(full, energy)).toBeUndefined();
    const [H, W] = [model.input.height, model.input.width];
    const x = float32([3, 1, H, W], new Rng(9).normals(3 * H * W));
    const out = [];
    for (const encoder of [selective, full]) {
      const { graph, feeds } = energyGradientGraph(encoder, energy, { input: 'x', shape: [1, H, W] });
      const session = await createSession(graph, {}, { threads: 1 });
      out.push(await session.run({ ...feeds, x, energy_seed: float32([3], [1, 1, 1]) }));
      await session.release();
    }
    expect(out[0].energy.shape).toEqual([3]);
    expect(maxRel(out[0].energy.data as Float32Array, out[1].energy.data as Float32Array)).toBeLessThan(1e-5);
    expect(maxRel(out[0].x_grad.data as Float32Array, out[1].x_grad.data as Float32Array)).toBeLessThan(1e-4);

    // whole runs: a small prior at the encoder's size, and GA
    const prior = tinyPrior(2, { ...TINY_UNET, imageSize: H });
    const items = neurons.map((neuron, i) => ({ neuron, seed: 10 + i }));
    const [a, b] = await Promise.all([selective, full].map((e) => eggMei(e, { ...prior, imageSize: H }, items, { steps: 4, session: { threads: 1 }, shards: 1 })));
    expect(maxRel(a.images.data, b.images.data)).toBeLessThan(1e-4);
    expect(maxRel(a.activation, b.activation)).toBeLessThan(1e-4);
    const [ga, gb] = await Promise.all([selective, full].map((e) => gradientAscent(e, meiEnergy(neurons), { seeds: [1, 2, 3], steps: 5, session: { threads: 1 } })));
    expect(maxRel(ga.activation, gb.activation)).toBeLessThan(1e-4);
  });
});
