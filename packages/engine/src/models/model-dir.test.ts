import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Graph } from '../onnx/graph.ts';
import { DEMO_ENCODER, type EncoderSpec, buildEncoder } from './encoder.ts';
import { encoderGraph } from './encoder-graph.ts';
import { loadModel, membersOf, writeEncoder, writeEnsemble } from './model-dir.ts';
import { evaluate } from '../onnx/evaluate.ts';
import { dataErrorCode } from '../data/errors.ts';
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

  it('names the field of a model.json whose architecture, input or sessions cannot make a graph', async () => {
    await writeEncoder(join(root, 'edited'), spec, initialWeights(1));
    const original = readFileSync(join(root, 'edited', 'model.json'), 'utf8');
    type Meta = { architecture: { core: Record<string, unknown>; readout: Record<string, unknown> }; input: Record<string, unknown>; sessions: unknown[] };
    const cases: [string, (m: Meta) => void, RegExp][] = [
      ['no architecture', (m) => delete (m as Partial<Meta>).architecture, /architecture: .*expected object/i],
      ['a zero key dimension', (m) => (m.architecture.readout.keyDim = 0), /architecture\.readout\.keyDim: .*>=1/],
      ['channels as a string', (m) => (m.architecture.core.channels = '8'), /architecture\.core\.channels: .*expected number/i],
      ['channels the position code cannot split', (m) => (m.architecture.core.channels = 6), /architecture\.core\.channels: must be divisible by 4/],
      ['an unknown readout', (m) => (m.architecture.readout.type = 'linear'), /architecture\.readout\.type/],
      ['a negative position-code amplitude', (m) => (m.architecture.readout.positionScale = -1), /architecture\.readout\.positionScale: .*>=0/],
      ['a position-code amplitude as a string', (m) => (m.architecture.readout.positionScale = '3'), /architecture\.readout\.positionScale: .*expected number/i],
      ['dropout of 1', (m) => (m.architecture.readout.dropout = 1), /architecture\.readout\.dropout: .*<1/],
      ['a negative height', (m) => (m.input.height = -16), /input\.height: .*>=1/],
      ['an input smaller than the input kernel', (m) => Object.assign(m.input, { height: 5, width: 5 }), /input: 5x5 is smaller than the core's 9x9 input kernel/],
      ['a zero standard deviation', (m) => (m.input.std = 0), /input\.std: .*>0/],
      ['neurons that are not a list', (m) => (m.sessions = [{ id: 's1', neurons: 'all' }]), /sessions\.0\.neurons: .*expected array/i],
      ['a negative neuron', (m) => (m.sessions = [{ id: 's1', neurons: [0, -2] }]), /sessions\.0\.neurons\.1: .*>=0/],
      ['a session twice', (m) => (m.sessions = [{ id: 's1', neurons: [0] }, { id: 's1', neurons: [1] }]), /sessions: session "s1" is listed twice/],
    ];
    for (const [what, edit, message] of cases) {
      const meta = JSON.parse(original) as Meta;
      edit(meta);
      writeFileSync(join(root, 'edited', 'model.json'), JSON.stringify(meta));
      const e = await loadModel(join(root, 'edited')).then(() => undefined, (err: Error) => err);
      expect(e?.message, what).toMatch(/edited\/model\.json: is not a valid encoder model: /);
      expect(e?.message, what).toMatch(message);
    }
    writeFileSync(join(root, 'edited', 'model.json'), original);
    await expect(loadModel(join(root, 'edited'))).resolves.toBeDefined();
  });

  it('refuses ensemble members outside the ensemble folder, however they get there', async () => {
    // a real encoder beside the ensemble: before the check, "../outside" was loaded from there
    await writeEncoder(join(root, 'outside'), spec, initialWeights(1), { name: 'outside' });
    const attempt = async (members: unknown[]) => {
      mkdirSync(join(root, 'escape'), { recursive: true });
      writeFileSync(join(root, 'escape', 'model.json'), JSON.stringify({ kind: 'ensemble', format: 1, name: 'x', members }));
      return loadModel(join(root, 'escape')).then(() => undefined, (e: Error) => e);
    };
    for (const members of [['../outside'], [join(root, 'outside')], ['a/../../outside'], ['.'], ['']]) {
      const e = await attempt(members);
      expect(dataErrorCode(e), JSON.stringify(members)).toBe('PATH_OUTSIDE_FOLDER');
      expect(e!.message).toMatch(/escape\/model\.json: member .* (leads outside the folder|is not a relative path|is the ensemble's own folder|is not a path)/);
    }
    // a symbolic link inside the folder that points out of it
    symlinkSync(join(root, 'outside'), join(root, 'escape', 'link'));
    const linked = await attempt(['link']);
    expect([dataErrorCode(linked), linked?.message]).toEqual(['PATH_OUTSIDE_FOLDER', `${join(root, 'escape', 'model.json')}: member "link" leads outside the folder (through a symbolic link)`]);
    expect((await attempt([7]))?.message).toMatch(/member 7 is not a path/);
    expect((await attempt('member-0' as unknown as unknown[]))?.message).toMatch(/members is not a list of member folders/);
  });

  it('refuses a model.json nested too deep or too large before using it', async () => {
    mkdirSync(join(root, 'deep'), { recursive: true });
    writeFileSync(join(root, 'deep', 'model.json'), `{"kind": "encoder", "format": 1, "training": ${'['.repeat(3000)}${']'.repeat(3000)}}`);
    const deep = await loadModel(join(root, 'deep')).then(() => undefined, (e: Error) => e);
    expect([dataErrorCode(deep), deep?.message]).toEqual(['JSON_TOO_DEEP', `${join(root, 'deep', 'model.json')}: nests arrays and objects 3001 deep, more than the 64 allowed`]);
    writeFileSync(join(root, 'deep', 'model.json'), `{"kind": "encoder", "pad": "${'x'.repeat(9 * 2 ** 20)}"}`);
    expect(dataErrorCode(await loadModel(join(root, 'deep')).catch((e) => e))).toBe('JSON_TOO_LARGE');
  });
});
