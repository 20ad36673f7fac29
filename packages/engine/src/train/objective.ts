/**
 * The training objective of one session as a graph (docs/encoders.md): Poisson loss of the
 * session's readout (plus, if set, the attention entropy penalty), scaled by sqrt(N_train / batch),
 * plus the core's Laplace smoothness and the readout's L1 penalty; its gradient with respect to the
 * trainable weights comes from appendBackward. Weights are graph inputs, so one onnxruntime session
 * serves every step.
 */
import { appendBackward } from '../onnx/autodiff.ts';
import { Graph, type Value } from '../onnx/graph.ts';
import type { NdArray } from '../onnx/ndarray.ts';
import { add, mul } from '../onnx/ops/elementwise.ts';
import { type EncoderSpec, buildEncoder, buildReadouts, readoutPrefix } from '../models/encoder.ts';
import { Parameters } from '../models/parameters.ts';
import { attentionEntropy, l1, laplaceSmoothness } from '../models/regularizers.ts';
import { poissonLoss } from './poisson-loss.ts';

export interface Objective {
  graph: Graph;
  /** trainable weight name -> gradient output name */
  grads: Map<string, string>;
  /** batch-norm layer -> [mean output, variance output] (core in training mode) */
  batchStats: Map<string, [string, string]>;
  /** input carrying dropout masks or position noise, if any */
  noiseInput?: Value;
  /** 'image' (standardized [N,1,H,W]) or 'features' (a frozen core's output) */
  input: 'image' | 'features';
}

export interface ObjectiveOptions {
  spec: EncoderSpec;
  session: string;
  weights: ReadonlyMap<string, NdArray>;
  /** train the core too (else the graph starts from precomputed core features) */
  trainCore: boolean;
  /** core feature shape [C, H, W] when the core is frozen */
  featureShape?: readonly number[];
}

export function buildObjective(o: ObjectiveOptions): Objective {
  const { spec, session } = o;
  const g = new Graph(`objective_${session}`);
  const responses = g.input('responses', 'float32', ['batch', spec.sessions.find((s) => s.id === session)!.neurons.length]);
  const lossScale = g.input('loss_scale', 'float32', []);
  let rates: Value;
  let attention: Value | undefined;
  const onAttention = (_: string, a: Value) => (attention = a);
  let noiseInput: Value | undefined;
  let regularization: Value | undefined;
  const batchStats = new Map<string, [string, string]>();
  if (o.trainCore) {
    const image = g.input('image', 'float32', ['batch', spec.core.inputChannels, spec.input.height, spec.input.width]);
    const built = buildEncoder(g, image, spec, { training: true, weights: o.weights, sessions: [session], onAttention });
    rates = built.rates.get(session)!;
    noiseInput = built.noiseInputs.get(session);
    if (spec.core.laplace > 0) regularization = mul(laplaceSmoothness(g.weights.get('core.0.conv.weight')!, spec.core.laplaceStencil ?? 9), spec.core.laplace);
    for (const s of built.core.batchStats) {
      batchStats.set(s.name, [g.output(s.mean, `${s.name}.batch_mean`).name, g.output(s.variance, `${s.name}.batch_var`).name]);
    }
  } else {
    if (!o.featureShape) throw new Error('a frozen core needs the feature shape');
    const features = g.input('features', 'float32', ['batch', ...o.featureShape]);
    const built = buildReadouts(features, new Parameters(g, o.weights), spec, { training: true, sessions: [session], onAttention });
    rates = built.rates.get(session)!;
    noiseInput = built.noiseInputs.get(session);
  }
  const prefix = readoutPrefix(session);
  const r = spec.readout;
  const penalties: [string, number][] = [[`${prefix}.weight`, r.l1]];
  if (r.type === 'attention') penalties.push([`${prefix}.query`, r.queryL1 ?? r.l1]);
  for (const [name, weight] of penalties) {
    if (!(weight > 0)) continue;
    const term = mul(l1(g.weights.get(name)!), weight);
    regularization = regularization ? add(regularization, term) : term;
  }
  let data = poissonLoss(rates, responses);
  if (r.type === 'attention' && r.entropy && attention) data = add(data, mul(attentionEntropy(attention), r.entropy));
  let loss = mul(data, lossScale);
  if (regularization) loss = add(loss, regularization);
  g.output(loss, 'loss');
  const trainable = [...g.weights.keys()].filter((n) => (o.trainCore || n.startsWith(`${prefix}.`)) && !n.includes('.running_'));
  const { grads } = appendBackward(g, { outputs: ['loss'], wrt: trainable });
  return { graph: g, grads: new Map(trainable.map((n, i) => [n, grads[i].name])), batchStats, noiseInput, input: o.trainCore ? 'image' : 'features' };
}
