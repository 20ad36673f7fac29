/**
 * One entry point for every method, as the command line, the comparisons and the service's worker
 * call it. Items name neurons by the generator's output columns; settings are resolved against the
 * method's declaration (defaults and ranges, methods/registry.ts); a run can resume from a
 * checkpoint; progress events carry previews in pixel space; results come back per image as the
 * stimulus (stimulus.ts: what is shown, stored and scored) and as what the encoder saw.
 */
import { priorToPixels } from '../diffusion/prior.ts';
import type { NeuronRef } from '../models/encoder-graph.ts';
import type { ScoringModel } from '../models/scoring-model.ts';
import { type NdArray, float32 } from '../onnx/ndarray.ts';
import { takeRows } from '../runtime/batched.ts';
import type { MethodContext, MethodDefinition, MethodSettings } from './methods/method.ts';
import { type MethodName, type SettingLimits, methodOf, resolveSettings } from './methods/registry.ts';
import { priorImageShape } from './guidance-scale.ts';
import type { ProgressCallback, SynthesisProgress } from './progress.ts';
import { encoderResponses } from './encoder-responses.ts';
import { type Standardization, fromStimulus, toStimulus } from './stimulus.ts';
import { synthesisEncoder } from './synthesis-encoder.ts';

export type SynthesizeSettings = MethodSettings;

/**
 * What a caller asks for: the context a method runs in (methods/method.ts) less what `synthesize`
 * works out (the encoder in the synthesis space and the resolved settings). The progress events it
 * passes on carry previews in pixel space (0..255).
 */
export interface SynthesizeRequest extends Omit<MethodContext, 'encoder' | 'settings'> {
  method: MethodName;
  /** the model whose neurons drive synthesis (ours; a compact model needs `standardization`) */
  generator: ScoringModel;
  /** grayscale standardization of the synthesis space, for a compact generator */
  standardization?: Standardization;
  settings?: SynthesizeSettings;
  /** bounds over the methods' own (a service's step limit) */
  limits?: SettingLimits;
}

export interface SynthesizedImage {
  column: number;
  /** the target neuron (undefined for reconstructions, which match a whole response vector) */
  neuron?: NeuronRef;
  seed: number;
  /** the generator's rate of the target neuron for the stimulus (reconstruction: the population mean the method reached) */
  activation: number;
  energy: number;
  /** [C, H, W] the stimulus: 0..255 in 8-bit levels, what is shown, stored and scored */
  pixels: NdArray<Float32Array>;
  /** [C, H, W] what the encoder saw, standardized */
  standardized: NdArray<Float32Array>;
  /** top-k: the candidate's row */
  sourceIndex?: number;
}

export interface Synthesized {
  method: MethodName;
  /** the settings the images were made with (defaults under what was given) */
  settings: MethodSettings;
  images: SynthesizedImage[];
  /** the methods that sample a prior: their results in the prior's space ([-1, 1] is its data's range), [N, C, H, W] */
  priorImages?: NdArray<Float32Array>;
  /** wall time of the whole batch */
  seconds: number;
}

function standardizationOf(req: SynthesizeRequest): Standardization {
  const standardization = req.standardization ?? req.generator.standardization;
  if (!standardization) throw new Error(`${req.generator.name}: give the standardization of the synthesis space`);
  return standardization;
}

/** The request's progress callback, with each preview brought from the method's space to pixels. */
function pixelProgress(method: MethodDefinition, standardization: Standardization, onProgress?: ProgressCallback): ProgressCallback | undefined {
  if (!onProgress) return undefined;
  return (e: SynthesisProgress) => {
    const { data, shape } = e.preview;
    const pixels = method.space === 'prior' ? priorToPixels(data) : toStimulus(float32(shape, data), standardization).data;
    return onProgress({ ...e, preview: { data: pixels, shape } });
  };
}

export async function synthesize(req: SynthesizeRequest): Promise<Synthesized> {
  const method = methodOf(req.method);
  if (method.needs.prior && !req.prior) throw new Error(`${method.name} needs a diffusion prior (--prior DIR)`);
  const columns = req.generator.neurons.length;
  for (const it of req.items) {
    if (method.target === 'neuron' && (!Number.isInteger(it.neuron) || it.neuron < 0 || it.neuron >= columns)) throw new Error(`neuron ${it.neuron} is not one of the ${columns} neurons of ${req.generator.name}`);
    if (!Number.isInteger(it.seed) || it.seed < 0) throw new Error(`seed ${it.seed} must be a non-negative integer`);
  }
  // the guidance scale's default follows the prior's image size; the resolved value is what the result records
  const settings = resolveSettings(method, req.settings, req.limits, { priorShape: req.prior && priorImageShape(req.prior) });
  const standardization = standardizationOf(req);
  const encoder = synthesisEncoder(req.generator, standardization);
  const result = await method.run({
    encoder,
    prior: req.prior,
    items: req.items,
    settings,
    natural: req.natural,
    targets: req.targets,
    onProgress: pixelProgress(method, standardization, req.onProgress),
    signal: req.signal,
    sessions: req.sessions,
    precision: req.precision,
    resume: req.resume,
  });
  const one = (x: NdArray<Float32Array>) => float32(x.shape.slice(1), x.data);
  const stimuli = toStimulus(result.encoderImages, standardization);
  // the activation is the generator's response to the stimulus itself, as every evaluator scores it
  const rates = method.target === 'neuron' ? await encoderResponses(encoder, fromStimulus(stimuli, standardization), { sessions: req.sessions }) : undefined;
  const images = req.items.map((it, i): SynthesizedImage => {
    const x = takeRows(result.encoderImages, [i]);
    return {
      column: it.neuron,
      neuron: method.target === 'neuron' ? req.generator.neurons[it.neuron] : undefined,
      seed: it.seed,
      activation: rates ? rates.data[i * rates.shape[1] + it.neuron] : result.activation[i],
      energy: result.energy[i],
      standardized: one(x),
      pixels: one(takeRows(stimuli, [i])),
      sourceIndex: result.sourceIndices?.[i],
    };
  });
  return { method: method.name, settings, images, priorImages: method.space === 'prior' ? result.images : undefined, seconds: result.seconds };
}
