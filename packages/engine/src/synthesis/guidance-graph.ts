/**
 * The EGG step as ONE graph (the ancestral step and the guidance): from x_t, t and the step's coefficients,
 *   (eps, v) = UNet(x_t, t),  x0 = sqrt(1/abar) x_t - sqrt(1/abar - 1) eps,
 *   E = energy(preprocess(x0)),  dE/dx_t through the UNet (the paper's code).
 * The coefficients are inputs, so one session serves every step of any respacing.
 */
import { appendBackward } from '../onnx/autodiff.ts';
import { Graph, type Value } from '../onnx/graph.ts';
import type { NdArray } from '../onnx/ndarray.ts';
import { mul, sub } from '../onnx/ops/elementwise.ts';
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
