/**
 * The EGG step as ONE graph (the ancestral step and the guidance): from x_t, t and the step's coefficients,
 *   (eps, v) = UNet(x_t, t),  x0 = sqrt(1/abar) x_t - sqrt(1/abar - 1) eps,
 *   E = energy(preprocess(x0)),  dE/dx_t through the UNet (the paper's code).
 * The coefficients are inputs, so one session serves every step of any respacing.
 */
import { appendBackward } from '../onnx/autodiff.ts';
import { Graph, type Value } from '../onnx/graph.ts';
import type { NdArray } from '../onnx/ndarray.ts';
import { add, cast, div, exp, mul, sqrt, sub } from '../onnx/ops/elementwise.ts';
import { reduceSum } from '../onnx/ops/reduce.ts';
import { Parameters } from '../models/parameters.ts';
import { type UNetPrecision, unet } from '../models/unet.ts';
import type { Energy } from './energy.ts';
import { type EnergyOutputs, appendEnergy } from './energy-graph.ts';
import { toEncoderInput } from './preprocess.ts';
import type { SynthesisEncoder } from './synthesis-encoder.ts';
import type { SynthesisPrior } from './synthesis-prior.ts';

export interface GuidanceForward extends EnergyOutputs {
  eps: Value;
  v?: Value;
  x0: Value;
}

export interface GuidanceOptions {
  clip?: readonly [number, number];
  /** the UNet's precision ('float16': guided-diffusion's use_fp16) */
  precision?: UNetPrecision;
}

/**
 * Builds the forward EGG step into `g` (inputs `x`, `t`, `sqrt_recip_alphas_cumprod`,
 * `sqrt_recipm1_alphas_cumprod` [batch, 1, 1, 1], `image_norm` [batch] and the energy's own).
 */
export function guidanceForward(g: Graph, encoder: SynthesisEncoder, prior: SynthesisPrior, energy: Energy, options: GuidanceOptions = {}): GuidanceForward {
  const { unet: cfg } = prior;
  if (cfg.imageSize !== prior.imageSize || cfg.inChannels !== prior.channels) throw new Error(`the prior's UNet takes ${cfg.inChannels}x${cfg.imageSize}x${cfg.imageSize} images, the prior says ${prior.channels}x${prior.imageSize}x${prior.imageSize}`);
  const x = g.input('x', 'float32', ['batch', prior.channels, prior.imageSize, prior.imageSize]);
  const t = g.input('t', 'float32', ['batch']);
  // ADM's names for the two coefficients of x0 (gaussian_diffusion.py)
  const a = g.input('sqrt_recip_alphas_cumprod', 'float32', ['batch', 1, 1, 1]);
  const b = g.input('sqrt_recipm1_alphas_cumprod', 'float32', ['batch', 1, 1, 1]);
  const norm = g.input('image_norm', 'float32', ['batch']);
  const { eps, v } = g.scope('unet', () => unet(x, t, new Parameters(g, prior.weights), cfg, { precision: options.precision }));
  const x0 = sub(mul(a, x), mul(b, eps));
  const image = g.scope('preprocess', () => toEncoderInput(x0, encoder.input, { norm, clip: options.clip }));
  return { eps, v, x0, ...appendEnergy(image, encoder, energy) };
}

/**
 * The EGG step graph: outputs `eps` (`v` with learned sigma), `x0`, `energy`, `activation`,
 * `encoder_input` and `x_grad` = d(sum_i E_i)/dx_t through the UNet (seed `energy_seed`: ones).
 */
export function guidanceGraph(encoder: SynthesisEncoder, prior: SynthesisPrior, energy: Energy, options: GuidanceOptions = {}): { graph: Graph; feeds: Record<string, NdArray> } {
  const g = new Graph('egg_step');
  const f = guidanceForward(g, encoder, prior, energy, options);
  g.output(f.eps, 'eps');
  if (f.v) g.output(f.v, 'v');
  g.output(f.x0, 'x0');
  g.output(f.energy, 'energy');
  g.output(f.activation, 'activation');
  g.output(f.encoderInput, 'encoder_input');
  appendBackward(g, { outputs: ['energy'], wrt: ['x'] });
  return { graph: g, feeds: f.feeds };
}

