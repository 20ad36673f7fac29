/**
 * Training end to end on synthetic sessions no code has seen: a core trained on one session, new
 * readouts fitted on another with the core frozen, evaluated on held-out images of that session.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { attentionFocusOn } from '../evaluate/attention-focus.ts';
import { evaluateModel } from '../evaluate/evaluate-model.ts';
import { loadModel, membersOf } from '../models/model-dir.ts';
import { writeSyntheticSession } from '../testing/synthetic-session.ts';
import { DEMO_ALT_ENCODER, DEMO_ENCODER } from '../models/encoder.ts';
import { applyOverrides, fitReadouts, trainModel } from './workflows.ts';

// this suite's time limit: trains ensembles and readouts on real sessions: about 80 s a test on a loaded 2-core machine
vi.setConfig({ testTimeout: 400_000 });

const root = mkdtempSync(join(tmpdir(), 'excite-train-'));
const fast = { maxEpochs: 5, patience: 2 };

describe('recipe overrides', () => {
  it("set the readout's L1 weight and dropout, the queries' L1 following the readout's unless given", () => {
    const attention = applyOverrides(DEMO_ENCODER, { readoutL1: 0.3, readoutDropout: 0 }).readout;
    expect(attention).toMatchObject({ type: 'attention', l1: 0.3, dropout: 0 });
    expect(attention).not.toHaveProperty('queryL1');
    expect(applyOverrides(DEMO_ENCODER, { readoutL1: 3, queryL1: 0 }).readout).toMatchObject({ l1: 3, queryL1: 0, dropout: 0.1 });
    expect(applyOverrides(DEMO_ENCODER, { positionScale: 3 }).readout).toMatchObject({ positionScale: 3, l1: 1 });
    expect(applyOverrides(DEMO_ENCODER, {}).readout).not.toHaveProperty('positionScale');
    expect(applyOverrides(DEMO_ENCODER, { keyDim: 64 }).readout).toMatchObject({ keyDim: 64, l1: 1 });
    expect(applyOverrides(DEMO_ENCODER, {}).readout).toEqual(DEMO_ENCODER.readout);
    const gaussian = applyOverrides({ ...DEMO_ALT_ENCODER, readout: { type: 'gaussian', l1: 3, initSigma: 0.2 } }, { readoutL1: 1, readoutDropout: 0.5 }).readout;
    expect(gaussian).toEqual({ type: 'gaussian', l1: 1, initSigma: 0.2 });
  });
});

describe('train, fit-readout and eval on unseen synthetic sessions', () => {
  beforeAll(async () => {
    await writeSyntheticSession(join(root, 'lab-a'), { images: 300, neurons: 12, seed: 1 });
    await writeSyntheticSession(join(root, 'lab-b'), { images: 300, neurons: 8, seed: 2 });
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('trains an ensemble, fits readouts of a new session on its frozen core, and predicts held-out images', async () => {
    const epochs: number[] = [];
    const core = await trainModel({ data: [join(root, 'lab-a')], arch: 'attention', preset: 'demo', seed: 3, members: 2, out: join(root, 'core'), plateau: fast, onEpoch: (r) => epochs.push(r.epoch) });
    const ensemble = await loadModel(core);
    expect(membersOf(ensemble)).toHaveLength(2);
    expect(epochs.length).toBeGreaterThanOrEqual(2);
    const meta = JSON.parse(readFileSync(join(core, 'member-0', 'model.json'), 'utf8'));
    expect(meta.training.seed).toBe(3);
    expect(meta.sessions[0].id).toBe('lab-a');
    expect(meta.input.std).toBeGreaterThan(0);

    const fitted = await fitReadouts({ core, data: [join(root, 'lab-b')], images: '0:200', out: join(root, 'fitted'), plateau: fast });
    const model = await loadModel(fitted);
    expect(membersOf(model).map((m) => (m.meta.training as { core_member: string }).core_member)).toEqual([join(core, 'member-0'), join(core, 'member-1')]);
    for (const m of membersOf(model)) {
      expect(m.spec.sessions.map((s) => s.id)).toEqual(['lab-b']);
      expect([...m.weights.keys()].some((k) => k.startsWith('readout.lab-a.'))).toBe(false);
      // the core is the trained one, untouched
      const coreMember = membersOf(ensemble).find((c) => resolve(c.dir) === resolve((m.meta.training as { core_member: string }).core_member))!;
      expect(Array.from(m.weights.get('core.0.conv.weight')!.data as Float32Array)).toEqual(Array.from(coreMember.weights.get('core.0.conv.weight')!.data as Float32Array));
    }
    // the attention entropy penalty: the same fit attends to fewer positions, and model.json records
    // it (from random queries: a uniform attention map is where the entropy's gradient vanishes)
    const fit = (out: string, entropy?: number) =>
      fitReadouts({ core, data: [join(root, 'lab-b')], images: '0:200', out: join(root, out), plateau: fast, overrides: { readoutInit: 'normal', ...(entropy ? { attentionEntropy: entropy } : {}) } });
    const [broad, peaked] = [await fit('fitted-broad'), await fit('fitted-peaked', 10)];
    const readoutOf = async (dir: string) => membersOf(await loadModel(dir))[0].spec.readout as { entropy?: number };
    expect((await readoutOf(peaked)).entropy).toBe(10);
    expect((await readoutOf(broad)).entropy).toBeUndefined();
    const focus = async (dir: string) => (await attentionFocusOn({ model: dir, data: join(root, 'lab-b'), images: '200:300' })).medianEffectivePositions;
    const [plain, narrow] = [await focus(broad), await focus(peaked)];
    console.info(`synthetic session lab-b: median effective positions ${plain.toFixed(0)} without the entropy penalty, ${narrow.toFixed(0)} with it`);
    expect(narrow).toBeLessThan(0.85 * plain);

    const e = await evaluateModel({ model: fitted, data: join(root, 'lab-b'), images: '200:300' });
    expect(e.per_neuron).toHaveLength(8);
    expect(e.images).toBe(100);
    // linear-nonlinear neurons with Gabor fields: a frozen core learned on other neurons still predicts them
    console.info(`synthetic session lab-b: held-out median r ${e.median_r.toFixed(3)}`);
    expect(e.median_r).toBeGreaterThan(0.3);
  });

  it('continues a trained ensemble (--init): each member from its own weights, seed and input space', async () => {
    const base = { data: [join(root, 'lab-a')], images: '0:200', arch: 'attention' as const, preset: 'demo' as const, seed: 5, members: 2, plateau: { maxEpochs: 2, patience: 1 } };
    const init = await trainModel({ ...base, out: join(root, 'init') });
    const started = membersOf(await loadModel(init));
    // a learning rate too small to move anything: the continued members are the initial ones
    const reports: { epoch: number; valLoss: number }[] = [];
    const still = await trainModel({ data: [join(root, 'lab-a')], images: '0:200', init, lr: 1e-12, out: join(root, 'still'), plateau: { maxEpochs: 1, patience: 1 }, onEpoch: (r) => reports.push(r) });
    const continued = membersOf(await loadModel(still));
    expect(continued).toHaveLength(2);
    continued.forEach((m, i) => {
      const from = started[i];
      // its own seed: the validation images are the ones it never trained on
      expect(m.meta.training).toMatchObject({ seed: 5 + i, initialized_from: { model: init, member: from.meta.name, epochs: from.meta.training!.epochs } });
      expect(m.spec.input).toEqual(from.spec.input);
      for (const key of ['core.0.conv.weight', 'readout.lab-a.bias', 'readout.lab-a.query']) {
        const a = from.weights.get(key)!.data as Float32Array;
        const b = m.weights.get(key)!.data as Float32Array;
        expect(b.length).toBe(a.length);
        expect(Math.max(...Array.from(b, (v, k) => Math.abs(v - a[k])))).toBeLessThan(1e-6);
      }
    });
    // a fresh member at that learning rate stays at its initialization: far from the trained loss
    const fresh: number[] = [];
    await trainModel({ ...base, members: 1, lr: 1e-12, out: join(root, 'fresh'), plateau: { maxEpochs: 1, patience: 1 }, onEpoch: (r) => fresh.push(r.valLoss) });
    expect(fresh[0]).toBeGreaterThan(reports[0].valLoss * 1.05);

    // what would change the weights' shapes is refused, and so are more members than it has
    await expect(trainModel({ data: [join(root, 'lab-a')], init, overrides: { channels: 8 }, out: join(root, 'x') })).rejects.toThrow(/channels cannot be changed when continuing/);
    await expect(trainModel({ data: [join(root, 'lab-a')], init, preset: 'paper', out: join(root, 'x') })).rejects.toThrow(/preset cannot be changed/);
    await expect(trainModel({ data: [join(root, 'lab-a')], init, members: 3, out: join(root, 'x') })).rejects.toThrow(/has 2 members: it cannot start 3/);
    await expect(trainModel({ data: [join(root, 'lab-a')], init, arch: 'gaussian', out: join(root, 'x') })).rejects.toThrow(/has an attention readout, not gaussian/);
  });

  it('a rerun of an interrupted ensemble keeps the members it finished and trains the rest', async () => {
    const out = join(root, 'resumed');
    const o = { data: [join(root, 'lab-a')], arch: 'attention' as const, preset: 'demo' as const, seed: 7, members: 2, out, plateau: { maxEpochs: 1, patience: 1 }, command: 'excite train (test)' };
    await trainModel(o);
    const first = readFileSync(join(out, 'member-0', 'weights.safetensors'));
    rmSync(join(out, 'member-1'), { recursive: true }); // as if the run died while training member 1
    const members: [number, boolean][] = [];
    await trainModel({ ...o, onMember: (i, _n, _seed, kept) => members.push([i, kept === true]) });
    expect(members).toEqual([[0, true], [1, false]]);
    expect(readFileSync(join(out, 'member-0', 'weights.safetensors')).equals(first)).toBe(true);
    expect(membersOf(await loadModel(out))).toHaveLength(2);
    // another command (here another seed) retrains everything
    const retrained: [number, boolean][] = [];
    await trainModel({ ...o, command: 'excite train (other)', onMember: (i, _n, _seed, kept) => retrained.push([i, kept === true]) });
    expect(retrained).toEqual([[0, false], [1, false]]);
  });

  it('a finished single model run again with the same command is kept, not trained over', async () => {
    const out = join(root, 'single-rerun');
    const o = { data: [join(root, 'lab-a')], arch: 'attention' as const, preset: 'demo' as const, seed: 3, out, plateau: { maxEpochs: 1, patience: 1 }, command: 'excite train (single)' };
    await trainModel(o);
    const first = readFileSync(join(out, 'weights.safetensors'));
    const kept: [number, boolean][] = [];
    const epochs: number[] = [];
    await trainModel({ ...o, onMember: (i, _n, _seed, k) => kept.push([i, k === true]), onEpoch: (r) => epochs.push(r.epoch) });
    expect(kept).toEqual([[0, true]]);
    expect(epochs).toEqual([]);
    expect(readFileSync(join(out, 'weights.safetensors')).equals(first)).toBe(true);
    // another command trains it again
    const again: [number, boolean][] = [];
    await trainModel({ ...o, command: 'excite train (single, other)', onMember: (i, _n, _seed, k) => again.push([i, k === true]) });
    expect(again).toEqual([[0, false]]);
  });
});
