import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Graph } from '../onnx/graph.ts';
import { evaluate } from '../onnx/evaluate.ts';
import { float32 } from '../onnx/ndarray.ts';
import { sub } from '../onnx/ops/elementwise.ts';
import { allRates, buildEncoder } from '../models/encoder.ts';
import { writeEncoder } from '../models/model-dir.ts';
import { type ScoringModel, loadScoringModel } from '../models/scoring-model.ts';
import { Rng } from '../random.ts';
import { meiEnergy } from './energy.ts';
import { energyGradientGraph } from './energy-graph.ts';
import { gaMei } from './ga.ts';
import { synthesisEncoder } from './synthesis-encoder.ts';
import { TINY_ENCODER_SPEC } from './testing/tiny-models.ts';

const root = mkdtempSync(join(tmpdir(), 'excite-synthesis-encoder-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('encoders for synthesis', () => {
  it('takes a model folder loaded as a scoring model, in its own standardized space', async () => {
    const g = new Graph();
    buildEncoder(g, g.input('image', 'float32', ['batch', 1, 12, 12]), TINY_ENCODER_SPEC, { seed: 1 });
    await writeEncoder(join(root, 'enc'), TINY_ENCODER_SPEC, new Map([...g.weights].map(([k, v]) => [k, v.data!])));
    const encoder = synthesisEncoder(await loadScoringModel(join(root, 'enc')));
    expect(encoder.fromStandardized).toBeUndefined();
    const result = await gaMei(encoder, [{ neuron: 2, seed: 1 }], { steps: 3 });
    expect(result.images.shape).toEqual([1, 1, 12, 12]);
  });

  it('puts pixels = s * std + mean in front of a model that takes pixels (compact models)', () => {
    // a stand-in for a compact model: RGB pixels in, its own mean subtracted inside
    const spec = { ...TINY_ENCODER_SPEC, core: { ...TINY_ENCODER_SPEC.core, inputChannels: 3 } };
    const g = new Graph('compact');
    g.output(allRates(buildEncoder(g, g.input('image', 'float32', ['batch', 3, 12, 12]), spec, { seed: 2 }), spec), 'rates');
    const model: ScoringModel = { name: 'compact', kind: 'compact', input: { channels: 3, height: 12, width: 12 }, neurons: [], graph: g, fromPixels: (x) => sub(x, 100), toPixels: (x) => x };
    expect(() => synthesisEncoder(model)).toThrow(/takes pixels: give the standardization/);
    const encoder = synthesisEncoder(model, { mean: 100, std: 50 });
    const s = float32([1, 3, 12, 12], new Rng(3).normals(432));
    const { graph, feeds } = energyGradientGraph(encoder, meiEnergy([1]), { input: 'x', shape: [3, 12, 12] });
    const energy = evaluate(graph, { ...feeds, x: s, energy_seed: float32([1], [1]) }).energy.data[0];
    const direct = evaluate(g, { image: float32([1, 3, 12, 12], Array.from(s.data, (v) => v * 50 + 100 - 100)) }).rates.data[1];
    expect(energy).toBeCloseTo(-direct, 5);
  });
});
