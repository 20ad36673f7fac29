import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { loadPrior } from '@excite/engine';
import { writeSyntheticSession } from '@excite/engine/testing';
import { samplePriorCommand, trainPriorCommand } from './prior.ts';

const root = mkdtempSync(join(tmpdir(), 'excite-prior-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('excite train-prior and sample-prior', () => {
  it('trains the demo prior on dataset folders, writes the prior without its checkpoint, and samples a PNG grid', async () => {
    const a = (await writeSyntheticSession(join(root, 'a'), { images: 4, neurons: 1, seed: 1, size: 48 })).dir;
    const b = (await writeSyntheticSession(join(root, 'b'), { images: 3, neurons: 1, seed: 2, size: 48 })).dir;
    const out = join(root, 'prior');
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      await trainPriorCommand().parseAsync(['--data', a, '--data', b, '--out', out, '--steps', '2', '--batch', '2', '--checkpoint-every', '1', '--seed', '3', '--eval-views', '4', '--quiet'], { from: 'user' });
      expect(log).toHaveBeenLastCalledWith(out);
      expect(existsSync(join(out, '.checkpoint'))).toBe(false);
      const prior = await loadPrior(out);
      expect(prior.meta.training).toMatchObject({ data: [a, b], images: 7, steps: 2, batch: 2, seed: 3, weights: 'EMA', optimizer: { lr: 2e-4 } });
      expect(prior.meta.metrics).toHaveProperty('eval_loss_ema');
      expect(prior.config.imageSize).toBe(40);

      // fine-tuning it: starts from its weights, records where from
      const tuned = join(root, 'tuned');
      await trainPriorCommand().parseAsync(['--init', out, '--data', a, '--out', tuned, '--steps', '1', '--batch', '2', '--eval-views', '4', '--quiet'], { from: 'user' });
      expect((await loadPrior(tuned)).meta.training).toMatchObject({ steps: 1, initialized_from: { prior: out, steps: 2 } });
      await expect(trainPriorCommand().parseAsync(['--init', join(root, 'nowhere'), '--data', a, '--out', tuned, '--steps', '1', '--quiet'], { from: 'user' })).rejects.toThrow(/model\.json.*does not exist/);

      const png = join(root, 'grid.png');
      await samplePriorCommand().parseAsync(['--prior', out, '--n', '4', '--steps', '3', '--seed', '1', '--out', png, '--quiet'], { from: 'user' });
      expect(log).toHaveBeenLastCalledWith(png);
      const bytes = readFileSync(png);
      expect(bytes.subarray(1, 4).toString()).toBe('PNG');
      expect([bytes.readUInt32BE(16), bytes.readUInt32BE(20)]).toEqual([2 * 40 + 3 * 2, 2 * 40 + 3 * 2]); // 2x2 grid, 2 px padding
    } finally {
      log.mockRestore();
    }
  });

  it('rejects bad numbers before any work', async () => {
    const cmd = trainPriorCommand().exitOverride().configureOutput({ writeErr: () => undefined });
    await expect(cmd.parseAsync(['--data', root, '--out', root, '--steps', '0'], { from: 'user' })).rejects.toThrow(/--steps must be a positive integer, got "0"/);
  });
});
