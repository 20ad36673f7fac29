/**
 * Where an EGG step's time goes (bench:egg-speed --profile): the step as excite made it before
 * (one session run for the UNet forward + backward and the energy, then host-side float64
 * arithmetic: ancestralStep, guidanceUpdate, fresh arrays per step) and as it makes it now (one
 * prepared run of the whole step, guidance-graph.ts eggStepGraph), with its parts timed alone:
 * the UNet forward, the UNet forward + input-gradient, the energy's forward + gradient, the
 * host-side arithmetic, and the JS <-> onnxruntime wrapping (tensors in, arrays out). Medians of
 * interleaved runs, batch 1, on the threads EGG picks for the size.
 */
import ort from 'onnxruntime-node';
import { ancestralStep } from '../src/diffusion/sampler.ts';
import { median } from '../src/evaluate/correlation.ts';
import { unetGraph } from '../src/models/unet.ts';
import { appendBackward } from '../src/onnx/autodiff.ts';
import { type NdArray, float32, float64 } from '../src/onnx/ndarray.ts';
import { Rng } from '../src/random.ts';
import { SessionCache, type SessionOptions, createSession } from '../src/runtime/session.ts';
import { eggThreads } from '../src/synthesis/egg.ts';
import { meiEnergy } from '../src/synthesis/energy.ts';
import { energyGradientGraph } from '../src/synthesis/energy-graph.ts';
import { eggStepGraph, guidanceGraph } from '../src/synthesis/guidance-graph.ts';
import { guidanceUpdate } from '../src/synthesis/image-norm.ts';
import type { SynthesisEncoder } from '../src/synthesis/synthesis-encoder.ts';
import { type SynthesisPrior, samplingSchedule } from '../src/synthesis/synthesis-prior.ts';

export interface StepProfile {
  threads: number;
  /** milliseconds per step */
  parts: Record<string, number>;
}

const filled = (shape: number[], v: number) => float32(shape, new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(v));

export async function profileStep(encoder: SynthesisEncoder, prior: SynthesisPrior, neuron: number, repeats = 30): Promise<StepProfile> {
  const threads = eggThreads(prior, 1);
  const options: SessionOptions = { threads };
  const schedule = samplingSchedule(prior, 100);
  const k = 50;
  const n = prior.channels * prior.imageSize * prior.imageSize;
  const shape = [1, prior.channels, prior.imageSize, prior.imageSize];
  const rng = new Rng(1);
  const x = float32(shape, rng.normals(n));
  const t = filled([1], schedule.timesteps[k]);
  const energy = meiEnergy([neuron]);
  const abar = schedule.alphasCumprod[k];
  const times: Record<string, number[]> = {};
  const timed = async (name: string, fn: () => unknown) => {
    const s = performance.now();
    await fn();
    (times[name] ??= []).push(performance.now() - s);
  };

  // the parts alone
  const forward = await createSession(unetGraph(prior.unet, { weights: prior.weights }).graph, {}, options);
  const withGrad = unetGraph(prior.unet, { weights: prior.weights }).graph;
  appendBackward(withGrad, { outputs: ['eps'], wrt: ['x'] });
  const unetGrad = await createSession(withGrad, {}, options);
  const eg = energyGradientGraph(encoder, energy, { input: 'x0', shape: [prior.channels, prior.imageSize, prior.imageSize], preprocess: {} });
  const energyGrad = await createSession(eg.graph, {}, options);
  const energyFeeds = { ...eg.feeds, x0: x, image_norm: filled([1], 25), energy_seed: filled([1], 1) };

  // before: the step graph's session, then the host (egg.ts until this change)
  const cache = new SessionCache();
  const buildOld = () => guidanceGraph(encoder, prior, energy, {});
  const old = buildOld();
  const oldSession = await cache.forGraph(old.graph, {}, options);
  const oldFeeds = (xx: NdArray) => ({ ...old.feeds, x: xx, t: filled([1], schedule.timesteps[k]), sqrt_recip_alphas_cumprod: filled([1, 1, 1, 1], Math.sqrt(1 / abar)), sqrt_recipm1_alphas_cumprod: filled([1, 1, 1, 1], Math.sqrt(1 / abar - 1)), image_norm: filled([1], 25), energy_seed: filled([1], 1) });
  const outputs = ['eps', 'energy', 'activation', 'x_grad'];
  // pure onnxruntime time of the same run: tensors made once, outputs left as onnxruntime's
  const rawFeeds = Object.fromEntries(Object.entries(oldFeeds(x)).filter(([name]) => oldSession.inputNames.includes(name)).map(([name, a]) => [name, new ort.Tensor(a.dtype as 'float32', a.data as Float32Array, [...a.shape])]));
  const sample = await oldSession.run(oldFeeds(x), outputs);
  const hostStep = () => {
    const noise = rng.normals(n);
    const posterior = ancestralStep(schedule, k, x, { eps: sample.eps }, noise, { variance: prior.variance });
    return float32(shape, guidanceUpdate(posterior.x.data as Float32Array, sample.x_grad.data as Float32Array, 1, 10));
  };

  // after: the whole step in one prepared run
  const idOnly = 'profile-step';
  const fused = await cache.forBuilt(idOnly, () => eggStepGraph(encoder, prior, energy, { learnedVariance: false }).graph, {}, options);
  const col = (v: number) => float64([1, 1, 1, 1], [v]);
  const fusedFeeds = { ...old.feeds, x, t, sqrt_recip_alphas_cumprod: filled([1, 1, 1, 1], Math.sqrt(1 / abar)), sqrt_recipm1_alphas_cumprod: filled([1, 1, 1, 1], Math.sqrt(1 / abar - 1)), image_norm: filled([1], 25), energy_seed: filled([1], 1), x0_coef_x: col(Math.sqrt(1 / abar)), x0_coef_eps: col(Math.sqrt(1 / abar - 1)), posterior_mean_coef1: col(schedule.posteriorMeanCoef1[k]), posterior_mean_coef2: col(schedule.posteriorMeanCoef2[k]), noise_std: col(0.1), guidance_scale: col(10), noise: float32(shape, rng.normals(n)) };
  const { height, width, channels } = encoder.input;
  const fusedRun = fused.prepare(fusedFeeds, { x_next: filled(shape, 0), x0_step: filled(shape, 0), energy: filled([1], 0), activation: filled([1], 0), encoder_input: filled([1, channels, height, width], 0) });

  for (let i = 0; i < repeats + 2; i++) {
    await timed('unet forward', () => forward.run({ x, t }, ['eps']));
    await timed('unet forward + input-gradient', () => unetGrad.run({ x, t, eps_seed: x }, ['x_grad']));
    await timed('energy forward + gradient', () => energyGrad.run(energyFeeds, ['energy', 'x0_grad']));
    await timed('before: step session run (onnxruntime only)', () => oldSession.session.run(rawFeeds, outputs));
    await timed('before: step session run (with JS wrapping)', () => oldSession.run(oldFeeds(x), outputs));
    await timed('before: host step arithmetic + noise', hostStep);
    await timed('before: per-MEI graph build + cache lookup', () => cache.forGraph(buildOld().graph, {}, options));
    await timed('after: one prepared run of the whole step', fusedRun);
    await timed('after: per-MEI cache lookup', () => cache.forBuilt(idOnly, () => eggStepGraph(encoder, prior, energy, { learnedVariance: false }).graph, {}, options));
  }
  const parts = Object.fromEntries(Object.entries(times).map(([name, v]) => [name, median(v.slice(2))]));
  await Promise.all([forward, unetGrad, energyGrad].map((s) => s.release()));
  await cache.clear();
  return { threads, parts };
}
