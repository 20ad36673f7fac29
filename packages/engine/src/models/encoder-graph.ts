/**
 * The inference graph of a trained encoder or ensemble: standardized images [N, 1, H, W] in,
 * rates of all its neurons out (members averaged after their output nonlinearities).
 */
import { Graph } from '../onnx/graph.ts';
import { add, mul } from '../onnx/ops/elementwise.ts';
import { allRates, buildEncoder } from './encoder.ts';
import { type EncoderEnsemble, type EncoderModel, membersOf } from './model-dir.ts';

export interface NeuronRef {
  session: string;
  /** row of the session's responses */
  neuron: number;
}

export interface EncoderGraph {
  graph: Graph;
  /** what each output column is */
  neurons: NeuronRef[];
}

export interface EncoderGraphOptions {
  sessions?: readonly string[];
  /**
   * one session only: an input `neuron` (int64 [batch], rows of its readout) and `rates` [batch, 1],
   * each image's own neuron, computed alone (synthesis: SynthesisEncoder.select)
   */
  select?: boolean;
}

export function encoderGraph(model: EncoderModel | EncoderEnsemble, options: EncoderGraphOptions = {}): EncoderGraph {
  const members = membersOf(model);
  const spec = members[0].spec;
  const sessions = spec.sessions.filter((s) => !options.sessions || options.sessions.includes(s.id));
  if (sessions.length === 0) throw new Error(`${model.dir} has no readout for session ${options.sessions?.join(', ')} (it has ${spec.sessions.map((s) => s.id).join(', ')})`);
  const g = new Graph('encoder');
  const image = g.input('image', 'float32', ['batch', spec.core.inputChannels, spec.input.height, spec.input.width]);
  const select = options.select ? g.input('neuron', 'int64', ['batch']) : undefined;
  const rates = members.map((m, i) => {
    const built = buildEncoder(g, image, m.spec, { weights: m.weights, prefix: members.length > 1 ? `member${i}.` : '', sessions: sessions.map((s) => s.id), select });
    return allRates(built, m.spec);
  });
  const total = rates.length === 1 ? rates[0] : mul(rates.reduce((a, b) => add(a, b)), 1 / rates.length);
  g.output(total, 'rates');
  return { graph: g, neurons: sessions.flatMap((s) => s.neurons.map((neuron) => ({ session: s.id, neuron }))) };
}
