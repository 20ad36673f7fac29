import { describe, expect, it } from 'vitest';
import { gradcheck } from '../gradcheck/gradcheck.ts';
import { type NdArray, float32, float64 } from '../onnx/ndarray.ts';
import { ancestralStep } from '../diffusion/sampler.ts';
import { SessionCache, createSession } from '../runtime/session.ts';
import { Rng } from '../random.ts';
import { eggMei, eggParallelism, eggThreads, eggX0Mei, guidedDiffusion } from './egg.ts';
import { meiEnergy, reconstructionEnergy } from './energy.ts';
import { eggStepGraph, guidanceForward, guidanceGraph } from './guidance-graph.ts';
import { guidanceUpdate, imageNorms } from './image-norm.ts';
import { samplingSchedule } from './synthesis-prior.ts';
import type { SynthesisProgress } from './progress.ts';
import { TINY_UNET, tinyEncoder, tinyPrior } from './testing/tiny-models.ts';

const encoder = tinyEncoder(1);
const prior = tinyPrior(2);

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('the EGG step graph', () => {
  it('differentiates the energy of x0 with respect to x_t through the UNet: matches finite differences', async () => {
    const r = await gradcheck({
      op: 'synthesis',
      name: 'EGG step: UNet, x0, preprocessing, encoder, MEI energy',
      bind: { batch: 2 },
      directions: 4,
      wrt: ['x'],
      positive: ['image_norm', 'sqrt_recip_alphas_cumprod', 'sqrt_recipm1_alphas_cumprod'],
      build: (g) => {
        g.output(guidanceForward(g, encoder, prior, meiEnergy([1, 2])).energy, 'energy');
      },
    });
    expect(r.checks).toBe(4);
    expect(r.rel_err).toBeLessThan(1e-3);
    expect(r.ort_err).toBeLessThan(1e-4);
  });
});

describe('the whole EGG step in one graph (eggStepGraph)', () => {
  // the update in the graph is the host's float64 arithmetic (ancestralStep, guidanceUpdate) on the same float32 values
  for (const learnSigma of [true, false]) {
    it(`gives the host-side step's x_{t-1} and x0 exactly (${learnSigma ? 'learned range' : 'fixed large'} variance)`, async () => {
      const p = tinyPrior(2, { ...TINY_UNET, learnSigma });
      const variance = learnSigma ? 'learned-range' : 'fixed-large';
      const energy = meiEnergy([1, 2]);
      const schedule = samplingSchedule(p, 5);
      const rng = new Rng(5);
      const x = float32([2, 1, 8, 8], rng.normals(128));
      const noise = rng.normals(128);
      const old = guidanceGraph(encoder, p, energy);
      const oldSession = await createSession(old.graph);
      const fused = eggStepGraph(encoder, p, energy, { learnedVariance: learnSigma });
      const session = await createSession(fused.graph);
      for (const k of [3, 0]) {
        const abar = schedule.alphasCumprod[k];
        const col = (v: number) => float32([2, 1, 1, 1], [v, v]);
        const col64 = (v: number) => float64([2, 1, 1, 1], [v, v]);
        const common = { ...old.feeds, x, t: float32([2], [schedule.timesteps[k], schedule.timesteps[k]]), sqrt_recip_alphas_cumprod: col(Math.sqrt(1 / abar)), sqrt_recipm1_alphas_cumprod: col(Math.sqrt(1 / abar - 1)), image_norm: float32([2], [25, 25]), energy_seed: float32([2], [1, 1]) };
        const o = await oldSession.run(common);
        const posterior = ancestralStep(schedule, k, x, { eps: o.eps, v: o.v }, k > 0 ? noise : undefined, { variance });
        const expected = guidanceUpdate(posterior.x.data as Float32Array, o.x_grad.data as Float32Array, 2, 10);
        const sigma: Record<string, NdArray> = learnSigma
          ? { log_variance_max: col64(Math.log(schedule.betas[k])), log_variance_min: col64(schedule.posteriorLogVarianceClipped[k]), noise_mask: col64(k > 0 ? 1 : 0) }
          : { noise_std: col64(k > 0 ? Math.exp(0.5 * Math.log(schedule.betas[k])) : 0) };
        const f = await session.run({ ...common, ...sigma, x0_coef_x: col64(Math.sqrt(1 / abar)), x0_coef_eps: col64(Math.sqrt(1 / abar - 1)), posterior_mean_coef1: col64(schedule.posteriorMeanCoef1[k]), posterior_mean_coef2: col64(schedule.posteriorMeanCoef2[k]), guidance_scale: col64(10), noise: float32([2, 1, 8, 8], noise) });
        expect(maxDiff(f.x_next.data as Float32Array, expected), `k = ${k}`).toBeLessThan(1e-6);
        expect(maxDiff(f.x0_step.data as Float32Array, posterior.x0.data as Float32Array), `k = ${k}`).toBeLessThan(1e-6);
      }
      await Promise.all([oldSession.release(), session.release()]);
    });
  }

  it('picks one thread for small steps and more with the batch, up to the cores', () => {
    const demo = { unet: { ...TINY_UNET, modelChannels: 24 }, imageSize: 40 };
    expect(eggThreads(demo, 1, 2)).toBe(1);
    expect(eggThreads(demo, 8, 2)).toBe(2);
    expect(eggThreads(demo, 64, 16)).toBe(16);
    expect(eggThreads(demo, 1, 1)).toBe(1);
  });

  it('splits a batch over the cores, one slice per core, each with its share of the threads', () => {
    const demo = { unet: { ...TINY_UNET, modelChannels: 24 }, imageSize: 40 };
    expect(eggParallelism(demo, 1, 2)).toEqual({ shards: 1, threads: 1 });
    expect(eggParallelism(demo, 2, 2)).toEqual({ shards: 2, threads: 1 });
    expect(eggParallelism(demo, 8, 2)).toEqual({ shards: 2, threads: 1 });
    expect(eggParallelism(demo, 8, 1)).toEqual({ shards: 1, threads: 1 });
    // a large prior: two images on 16 cores, eight threads each
    const large = { unet: { ...TINY_UNET, modelChannels: 256 }, imageSize: 256 };
    expect(eggParallelism(large, 2, 16)).toEqual({ shards: 2, threads: 8 });
  });
});

