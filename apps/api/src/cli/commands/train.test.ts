import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { loadModel, membersOf } from '@excite/engine';
import { writeSyntheticSession } from '@excite/engine/testing';
import { trainCommand } from './train.ts';

const root = mkdtempSync(join(tmpdir(), 'excite-train-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('excite train', () => {
  it('trains a model, then continues it with --init (no --arch needed) on a cosine schedule, recording where from', async () => {
    const data = (await writeSyntheticSession(join(root, 'lab'), { images: 80, neurons: 4, seed: 1 })).dir;
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      const first = join(root, 'first');
      await trainCommand().parseAsync(['--data', data, '--arch', 'gaussian', '--seed', '4', '--max-epochs', '1', '--quiet', '--out', first], { from: 'user' });
      expect(log).toHaveBeenLastCalledWith(first);
      const more = join(root, 'more');
      await trainCommand().parseAsync(['--data', data, '--init', first, '--max-epochs', '1', '--lr-schedule', 'cosine', '--quiet', '--out', more], { from: 'user' });
      const [member] = membersOf(await loadModel(more));
      expect(member.spec.readout.type).toBe('gaussian');
      expect(member.meta.training).toMatchObject({ seed: 4, epochs: 1, initialized_from: { model: first, epochs: 1 }, lr_schedule: 'cosine' });
      expect(membersOf(await loadModel(first))[0].meta.training).not.toHaveProperty('lr_schedule');
      await expect(trainCommand().exitOverride().configureOutput({ writeErr: () => undefined }).parseAsync(['--data', data, '--init', first, '--lr-schedule', 'linear', '--quiet', '--out', join(root, 'x')], { from: 'user' })).rejects.toThrow(/--lr-schedule.*Allowed choices are plateau, cosine/);
      await expect(trainCommand().parseAsync(['--data', data, '--quiet', '--out', join(root, 'x')], { from: 'user' })).rejects.toThrow(/--arch <arch>' not specified \(or --init/);
      await expect(trainCommand().parseAsync(['--data', data, '--init', first, '--input-size', '64', '--quiet', '--out', join(root, 'x')], { from: 'user' })).rejects.toThrow(/input size cannot be changed when continuing/);
    } finally {
      log.mockRestore();
    }
  });

  it("records the attention readout's position-code amplitude and key dimension, and refuses a negative amplitude or a zero dimension", async () => {
    const data = (await writeSyntheticSession(join(root, 'lab-p'), { images: 60, neurons: 3, seed: 2 })).dir;
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      const out = join(root, 'scaled');
      await trainCommand().parseAsync(['--data', data, '--arch', 'attention', '--max-epochs', '1', '--position-scale', '2.5', '--key-dim', '8', '--quiet', '--out', out], { from: 'user' });
      const [member] = membersOf(await loadModel(out));
      expect(member.spec.readout).toMatchObject({ type: 'attention', positionScale: 2.5, keyDim: 8 });
      // keys and values: 2D rows of the core's channels
      expect([...member.weights].find(([k]) => k.endsWith('.kv.weight'))?.[1].shape).toEqual([16, member.spec.core.channels]);
      await expect(trainCommand().parseAsync(['--data', data, '--arch', 'attention', '--key-dim', '0', '--quiet', '--out', join(root, 'x')], { from: 'user' })).rejects.toThrow(/--key-dim must be a positive integer, got "0"/);
      await expect(trainCommand().parseAsync(['--data', data, '--arch', 'attention', '--position-scale', '-1', '--quiet', '--out', join(root, 'x')], { from: 'user' })).rejects.toThrow(/--position-scale must be a number >= 0, got "-1"/);
    } finally {
      log.mockRestore();
    }
  });
});