export interface EggStepOptions extends GuidanceOptions {
  /** 'learned-range': the step's variance from the UNet's v; otherwise a fixed one, fed per step */
  learnedVariance: boolean;
}

/**
 * A whole EGG step as one graph (docs/synthesis.md, "The EGG step"), so that a step is one session run with no
 * arithmetic on the host: the step graph above, then
 *   x_pre = c1 x0 + c2 x_t + sigma z,   x_{t-1} = x_pre - lambda g / (||g|| + 1e-6),  g = dE/dx_t,
 * the norm per image. The update runs in float64 from the float32 x_t, eps (v), z and g, rounding
 * x_pre and x_{t-1} to float32, as the host-side ancestralStep and guidanceUpdate do (sampler.ts,
 * image-norm.ts): the same trajectory to float32 rounding. Inputs beside the step graph's, float64
 * [batch, 1, 1, 1]: `x0_coef_x`, `x0_coef_eps` (sqrt(1/abar), sqrt(1/abar - 1)),
 * `posterior_mean_coef1`, `posterior_mean_coef2` (c1, c2), `guidance_scale` (lambda) and sigma as
 * `noise_std` (fixed variances) or, with learned variance, `log_variance_max` (log beta_k),
 * `log_variance_min` (the clipped posterior log variance) and `noise_mask` (1, or 0 at the last
 * step): sigma = mask exp((f max + (1 - f) min) / 2), f = (v + 1) / 2; and `noise` z, float32
 * [batch, C, H, W]. Outputs `x_next` and `x0_step` (float32; x0 from the float64 arithmetic),
 * `energy`, `activation`, `encoder_input` (and the step graph's others).
 */
export function eggStepGraph(encoder: SynthesisEncoder, prior: SynthesisPrior, energy: Energy, options: EggStepOptions): { graph: Graph; feeds: Record<string, NdArray> } {
  const { graph: g, feeds } = guidanceGraph(encoder, prior, energy, options);
  if (options.learnedVariance && !prior.unet.learnSigma) throw new Error('learned-range variance needs a prior that predicts it (learnSigma)');
  const column = (name: string) => g.input(name, 'float64', ['batch', 1, 1, 1]);
  const f64 = (v: Value) => cast(v, 'float64');
  const x = f64(g.value('x'));
  const eps = f64(g.value('eps'));
  const grad = f64(g.value('x_grad'));
  const a = column('x0_coef_x');
  const b = column('x0_coef_eps');
  const c1 = column('posterior_mean_coef1');
  const c2 = column('posterior_mean_coef2');
  const z = g.input('noise', 'float32', ['batch', prior.channels, prior.imageSize, prior.imageSize]);
  const scale = column('guidance_scale');
  const { x0, next } = g.scope('step', () => {
    let sigma: Value;
    if (options.learnedVariance) {
      const hi = column('log_variance_max');
      const lo = column('log_variance_min');
      const mask = column('noise_mask');
      const f = mul(add(f64(g.value('v')), 1), 0.5);
      sigma = mul(mask, exp(mul(add(mul(f, hi), mul(sub(1, f), lo)), 0.5)));
    } else sigma = column('noise_std');
    const x0 = sub(mul(a, x), mul(b, eps));
    const pre = f64(cast(add(add(mul(c1, x0), mul(c2, x)), mul(sigma, f64(z))), 'float32'));
    const norm = sqrt(reduceSum(mul(grad, grad), [1, 2, 3], true));
    return { x0: cast(x0, 'float32'), next: cast(sub(pre, mul(div(scale, add(norm, 1e-6)), grad)), 'float32') };
  });
  g.output(x0, 'x0_step');
  g.output(next, 'x_next');
  return { graph: g, feeds };
}
