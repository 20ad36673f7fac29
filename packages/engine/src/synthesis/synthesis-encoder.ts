/**
 * What synthesis needs of an encoder: a graph from images in the standardized grayscale space
 * (where the prior's [-1, 1] lives) to rates. Our encoders take that space directly; the
 * compact ground-truth models take RGB pixels, so they get a conversion in front.
 */
import type { Graph, Value } from '../onnx/graph.ts';
import { add, mul } from '../onnx/ops/elementwise.ts';
import type { NeuronSelector, ScoringModel } from '../models/scoring-model.ts';
import type { EncoderInputShape } from './preprocess.ts';

export interface SynthesisEncoder {
  /** input `image` [batch, C, H, W], output `rates` [batch, neurons] */
  graph: Graph;
  input: EncoderInputShape;
  /** from the standardized space to the graph's input (default: the identity) */
  fromStandardized?: (x: Value) => Value;
  /**
   * a graph of only the neurons an energy reads, one per image (our encoders: their readout rows
   * gathered), used when the energy reads one neuron per image (MEIs); same input as `graph`
   */
  select?: NeuronSelector;
}

/**
 * A scoring model as a synthesis encoder. A compact model needs the grayscale standardization
 * (pixels p = s * std + mean) that defines the standardized space, e.g. the one of the encoder
 * whose MEIs it is compared with.
 */
export function synthesisEncoder(model: ScoringModel, standardization?: { mean: number; std: number }): SynthesisEncoder {
  if (model.kind === 'encoder') return { graph: model.graph, input: model.input, select: model.select };
  if (!standardization) throw new Error(`${model.name} takes pixels: give the standardization (mean, std) of the space to synthesize in`);
  const { mean, std } = standardization;
  return { graph: model.graph, input: model.input, fromStandardized: (x) => model.fromPixels(add(mul(x, std), mean)) };
}
