import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_ENCODER, type EncoderSpec } from '../models/encoder.ts';
import { writeSyntheticSession } from '../testing/synthetic-session.ts';
import { loadSession, splitSession, statisticsOf } from './sessions.ts';
import { cosineLr } from './lr-schedule.ts';
import { type SessionData, trainEncoder } from './trainer.ts';

const root = mkdtempSync(join(tmpdir(), 'excite-trainer-'));
let spec: EncoderSpec;
let sessions: SessionData[];
const plateau = (maxEpochs: number) => ({ patience: 5, factor: 0.3, maxDecays: 5, minLr: 1e-4, maxEpochs, tolerance: 1e-6 });

beforeAll(async () => {
  await writeSyntheticSession(join(root, 'syn'), { images: 96, neurons: 4, seed: 7, size: 32 });
  const input = { height: 16, width: 16, fit: 'resize' as const };
  const loaded = await loadSession(join(root, 'syn'), undefined, input);
  const stats = statisticsOf([loaded]);
  spec = { core: { ...DEMO_ENCODER.core, channels: 8, layers: 2, inputKernel: 5, hiddenKernel: 3 }, readout: { type: 'attention', keyDim: 4, dropout: 0.1, l1: 1 }, input: { ...input, ...stats }, sessions: [{ id: 'syn', neurons: [0, 1, 2, 3] }] };
  sessions = [splitSession(loaded, stats, 0.25, 1)];
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('trainer', () => {
  it('resumes from its checkpoint exactly where a run stopped', async () => {
    const straight = await trainEncoder({ spec, sessions, seed: 4, trainable: 'all', batchSize: 16, plateau: plateau(4) });
    const checkpoint = join(root, 'ckpt');
    const first = await trainEncoder({ spec, sessions, seed: 4, trainable: 'all', batchSize: 16, plateau: plateau(2), checkpoint });
    expect(first.history).toHaveLength(2);
    const resumed = await trainEncoder({ spec, sessions, seed: 4, trainable: 'all', batchSize: 16, plateau: plateau(4), checkpoint });
    expect(resumed.history).toHaveLength(4);
    expect(resumed.history.slice(0, 2)).toEqual(first.history);
    // same batches, noise and updates as the uninterrupted run
    resumed.history.forEach((h, i) => expect(h.valLoss).toBeCloseTo(straight.history[i].valLoss, 3));
    const w = resumed.weights.get('core.0.conv.weight')!.data as Float32Array;
    const s = straight.weights.get('core.0.conv.weight')!.data as Float32Array;
    w.forEach((v, i) => expect(v).toBeCloseTo(s[i], 4));
  });

  it('lowers the training loss and updates batch-norm running statistics', async () => {
    const r = await trainEncoder({ spec, sessions, seed: 2, trainable: 'all', batchSize: 16, plateau: plateau(3) });
    expect(r.history[2].trainLoss).toBeLessThan(r.history[0].trainLoss);
    const runningVar = r.weights.get('core.0.bn.running_var')!.data as Float32Array;
    expect(Array.from(runningVar).some((v) => Math.abs(v - 1) > 1e-3)).toBe(true);
  });

  it('follows a cosine schedule batch by batch, without plateau decays, and resumes it exactly', async () => {
    // patience 1: the plateau schedule would decay after any epoch that does not improve
    const options = { spec, sessions, seed: 5, trainable: 'all' as const, batchSize: 16, lr: 2e-3, schedule: 'cosine' as const };
    const straight = await trainEncoder({ ...options, plateau: { ...plateau(4), patience: 1 } });
    expect(straight.history.map((h) => h.action)).toEqual(['continue', 'continue', 'continue', 'stop']);
    straight.history.forEach((h, e) => expect(h.lr).toBeCloseTo(cosineLr(2e-3, e + 1, 4), 12));
    // the rates reach the updates: the same run on the plateau schedule ends elsewhere
    const flat = await trainEncoder({ ...options, schedule: 'plateau', plateau: { ...plateau(4), patience: 100 } });
    const a = straight.weights.get('core.0.conv.weight')!.data as Float32Array;
    const b = flat.weights.get('core.0.conv.weight')!.data as Float32Array;
    expect(Math.max(...a.map((v, i) => Math.abs(v - b[i])))).toBeGreaterThan(1e-4);
    // interrupted within the run (the epoch limit is the schedule's budget, so it stops by abort)
    const checkpoint = join(root, 'ckpt-cosine');
    const abort = new AbortController();
    await expect(trainEncoder({ ...options, plateau: { ...plateau(4), patience: 1 }, checkpoint, onEpoch: (r) => r.epoch === 2 && abort.abort(), signal: abort.signal })).rejects.toThrow();
    const resumed = await trainEncoder({ ...options, plateau: { ...plateau(4), patience: 1 }, checkpoint });
    expect(resumed.history.map((h) => h.lr)).toEqual(straight.history.map((h) => h.lr));
    const w = resumed.weights.get('core.0.conv.weight')!.data as Float32Array;
    w.forEach((v, i) => expect(v).toBeCloseTo(a[i], 4));
  });

  it("shrinks the readout's feature weights under a larger L1 weight", async () => {
    const l1Norm = async (l1: number) => {
      const r = await trainEncoder({ spec: { ...spec, readout: { ...spec.readout, l1, queryL1: 0 } as EncoderSpec['readout'] }, sessions, seed: 3, trainable: 'all', batchSize: 16, plateau: plateau(3) });
      return (r.weights.get('readout.syn.weight')!.data as Float32Array).reduce((a, v) => a + Math.abs(v), 0);
    };
    // the same seed and batches: only the penalty differs, and under AdamW a dominant L1 term moves
    // each weight toward 0 by about the learning rate per step (3 epochs of 5 batches here)
    const [free, penalized] = [await l1Norm(0), await l1Norm(1000)];
    expect(penalized).toBeLessThan(free - 0.3);
  });

  it('stops with a clear error when the loss diverges', async () => {
    await expect(trainEncoder({ spec, sessions, seed: 2, trainable: 'all', batchSize: 16, lr: 1e6, plateau: plateau(3) })).rejects.toThrow(/loss is (NaN|Infinity|-Infinity)/);
  });
});
