import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadPrior, writePrior } from '../diffusion/prior.ts';
import { ddpmSchedule } from '../diffusion/schedule.ts';
import { eggMei } from './egg.ts';
import { samplingSchedule, synthesisPrior } from './synthesis-prior.ts';
import { TINY_UNET, tinyEncoder, tinyPrior } from './testing/tiny-models.ts';

const root = mkdtempSync(join(tmpdir(), 'excite-synthesis-prior-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('priors for synthesis', () => {
  it('respaces the prior\'s DDPM process by default', () => {
    expect(samplingSchedule(tinyPrior(2), 100)).toEqual(ddpmSchedule(100));
  });

  it('takes a prior directory as written and loaded by diffusion/prior.ts', async () => {
    const cfg = { ...TINY_UNET, learnSigma: false };
    const random = tinyPrior(4, cfg);
    await writePrior(join(root, 'prior'), cfg, random.weights);
    const prior = synthesisPrior(await loadPrior(join(root, 'prior')));
    expect(prior).toMatchObject({ imageSize: 8, channels: 1, variance: 'fixed-large', trainSteps: 1000, betaStart: 1e-4, betaEnd: 0.02 });
    const fromDisk = await eggMei(tinyEncoder(1), prior, [{ neuron: 1, seed: 2 }], { steps: 3 });
    const inMemory = await eggMei(tinyEncoder(1), random, [{ neuron: 1, seed: 2 }], { steps: 3 });
    expect(Array.from(fromDisk.images.data)).toEqual(Array.from(inMemory.images.data));
  });
});
