import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Graph } from '../onnx/graph.ts';
import { DEMO_ENCODER, type EncoderSpec, buildEncoder } from './encoder.ts';
import { encoderGraph } from './encoder-graph.ts';
import { loadModel, membersOf, writeEncoder, writeEnsemble } from './model-dir.ts';
import { evaluate } from '../onnx/evaluate.ts';
import { float32 } from '../onnx/ndarray.ts';

const root = mkdtempSync(join(tmpdir(), 'excite-models-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const spec: EncoderSpec = {
  ...DEMO_ENCODER,
  core: { ...DEMO_ENCODER.core, channels: 8, layers: 2 },
  readout: { type: 'attention', keyDim: 4, dropout: 0.1, l1: 1 },
  input: { height: 16, width: 16, fit: 'resize', mean: 100, std: 50 },
  sessions: [{ id: 's1', neurons: [0, 2, 5] }],
};

function initialWeights(seed: number) {
  const g = new Graph();
  buildEncoder(g, g.input('image', 'float32', ['batch', 1, 16, 16]), spec, { seed });
  return new Map([...g.weights].map(([k, v]) => [k, v.data!]));
}

describe('model directories', () => {
  it('round-trips an encoder and averages ensemble members after their nonlinearities', async () => {
    await writeEncoder(join(root, 'ens', 'member-0'), spec, initialWeights(1), { name: 'm0', metrics: { validation: { s1: { median_r: 0.5 } } } });
    await writeEncoder(join(root, 'ens', 'member-1'), spec, initialWeights(2), { name: 'm1' });
    await writeEnsemble(join(root, 'ens'), ['member-0', 'member-1']);
    const model = await loadModel(join(root, 'ens'));
    expect(membersOf(model).map((m) => m.meta.name)).toEqual(['m0', 'm1']);
    const image = float32([1, 1, 16, 16], Array.from({ length: 256 }, (_, i) => Math.cos(i)));
    const both = encoderGraph(model);
    expect(both.neurons).toEqual([{ session: 's1', neuron: 0 }, { session: 's1', neuron: 2 }, { session: 's1', neuron: 5 }]);
    const avg = evaluate(both.graph, { image }).rates.data;
    const single = membersOf(model).map((m) => evaluate(encoderGraph(m).graph, { image }).rates.data);
    avg.forEach((v, i) => expect(v).toBeCloseTo((single[0][i] + single[1][i]) / 2, 10));
  });

  it('explains what is wrong with a model folder', async () => {
    await expect(loadModel(join(root, 'missing'))).rejects.toThrow(/model.json: does not exist/);
    mkdirSync(join(root, 'bad'));
    writeFileSync(join(root, 'bad', 'model.json'), '{"kind": "prior", "format": 1}');
    await expect(loadModel(join(root, 'bad'))).rejects.toThrow(/kind "prior" is not an encoder or an ensemble/);
    writeFileSync(join(root, 'bad', 'model.json'), '{ not json');
    await expect(loadModel(join(root, 'bad'))).rejects.toThrow(/is not valid JSON/);
    await writeEncoder(join(root, 'short'), spec, new Map([...initialWeights(1)].filter(([k]) => !k.startsWith('readout'))));
    const model = await loadModel(join(root, 'short'));
    expect(() => encoderGraph(model)).toThrow(/weights have no tensor "readout.s1.kv.weight"/);
  });
});
