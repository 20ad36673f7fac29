/**
 * An energy of an image as one graph: (preprocessing,) the encoder spliced in, the energy, and its
 * gradient with respect to the image. GA differentiates it with respect to its own x, EGG-x0 with
 * respect to the prior's x0; EGG puts the same pieces behind the UNet (guidance-graph.ts).
 */
import { appendBackward } from '../onnx/autodiff.ts';
import { Graph, type Value } from '../onnx/graph.ts';
import { type NdArray, int64 } from '../onnx/ndarray.ts';
import { type NeuronSelection, inline } from '../models/scoring-model.ts';
import type { Energy } from './energy.ts';
import { toEncoderInput } from './preprocess.ts';
import type { SynthesisEncoder } from './synthesis-encoder.ts';

export interface EnergyOutputs {
  energy: Value;
  activation: Value;
  /** what the encoder saw, in the standardized space */
  encoderInput: Value;
  feeds: Record<string, NdArray>;
}

/**
 * The encoder's graph of only the neurons the energy reads, when the energy reads one per image
 * (MEIs) and the encoder can compute single neurons; else undefined (the whole `encoder.graph`).
 */
export function neuronSelection(encoder: SynthesisEncoder, energy: Energy): NeuronSelection | undefined {
  return energy.neuronPerImage && encoder.select ? encoder.select(energy.neuronPerImage) : undefined;
}

/** An energy's feeds with, under a neuron selection, its `neuron` input's rows. */
export const withSelectionFeed = (feeds: Record<string, NdArray>, selection: NeuronSelection | undefined): Record<string, NdArray> =>
  selection ? { ...feeds, neuron: int64([selection.rows.length], selection.rows) } : feeds;

/**
 * Splices the encoder and the energy into image's graph; `image` is already the encoder's
 * (standardized) input. With a neuron selection (neuronSelection) only the energy's neurons are
 * computed, from an input `neuron` fed with their rows.
 */
export function appendEnergy(image: Value, encoder: SynthesisEncoder, energy: Energy): EnergyOutputs {
  const g = image.graph;
  const selection = neuronSelection(encoder, energy);
  const source = selection?.graph ?? encoder.graph;
  // inline() reuses a weight of the same name: a clash with the prior's weights would be silent
  for (const name of source.weights.keys()) if (g.weights.has(name)) throw new Error(`the encoder's weight "${name}" has the name of a weight already in graph "${g.name}"`);
  const neuron = selection ? g.input('neuron', 'int64', ['batch']) : undefined;
  const rates = g.scope('encoder', () => inline(source, encoder.fromStandardized ? encoder.fromStandardized(image) : image, neuron ? { neuron } : {}));
  const { energy: e, activation, feeds } = g.scope('energy', () => energy.build({ rates, image, selected: selection !== undefined }));
  return { energy: e, activation, encoderInput: image, feeds: withSelectionFeed(feeds, selection) };
}

export interface EnergyGradientOptions {
  /** the graph input's name (its gradient is `${input}_grad`) */
  input: string;
  /** its shape, without the batch axis */
  shape: readonly [number, number, number];
  /** preprocess from this input (a prior's image) with a `image_norm` [batch] input; off for GA, whose x is the encoder's input */
  preprocess?: { clip?: readonly [number, number] };
}

/**
 * A graph with outputs `energy`, `activation`, `encoder_input` and the gradient of the summed energy
 * with respect to the input (seed `energy_seed` [batch]: feed ones).
 */
export function energyGradientGraph(encoder: SynthesisEncoder, energy: Energy, o: EnergyGradientOptions): { graph: Graph; feeds: Record<string, NdArray> } {
  const g = new Graph('energy_gradient');
  const x = g.input(o.input, 'float32', ['batch', ...o.shape]);
  const image = o.preprocess ? g.scope('preprocess', () => toEncoderInput(x, encoder.input, { norm: g.input('image_norm', 'float32', ['batch']), clip: o.preprocess!.clip })) : x;
  const out = appendEnergy(image, encoder, energy);
  g.output(out.energy, 'energy');
  g.output(out.activation, 'activation');
  g.output(out.encoderInput, 'encoder_input');
  appendBackward(g, { outputs: ['energy'], wrt: [o.input] });
  return { graph: g, feeds: out.feeds };
}
