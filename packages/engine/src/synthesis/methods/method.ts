/**
 * What a synthesis method is, declared once: its name, the settings it takes with their defaults
 * and ranges, what it needs (a diffusion prior, a dataset of natural images), the kind of images it
 * makes, the space its images live in while it runs, and the function that runs it. The registry
 * (registry.ts) collects the declarations; `synthesize()`, the service's settings, its GraphQL
 * `methods` query and the command line's flags all read them from there.
 */
import type { UNetPrecision } from '../../models/unet.ts';
import type { NdArray } from '../../onnx/ndarray.ts';
import type { SessionCache } from '../../runtime/session.ts';
import type { SynthesisCheckpoint } from '../checkpoint.ts';
import { sizeScaledLabel } from '../guidance-scale.ts';
import type { ProgressCallback } from '../progress.ts';
import type { ReconstructionTargets } from '../reconstruction.ts';
import type { SynthesisEncoder } from '../synthesis-encoder.ts';
import type { SynthesisPrior } from '../synthesis-prior.ts';
import type { SynthesisItem, SynthesisResult } from '../synthesis-result.ts';

/** The methods' names; the registry (registry.ts) holds one declaration for each, and the compiler holds them equal. */
export type MethodName = 'ga' | 'egg' | 'egg-x0' | 'meni' | 'recon' | 'topk' | 'diverse';

/** Every setting any method takes, with its value type. */
export interface MethodSettings {
  /** iterations: GA steps or diffusion steps K */
  steps?: number;
  /** guidance scale lambda (diffusion methods) */
  scale?: number;
  /** L2 norm of the encoder input (the contrast budget that makes images comparable) */
  norm?: number;
  /** GA's optimizer and learning rate */
  optimizer?: 'adamw' | 'sgd';
  lr?: number;
  /** diverse sets: the weight of the similarity penalty, and the images of a set */
  diversity?: number;
  setSize?: number;
  /** natural top-k: how many images per neuron */
  k?: number;
}

export type SettingName = keyof MethodSettings;

export interface NumberSetting {
  kind: 'integer' | 'number';
  description: string;
  /** undefined: the method works it out (a reconstruction's norm is its target image's; a size-scaled default, below) */
  default?: number;
  /**
   * The default follows the prior's image size: `reference` at 3x256x256, scaled by
   * sqrt(C H W / (3 * 256 * 256)) for the prior's C x H x W (guidance-scale.ts). Settings resolved
   * with the prior's shape hold the scaled value; `default` stays undefined.
   */
  sizeScaled?: { reference: number };
  min: number;
  /** the minimum itself is not allowed (a norm must be > 0) */
  minExclusive?: boolean;
  /** undefined: no bound of the method's own (a service may cap it) */
  max?: number;
}

export interface ChoiceSetting {
  kind: 'choice';
  description: string;
  default: string;
  choices: readonly string[];
}

export type SettingSpec = NumberSetting | ChoiceSetting;

/** The kind of image a method makes (the service stores it with each image). */
export type ImageKind = 'mei' | 'meni' | 'diverse' | 'recon' | 'natural';

/** Everything a method's run gets; settings are resolved (defaults under what the caller gave). */
export interface MethodContext {
  encoder: SynthesisEncoder;
  prior?: SynthesisPrior;
  /** neuron (a column of the encoder's rates) and seed per image; for top-k the seed is the rank */
  items: readonly SynthesisItem[];
  settings: MethodSettings;
  /** top-k: candidate images in the encoder's standardized input space [N, C, H, W] */
  natural?: NdArray<Float32Array>;
  /** reconstruction: target rates or images, one per item */
  targets?: ReconstructionTargets;
  onProgress?: ProgressCallback;
  signal?: AbortSignal;
  sessions?: SessionCache;
  precision?: UNetPrecision;
  /** continue from a checkpoint of the same batch */
  resume?: SynthesisCheckpoint;
}

export interface MethodDefinition<N extends MethodName = MethodName> {
  name: N;
  /** one line, as the command line's help and the dashboard show it */
  description: string;
  needs: { prior: boolean; dataset: boolean };
  /** 'neuron': each item drives one neuron; 'responses': each item matches a response vector (reconstruction) */
  target: 'neuron' | 'responses';
  imageKind: ImageKind;
  /** where the images live while the method runs (its previews): the prior's space or the encoder's */
  space: 'prior' | 'encoder';
  settings: Partial<Record<SettingName, SettingSpec>>;
  run(context: MethodContext): Promise<SynthesisResult>;
}

/** Declares a method; the name keeps its literal type, so the registry's names form a union. */
export function defineMethod<const N extends MethodName>(definition: MethodDefinition<N>): MethodDefinition<N> {
  return definition;
}

/** The diffusion methods' step count: respacing needs at least two steps. */
export function diffusionSteps(defaultSteps: number): NumberSetting {
  return { kind: 'integer', description: 'diffusion steps K (the prior respaced to K steps)', default: defaultSteps, min: 2 };
}

/** lambda, its default the method's reference (set for a 3x256x256 prior) scaled to the prior's image size (guidance-scale.ts). */
export const guidanceScale = (reference: number): NumberSetting => ({
  kind: 'number',
  description: "guidance scale lambda (its default follows the prior's image size: the method's reference at 3x256x256 times sqrt(C·H·W / 196608) for the prior's C×H×W, the same step per pixel)",
  sizeScaled: { reference },
  min: 0,
});

/**
 * lambda with a fixed default: MENI's and reconstruction's weak guidance. Scaled by the image size
 * as EGG's, their 2 became 0.18 on the 1x40x40 demo prior, too weak to guide (bench:synthesis: MENI
 * fell from 1.09 to 0.50 of the best natural image on the held-out ensemble).
 */
export const fixedGuidanceScale = (defaultScale: number): NumberSetting => ({ kind: 'number', description: 'guidance scale lambda', default: defaultScale, min: 0 });

/** A setting's default as help texts show it: the value, "size-scaled: 10 at 3x256x256", or undefined when the method works it out. */
export function defaultLabel(spec: SettingSpec): string | undefined {
  if (spec.kind === 'choice') return spec.default;
  if (spec.default !== undefined) return String(spec.default);
  return spec.sizeScaled ? sizeScaledLabel(spec.sizeScaled.reference) : undefined;
}

/** The settings every guided diffusion method takes: K, lambda (its reference, size-scaled) and c with its defaults. */
export const guidedSettings = (defaults: { steps: number; scale: number; norm: number }) => ({ steps: diffusionSteps(defaults.steps), scale: guidanceScale(defaults.scale), norm: inputNorm(defaults.norm) });

/** What a guided diffusion method passes on from its context. */
export const guidedOptions = ({ settings, signal, sessions, precision, resume }: MethodContext) => ({ steps: settings.steps, scale: settings.scale, norm: settings.norm, signal, sessions, precision, resume });

export const inputNorm = (defaultNorm: number | undefined): NumberSetting => ({ kind: 'number', description: 'L2 norm c of the encoder input', default: defaultNorm, min: 0, minExclusive: true });