describe('EGG and EGG-x0 MEIs end to end (K = 5)', () => {
  const items = [{ neuron: 1, seed: 3 }, { neuron: 2, seed: 4 }];

  for (const [name, run] of [['egg', eggMei], ['egg-x0', eggX0Mei]] as const) {
    it(`${name}: one progress event per step with a preview; the result is the last x0`, async () => {
      const events: SynthesisProgress[] = [];
      const result = await run(encoder, prior, items, { steps: 5 }, (e) => void events.push(e));
      expect(events.map((e) => [e.step, e.timestep])).toEqual([[1, 999], [2, 749], [3, 500], [4, 250], [5, 0]]);
      for (const e of events) {
        expect(e).toMatchObject({ method: name, steps: 5 });
        expect(e.preview.shape).toEqual([2, 1, 8, 8]);
        expect(e.preview.data.every(Number.isFinite)).toBe(true);
        expect(e.energy).toHaveLength(2);
      }
      expect(result.images.shape).toEqual([2, 1, 8, 8]);
      expect(Array.from(events[4].preview.data)).toEqual(Array.from(result.images.data));
      expect(Array.from(result.activation)).toEqual(Array.from(events[4].activation));
      // what the encoder saw: 12x12 at norm c = 25
      expect(result.encoderImages.shape).toEqual([2, 1, 12, 12]);
      for (const n of imageNorms(result.encoderImages.data, 2)) expect(n).toBeCloseTo(25, 3);
      expect(result.method).toBe(name);
    });
  }

  it('guidance raises the activation over unguided sampling from the same seeds', async () => {
    const many = Array.from({ length: 6 }, (_, i) => ({ neuron: 1 + (i % 2), seed: 20 + i }));
    const unguided = await eggMei(encoder, prior, many, { steps: 5, scale: 0 });
    const guided = await eggMei(encoder, prior, many, { steps: 5, scale: 10 });
    const cheap = await eggX0Mei(encoder, prior, many, { steps: 5, scale: 10 });
    for (let i = 0; i < many.length; i++) {
      expect(guided.activation[i]).toBeGreaterThan(unguided.activation[i] * 1.2);
      expect(cheap.activation[i]).toBeGreaterThan(unguided.activation[i] * 1.2);
    }
  });

  it('gives each image of a batch what a run of that image alone gives (same seeds)', async () => {
    const batch = [{ neuron: 1, seed: 7 }, { neuron: 2, seed: 8 }, { neuron: 1, seed: 9 }];
    for (const run of [eggMei, eggX0Mei]) {
      const together = await run(encoder, prior, batch, { steps: 5 });
      for (const [i, item] of batch.entries()) {
        const alone = await run(encoder, prior, [item], { steps: 5 });
        expect(maxDiff(alone.images.data, together.images.data.subarray(i * 64, (i + 1) * 64))).toBeLessThan(1e-3);
        expect(alone.activation[0]).toBeCloseTo(together.activation[i], 3);
      }
    }
  });

  it('gives the same images with the batch split over threads (sharded) as in one session, with a cache too', async () => {
    const batch = [{ neuron: 1, seed: 7 }, { neuron: 2, seed: 8 }, { neuron: 1, seed: 9 }];
    const one = await eggMei(encoder, prior, batch, { steps: 5, shards: 1, session: { threads: 1 } });
    const cache = new SessionCache();
    const events: SynthesisProgress[] = [];
    for (const sessions of [undefined, cache, cache]) {
      const split = await eggMei(encoder, prior, batch, { steps: 5, shards: 2, session: { threads: 1 }, sessions }, (e) => void events.push(e));
      expect(maxDiff(split.images.data, one.images.data)).toBeLessThan(1e-6);
      expect(maxDiff(split.activation, one.activation)).toBeLessThan(1e-5);
      expect(maxDiff(split.encoderImages.data, one.encoderImages.data)).toBeLessThan(1e-6);
    }
    expect(events).toHaveLength(15);
    expect(cache.size).toBe(1);
    await cache.clear();
  });

  it('with a session cache: compiles once across runs, neurons and batch sizes, and gives what fresh sessions give', async () => {
    const cache = new SessionCache();
    // one layout for every run (the default takes as many slices as the batch has images, up to the
    // cores, so the cores of the machine would decide how many layouts a run of each size compiles)
    const layout = { shards: 2 };
    for (const [name, run] of [['egg', eggMei], ['egg-x0', eggX0Mei]] as const) {
      const fresh = await run(encoder, prior, items, { steps: 5, ...layout });
      const first = await run(encoder, prior, items, { steps: 5, sessions: cache, ...layout });
      const before = cache.size;
      // another neuron, another batch size, another K: the same compiled graphs
      await run(encoder, prior, [{ neuron: 0, seed: 9 }], { steps: 3, sessions: cache, ...layout });
      const again = await run(encoder, prior, items, { steps: 5, sessions: cache, ...layout });
      expect(cache.size, name).toBe(before);
      expect(Array.from(first.images.data), name).toEqual(Array.from(fresh.images.data));
      expect(Array.from(again.images.data), name).toEqual(Array.from(fresh.images.data));
    }
    // EGG: the step graph (sharded); EGG-x0: the UNet and the energy-gradient graph
    expect(cache.size).toBe(3);
    await cache.clear();
  });

  it('runs the UNet in float16 (use_fp16) through the whole loop, close to float32', async () => {
    for (const run of [eggMei, eggX0Mei]) {
      const full = await run(encoder, prior, items, { steps: 5 });
      const half = await run(encoder, prior, items, { steps: 5, precision: 'float16' });
      const scale = Math.max(...Array.from(full.images.data, Math.abs));
      const diff = maxDiff(half.images.data, full.images.data) / scale;
      // float16 rounding (about 1e-3 per pass) carried through five guided steps
      expect(diff).toBeGreaterThan(0);
      expect(diff).toBeLessThan(0.01);
    }
  });

  it('runs a prior without learned variance (fixed large)', async () => {
    const fixed = tinyPrior(3, { ...TINY_UNET, learnSigma: false });
    expect(fixed.variance).toBe('fixed-large');
    const result = await eggMei(encoder, fixed, items, { steps: 5 });
    expect(result.images.data.every(Number.isFinite)).toBe(true);
    await expect(eggMei(encoder, fixed, items, { steps: 5, variance: 'learned-range' })).rejects.toThrow(/learned-range variance needs a prior that predicts it/);
  });

  it('stops with an error naming the method, step and image when the energy is NaN', async () => {
    const targets = float32([2, 3], [1, 1, 1, 1, NaN, 1]);
    const run = guidedDiffusion(encoder, prior, reconstructionEnergy(targets), { seeds: [4, 5], steps: 5 });
    await expect(run).rejects.toThrow('egg: the energy of image 1 (seed 5) is NaN at step 1 of 5');
    const cheap = guidedDiffusion(encoder, prior, reconstructionEnergy(targets), { seeds: [4, 5], steps: 5, gradient: 'x0', method: 'recon' });
    await expect(cheap).rejects.toThrow('recon: the energy of image 1 (seed 5) is NaN at step 1 of 5');
  });
});
