/**
 * Gradient ascent MEIs, the baseline (as sinzlab/mei; defaults in docs/synthesis.md): x ~ N(0, 1) seeded; each step the
 * gradient of the energy (MEI: -r_u), blurred (Gaussian, sigma 1, 9 taps, reflect), an optimizer
 * step (AdamW lr 10, weight decay 0.01, or SGD lr 10), then x rescaled to L2 norm 25. 1001 steps;
 * the result is the last x. Batched: every image has its own seed, norm and optimizer moments
 * (AdamW is elementwise), so a batch gives what separate runs give.
 */
import { float32 } from '../onnx/ndarray.ts';
import { Rng } from '../random.ts';
import { type SessionCache, type SessionOptions, createSession } from '../runtime/session.ts';
import { AdamW } from '../train/adamw.ts';
import { gaussianBlur } from './blur.ts';
import { type SynthesisCheckpoint, checkResume } from './checkpoint.ts';
import { type Energy, meiEnergy } from './energy.ts';
import { energyGradientGraph } from './energy-graph.ts';
import type { SynthesisEncoder } from './synthesis-encoder.ts';
import { rescaleToNorm } from './image-norm.ts';
import { type ProgressCallback, type SynthesisMethod, checkEnergy, previewOf } from './progress.ts';
import type { SynthesisItem, SynthesisResult } from './synthesis-result.ts';

export interface GradientAscentSettings {
  /** one per image: its start x ~ N(0, 1) */
  seeds: readonly number[];
  /** default 1001: the paper's loop stops after the step at which its counter reaches 1000 */
  steps?: number;
  /** 'adamw' (the later code; default) or 'sgd' (the first code) */
  optimizer?: 'adamw' | 'sgd';
  /** default 10 */
  lr?: number;
  /** AdamW's decoupled weight decay, default 0.01 */
  weightDecay?: number;
  /** the L2 norm x is rescaled to after every step, default 25 */
  norm?: number;
  /** the gradient's blur: sigma (default 1) and radius (default 4 sigma: 9 taps) */
  blurSigma?: number;
  blurRadius?: number;
  /** the name progress and errors carry (default 'ga') */
  method?: SynthesisMethod;
  session?: SessionOptions;
  /** compiled sessions kept across runs (a worker's); without it the run's session is released at its end */
  sessions?: SessionCache;
  signal?: AbortSignal;
  /** continue from a checkpoint of this run (a progress event's `checkpoint()`) instead of from x ~ N(0, 1) */
  resume?: SynthesisCheckpoint;
}

/** The paper's GA: 1001 AdamW steps at learning rate 10, the image rescaled to L2 norm 25 after each. */
export const GA_DEFAULTS = { steps: 1001, lr: 10, norm: 25, optimizer: 'adamw' } as const;

export async function gradientAscent(encoder: SynthesisEncoder, energy: Energy, settings: GradientAscentSettings, onProgress?: ProgressCallback): Promise<SynthesisResult> {
  const started = performance.now();
  const method = settings.method ?? 'ga';
  const steps = settings.steps ?? GA_DEFAULTS.steps;
  const lr = settings.lr ?? GA_DEFAULTS.lr;
  const norm = settings.norm ?? GA_DEFAULTS.norm;
  const sigma = settings.blurSigma ?? 1;
  const { seeds } = settings;
  const B = seeds.length;
  if (B !== energy.images) throw new Error(`${method}: ${B} seeds for an energy of ${energy.images} images`);
  const { channels: C, height: H, width: W } = encoder.input;
  const shape = [B, C, H, W];
  const n = C * H * W;

  const { graph, feeds } = energyGradientGraph(encoder, energy, { input: 'x', shape: [C, H, W] });
  const session = settings.sessions ? await settings.sessions.forGraph(graph, {}, settings.session) : await createSession(graph, {}, settings.session);
  try {
    const x = new Float32Array(B * n);
    const optimizer = (settings.optimizer ?? GA_DEFAULTS.optimizer) === 'adamw' ? new AdamW({ lr, weightDecay: settings.weightDecay ?? 0.01 }) : undefined;
    const { resume } = settings;
    if (resume) {
      checkResume(resume, method, steps, B, n);
      if (!resume.optimizer !== !optimizer) throw new Error(`${method}: cannot resume from this checkpoint: it was taken with ${resume.optimizer ? 'AdamW' : 'SGD'}`);
      x.set(resume.x);
      if (optimizer && resume.optimizer) optimizer.load({ step: resume.optimizer.step, m: { x: resume.optimizer.m }, v: { x: resume.optimizer.v } });
    } else seeds.forEach((seed, i) => x.set(new Rng(seed).normals(n), i * n));
    const params = new Map([['x', x]]);
    const fixed = { ...feeds, energy_seed: float32([B], new Float32Array(B).fill(1)) };
    const score = (outputs: string[]) => session.run({ ...fixed, x: float32(shape, x) }, outputs);
    const checkpointAt = (step: number) => (): SynthesisCheckpoint => {
      const moments = optimizer?.state();
      return { method, step, steps, images: B, x: x.slice(), optimizer: moments && { step: moments.step, m: moments.m.x.slice(), v: moments.v.x.slice() } };
    };

    for (let step = (resume?.step ?? 0) + 1; step <= steps; step++) {
      settings.signal?.throwIfAborted();
      const out = await score(['energy', 'activation', 'x_grad']);
      const e = out.energy.data as Float32Array;
      checkEnergy(method, step, steps, e, seeds);
      const preview = onProgress && previewOf(float32(shape, x));
      const grad = gaussianBlur(out.x_grad.data as Float32Array, shape, sigma, settings.blurRadius);
      if (optimizer) optimizer.step(params, new Map([['x', grad]]));
      else for (let i = 0; i < x.length; i++) x[i] -= lr * grad[i];
      rescaleToNorm(x, B, norm);
      if (onProgress) await onProgress({ method, step, steps, energy: e, activation: out.activation.data as Float32Array, preview: preview!, checkpoint: step < steps ? checkpointAt(step) : undefined });
    }

    const final = await score(['energy', 'activation']);
    checkEnergy(method, steps, steps, final.energy.data as Float32Array, seeds);
    const images = float32(shape, x);
    return {
      method,
      images,
      encoderImages: images,
      energy: final.energy.data as Float32Array,
      activation: final.activation.data as Float32Array,
      seeds: [...seeds],
      steps,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    if (!settings.sessions) await session.release();
  }
}

/** GA MEIs of (neuron, seed) pairs, all in one batch. */
export function gaMei(encoder: SynthesisEncoder, items: readonly SynthesisItem[], settings: Omit<GradientAscentSettings, 'seeds'> = {}, onProgress?: ProgressCallback): Promise<SynthesisResult> {
  return gradientAscent(encoder, meiEnergy(items.map((i) => i.neuron)), { ...settings, seeds: items.map((i) => i.seed) }, onProgress);
}
