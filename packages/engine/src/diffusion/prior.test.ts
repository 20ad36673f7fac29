import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeSafetensors } from '../data/safetensors.ts';
import { unetGraph, type UNetConfig } from '../models/unet.ts';
import { type NdArray, float32 } from '../onnx/ndarray.ts';
import { createSession } from '../runtime/session.ts';
import { DEMO_PRIOR, loadPrior, pixelsToPrior, priorGraph, priorSchedule, priorToPixels, writePrior } from './prior.ts';
import { samplePrior } from './sample-prior.ts';
import { ddpmSchedule } from './schedule.ts';

const root = mkdtempSync(join(tmpdir(), 'excite-prior-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The demo prior's architecture at 8x8 with 8 channels. */
const TINY: UNetConfig = { ...DEMO_PRIOR, imageSize: 8, modelChannels: 8, channelMult: [1, 2], attentionResolutions: [4], normGroups: 4 };

function randomWeights(config: UNetConfig, seed: number): Map<string, NdArray> {
  const { graph, parameters } = unetGraph(config, { seed });
  return new Map(parameters.trainable.map((n) => [n, graph.weights.get(n)!.data!]));
}

describe('prior directories', () => {
  it('round-trips config, image space, diffusion, provenance and weights; the graph runs', async () => {
    const dir = join(root, 'ok');
    const weights = randomWeights(TINY, 3);
    await writePrior(dir, TINY, weights, { name: 'tiny', training: { steps: 5 }, metrics: { final_train_loss: 0.5 } });
    const prior = await loadPrior(dir);
    expect(prior.meta).toMatchObject({
      kind: 'prior',
      format: 1,
      name: 'tiny',
      architecture: { type: 'adm-unet', unet: TINY },
      image: { size: 8, channels: 1, pixelRange: [0, 255], range: [-1, 1] },
      diffusion: { schedule: 'linear', betaStart: 1e-4, betaEnd: 0.02, trainSteps: 1000, prediction: 'eps', variance: 'fixed-large' },
      training: { steps: 5 },
      metrics: { final_train_loss: 0.5 },
    });
    expect(prior.config).toEqual(TINY);
    expect([...prior.weights.keys()].sort()).toEqual([...weights.keys()].sort());
    for (const [k, w] of weights) expect(prior.weights.get(k)!.data).toEqual(w.data);

    const session = await createSession(priorGraph(prior));
    try {
      const out = await session.run({ x: float32([2, 1, 8, 8], new Float32Array(128).fill(0.1)), t: float32([2], [5, 500]) });
      expect(out.eps.shape).toEqual([2, 1, 8, 8]);
      expect(session.outputNames).toEqual(['eps']);
    } finally {
      await session.release();
    }
    // the stored schedule respaces like the DDPM schedule
    expect(priorSchedule(prior, 10)).toEqual(ddpmSchedule(10));
  });

  it('samples with the stored variance, in pixels 0..255, reproducibly per seed', async () => {
    const dir = join(root, 'sample');
    await writePrior(dir, TINY, randomWeights(TINY, 4));
    const prior = await loadPrior(dir);
    let steps = 0;
    const a = await samplePrior(prior, { count: 3, steps: 4, seed: 9, onStep: () => void steps++ });
    const b = await samplePrior(prior, { count: 3, steps: 4, seed: 9, batchSize: 3 });
    expect(steps).toBe(4);
    expect(a.pixels.shape).toEqual([3, 1, 8, 8]);
    expect(a.pixels.data.every((p) => p >= 0 && p <= 255)).toBe(true);
    expect(a.samples.data).toEqual(b.samples.data);
  });

  it('says what is wrong: missing folder, wrong kind, unknown format', async () => {
    await expect(loadPrior(join(root, 'absent'))).rejects.toThrow(/absent\/model.json: does not exist \(a prior directory holds model.json and weights.safetensors\)/);
    const encoder = join(root, 'encoder');
    mkdirSync(encoder);
    writeFileSync(join(encoder, 'model.json'), JSON.stringify({ kind: 'encoder', format: 1 }));
    await expect(loadPrior(encoder)).rejects.toThrow(/model.json: kind "encoder" is not a prior \(this is an encoder model: pass it as --model\)/);
    const dir = join(root, 'format');
    await writePrior(dir, TINY, randomWeights(TINY, 1));
    const meta = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    writeFileSync(join(dir, 'model.json'), JSON.stringify({ ...meta, format: 7 }));
    await expect(loadPrior(dir)).rejects.toThrow(/format 7 is not supported/);
    writeFileSync(join(dir, 'model.json'), JSON.stringify({ ...meta, diffusion: { ...meta.diffusion, variance: 'learned-range' } }));
    await expect(loadPrior(dir)).rejects.toThrow(/learned-range variance needs a UNet with learnSigma/);
  });

  it('names the tensor when the weights do not match the config (missing, shape, extra, no file)', async () => {
    const dir = join(root, 'weights');
    const weights = randomWeights(TINY, 2);
    await writePrior(dir, TINY, weights);
    const file = join(dir, 'weights.safetensors');

    const missing = new Map(weights);
    missing.delete('out.2.weight');
    await writeSafetensors(file, missing);
    await expect(loadPrior(dir)).rejects.toThrow(/weights.safetensors: does not match the UNet config in model.json: tensor "out.2.weight" \[1,8,3,3\] is missing/);

    const misshapen = new Map(weights).set('time_embed.0.weight', float32([32, 4], new Float32Array(128)));
    await writeSafetensors(file, misshapen);
    await expect(loadPrior(dir)).rejects.toThrow(/tensor "time_embed.0.weight" has shape \[32,4\], the UNet config expects \[32,8\]/);

    const extra = new Map(weights).set('label_emb.weight', float32([2], [1, 2]));
    await writeSafetensors(file, extra);
    await expect(loadPrior(dir)).rejects.toThrow(/tensor "label_emb.weight" is not a weight of the UNet config/);

    rmSync(file);
    await expect(loadPrior(dir)).rejects.toThrow(/weights.safetensors: cannot read/);

    // a config the weights were not made for
    await expect(writePrior(join(root, 'other'), { ...TINY, modelChannels: 16 }, weights)).rejects.toThrow(/the weights do not match the UNet config: tensor "time_embed.0.weight" has shape \[32,8\], the UNet config expects \[64,16\]/);
  });

  it('maps pixels 0..255 onto [-1, 1] and back (clipped)', () => {
    expect([...pixelsToPrior([0, 127.5, 255])]).toEqual([-1, 0, 1]);
    expect([...priorToPixels([-1.5, -1, 0, 1, 2])]).toEqual([0, 0, 127.5, 255, 255]);
  });
});
