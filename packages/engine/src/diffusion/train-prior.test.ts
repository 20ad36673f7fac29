import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Image } from '../data/images.ts';
import type { UNetConfig } from '../models/unet.ts';
import { float32 } from '../onnx/ndarray.ts';
import { Rng } from '../random.ts';
import { DEMO_PRIOR } from './prior.ts';
import { alphasCumprod, linearBetas } from './schedule.ts';
import { type TrainPriorOptions, augmentImage, buildPriorLoss, noiseBatch, sampleImageBatch, trainPrior } from './train-prior.ts';

const root = mkdtempSync(join(tmpdir(), 'excite-train-prior-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The demo prior's architecture at 8x8 with 8 channels (about 20k parameters). */
const TINY: UNetConfig = { ...DEMO_PRIOR, imageSize: 8, modelChannels: 8, channelMult: [1, 2], attentionResolutions: [4], normGroups: 4 };

/** Synthetic 16x16 grayscale "natural images": oriented gratings and a blob, in 0..255. */
function syntheticImages(): Image[] {
  const images: Image[] = [];
  for (const [fx, fy] of [[1, 0], [0, 1], [1, 1], [2, 0], [0, 2], [1, -1]]) {
    images.push(float32([1, 16, 16], Array.from({ length: 256 }, (_, i) => 127.5 + 120 * Math.sin((2 * Math.PI * (fx * (i % 16) + fy * Math.floor(i / 16))) / 16))));
  }
  images.push(float32([1, 16, 16], Array.from({ length: 256 }, (_, i) => 255 * Math.exp(-(((i % 16) - 8) ** 2 + (Math.floor(i / 16) - 8) ** 2) / 20))));
  return images;
}

describe('the prior data pipeline', () => {
  it('maps to [-1, 1] at the prior size', () => {
    const rng = new Rng(1);
    const ramp = float32([1, 30, 30], Array.from({ length: 900 }, (_, i) => (i % 30) * (255 / 29)));
    for (let k = 0; k < 20; k++) {
      const v = augmentImage(ramp, 8, rng);
      expect(v).toHaveLength(64);
      expect(Math.min(...v)).toBeGreaterThanOrEqual(-1);
      expect(Math.max(...v)).toBeLessThanOrEqual(1);
    }
    // the full, unflipped image of constant 255 is 1, of 0 is -1
    expect([...augmentImage(float32([1, 4, 4], new Float32Array(16).fill(255)), 2, rng, { minCrop: 1, flip: false })]).toEqual([1, 1, 1, 1]);
    expect([...augmentImage(float32([1, 4, 4], new Float32Array(16)), 2, rng, { minCrop: 1, flip: false })]).toEqual([-1, -1, -1, -1]);
  });

  it('crops squares of 0.6 to 1 of the shorter side anywhere inside the image', () => {
    // ramps of 10 per column and 10 per row: a bilinear resize of a crop stays linear, its slope
    // gives the crop's side and its first value the crop's corner
    const [H, W, size] = [12, 20, 4];
    const across = float32([1, H, W], Array.from({ length: H * W }, (_, i) => 10 * (i % W)));
    const down = float32([1, H, W], Array.from({ length: H * W }, (_, i) => 10 * Math.floor(i / W)));
    const geometry = (v: Float32Array, stride: number) => {
      const p = [...v].map((x) => (x + 1) * 127.5);
      const side = ((p[3 * stride] - p[0]) / 3) * (size / 10);
      return { side, start: p[0] / 10 - ((0.5 * side) / size - 0.5) };
    };
    const sides = new Set<number>();
    for (let k = 0; k < 200; k++) {
      const x = geometry(augmentImage(across, size, new Rng(k), { flip: false }), 1);
      const y = geometry(augmentImage(down, size, new Rng(k), { flip: false }), size);
      expect(x.side).toBeCloseTo(y.side, 3); // square
      const side = Math.round(x.side);
      expect(x.side).toBeCloseTo(side, 3);
      expect(side).toBeGreaterThanOrEqual(Math.round(0.6 * H));
      expect(side).toBeLessThanOrEqual(H);
      expect(x.start).toBeGreaterThan(-1e-3);
      expect(x.start + side).toBeLessThan(W + 1e-3);
      expect(y.start).toBeGreaterThan(-1e-3);
      expect(y.start + side).toBeLessThan(H + 1e-3);
      sides.add(side);
    }
    expect(sides).toEqual(new Set([7, 8, 9, 10, 11, 12]));
  });

  it('flips left-right about half of the time and never up-down', () => {
    const rng = new Rng(3);
    const square = float32([1, 4, 4], Array.from({ length: 16 }, (_, i) => (i % 4) * 50 + Math.floor(i / 4)));
    let flipped = 0;
    for (let k = 0; k < 400; k++) {
      const v = augmentImage(square, 4, rng, { minCrop: 1 });
      const row0 = [...v.slice(0, 4)].map((x) => Math.round((x + 1) * 127.5));
      if (row0[0] > row0[3]) {
        flipped++;
        expect(row0).toEqual([150, 100, 50, 0]);
      } else expect(row0).toEqual([0, 50, 100, 150]);
    }
    expect(flipped).toBeGreaterThan(160);
    expect(flipped).toBeLessThan(240);
  });

  it('draws seeded batches and noises them as x_t = sqrt(abar) x0 + sqrt(1 - abar) eps', () => {
    const images = syntheticImages();
    const a = sampleImageBatch(images, 5, 8, new Rng(4));
    expect(a.shape).toEqual([5, 1, 8, 8]);
    expect(sampleImageBatch(images, 5, 8, new Rng(4)).data).toEqual(a.data);
    const abar = alphasCumprod(linearBetas(1000));
    const { xt, t, eps } = noiseBatch(a, abar, new Rng(5));
    for (let i = 0; i < 5; i++) {
      expect(Number.isInteger(t.data[i]) && t.data[i] >= 0 && t.data[i] < 1000).toBe(true);
      const s = t.data[i];
      for (let j = i * 64; j < (i + 1) * 64; j += 13) expect(xt.data[j]).toBeCloseTo(Math.sqrt(abar[s]) * a.data[j] + Math.sqrt(1 - abar[s]) * eps.data[j], 5);
    }
  });
});

describe('training a prior', () => {
  const images = syntheticImages();
  const base: TrainPriorOptions = { config: TINY, images, steps: 30, batchSize: 16, lr: 2e-3, seed: 7, threads: 1 };

  it('lowers the simple loss within 30 steps, from 1 (zero-initialized output) down', async () => {
    const events: number[] = [];
    const result = await trainPrior({ ...base, onStep: (e) => void events.push(e.step) });
    expect(events).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    const first = result.losses.slice(0, 5).reduce((a, b) => a + b) / 5;
    const last = result.losses.slice(-5).reduce((a, b) => a + b) / 5;
    expect(first).toBeGreaterThan(0.85);
    expect(last).toBeLessThan(0.6 * first);
    // the EMA trails the weights
    const name = 'out.2.weight';
    expect(result.ema.get(name)!.data).not.toEqual(result.weights.get(name)!.data);
  });

  it('resumes from a checkpoint with the same losses and weights as an uninterrupted run', async () => {
    const options = { ...base, steps: 6, checkpointEvery: 2 };
    const whole = await trainPrior(options);
    const checkpoint = join(root, 'ckpt');
    // a run that dies during step 5, after the checkpoint of step 4
    await expect(trainPrior({ ...options, checkpoint, onStep: (e) => { if (e.step === 5) throw new Error('killed'); } })).rejects.toThrow('killed');
    expect(existsSync(join(checkpoint, 'state.json'))).toBe(true);
    let resumedAt = -1;
    const resumed = await trainPrior({ ...options, checkpoint, onResume: (s) => (resumedAt = s) });
    expect(resumedAt).toBe(4);
    expect(resumed.resumedFrom).toBe(4);
    expect(resumed.losses).toEqual(whole.losses);
    for (const [k, w] of whole.ema) expect(resumed.ema.get(k)!.data).toEqual(w.data);
    for (const [k, w] of whole.weights) expect(resumed.weights.get(k)!.data).toEqual(w.data);
    // a checkpoint of another run is not silently continued
    await expect(trainPrior({ ...options, batchSize: 8, checkpoint })).rejects.toThrow(/belongs to another run .* delete it to start over/);
  });

  it('warms the EMA up: decay min(0.999, (1 + n) / (10 + n)) at update n, or plain 0.999', async () => {
    const init = buildPriorLoss(TINY, { seed: base.seed }).weights.get('out.2.weight')!.data as Float32Array;
    for (const [warmup, decay] of [[true, 2 / 11], [false, 0.999]] as const) {
      const { ema, weights } = await trainPrior({ ...base, steps: 1, emaWarmup: warmup });
      const e = ema.get('out.2.weight')!.data as Float32Array;
      const w = weights.get('out.2.weight')!.data as Float32Array;
      for (let i = 0; i < e.length; i += 7) expect(e[i]).toBeCloseTo(decay * init[i] + (1 - decay) * w[i], 6);
    }
  });

  it('fine-tunes from given weights: starts at their loss, not a fresh one, and keeps its own checkpoints', async () => {
    const trained = await trainPrior(base);
    const fresh = await trainPrior({ ...base, steps: 3 });
    const tuned = await trainPrior({ ...base, steps: 3, init: trained.ema });
    const mean = (a: number[]) => a.reduce((x, y) => x + y) / a.length;
    // the trained weights predict the noise far better than a zero-initialized output layer
    expect(mean(tuned.losses)).toBeLessThan(0.8 * mean(fresh.losses));
    // the EMA starts from the given weights: after one warm-up step it is 2/11 of them
    const one = await trainPrior({ ...base, steps: 1, init: trained.ema });
    const [e, w, i] = ['ema', 'weights', 'init'].map((k) => (k === 'init' ? trained.ema : one[k as 'ema' | 'weights']).get('out.2.weight')!.data as Float32Array);
    for (let k = 0; k < e.length; k += 7) expect(e[k]).toBeCloseTo((2 / 11) * i[k] + (9 / 11) * w[k], 6);
    // a checkpoint of a run from other weights is not continued
    const checkpoint = join(root, 'ckpt-init');
    await trainPrior({ ...base, steps: 2, checkpointEvery: 1, checkpoint, init: trained.ema, onStep: (ev) => { if (ev.step === 2) throw new Error('stop'); } }).catch(() => undefined);
    await expect(trainPrior({ ...base, steps: 2, checkpoint })).rejects.toThrow(/belongs to another run/);
    // weights of another architecture are refused, by name
    const other = new Map(trained.ema);
    other.delete('out.2.weight');
    await expect(trainPrior({ ...base, init: other })).rejects.toThrow(/starting weights do not fit .*out\.2\.weight/);
  });

  it('refuses a learned-sigma UNet (its hybrid loss is not implemented)', async () => {
    await expect(trainPrior({ ...base, config: { ...TINY, learnSigma: true } })).rejects.toThrow(/learned sigma/);
  });
});
