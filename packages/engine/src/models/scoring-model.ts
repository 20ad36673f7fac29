/**
 * Any encoder as something that scores images: our trained models and ensembles (grayscale,
 * standardized, their own size), the published compact models (RGB 112x112, 0..255 minus
 * channel means) and models imported from ONNX (their own channels, size and per-channel
 * standardization). Images travel between models in pixel space, [N, 1 or 3, H, W] with values in
 * 0..255; each model converts them into its own input space: size, channels, standardization.
 */
import { Graph, type Value } from '../onnx/graph.ts';
import { div, mul, sub, add } from '../onnx/ops/elementwise.ts';
import { reduceMean } from '../onnx/ops/reduce.ts';
import { resize } from '../onnx/ops/resize.ts';
import { concat } from '../onnx/ops/concat-split.ts';
import { COMPACT_IMAGE_SIZE, type CompactModel, loadCompactModel } from './compact.ts';
import type { InputSpec } from './encoder.ts';
import { encoderGraph, type NeuronRef } from './encoder-graph.ts';
import { type EncoderEnsemble, type EncoderModel, loadModel, membersOf } from './model-dir.ts';
import { channelConstant, isOnnxModelDir, loadOnnxModel, type OnnxEncoder } from './onnx-model.ts';
import { isCompactModel } from '../evaluate/evaluate-model.ts';

export interface InputSpace {
  channels: 1 | 3;
  height: number;
  width: number;
}

export interface ScoringModel {
  /** as the user named it (path) */
  name: string;
  kind: 'encoder' | 'compact' | 'onnx';
  /** the model's own input space: `graph`'s input `image` is in it */
  input: InputSpace;
  neurons: NeuronRef[];
  /** input `image` [batch, C, H, W] in the model's space, output `rates` [batch, neurons] */
  graph: Graph;
  /** model input from pixel-space values (grayscale 0..255 for our encoders) */
  fromPixels(x: Value): Value;
  /** pixel-space values from model input */
  toPixels(x: Value): Value;
  /** our encoders: the loaded model (for synthesis, which works in the model's space) */
  encoder?: EncoderModel | EncoderEnsemble;
  /** our encoders: a graph of only the given columns' neurons, one per image (NeuronSelection) */
  select?: NeuronSelector;
  /** imported models: the model folder as loaded */
  onnx?: OnnxEncoder;
  /**
   * The grayscale space synthesis works in when this model generates (pixels = x * std + mean):
   * our encoders' own; an imported model's channel means and deviations averaged.
   */
  standardization?: { mean: number; std: number };
}

/**
 * A graph that computes one neuron per image instead of all: input `image`, input `neuron` (int64
 * [batch], the `rows` fed), output `rates` [batch, 1]; the same rates as `graph`'s columns.
 */
export interface NeuronSelection {
  graph: Graph;
  rows: number[];
}

/** For columns of a model's rates, one per image: their selection graph, or undefined when one graph cannot serve them (neurons of several sessions). */
export type NeuronSelector = (columns: readonly number[]) => NeuronSelection | undefined;

/** Our encoders' selector: the columns must all belong to one session; a graph per session, built once. */
function encoderSelector(model: EncoderModel | EncoderEnsemble, neurons: readonly NeuronRef[]): NeuronSelector {
  const first = new Map<string, number>();
  neurons.forEach((n, c) => first.has(n.session) || first.set(n.session, c));
  const graphs = new Map<string, Graph>();
  return (columns) => {
    if (columns.length === 0 || columns.some((c) => !Number.isInteger(c) || c < 0 || c >= neurons.length)) return undefined;
    const session = neurons[columns[0]].session;
    if (columns.some((c) => neurons[c].session !== session)) return undefined;
    let graph = graphs.get(session);
    if (!graph) graphs.set(session, (graph = encoderGraph(model, { sessions: [session], select: true }).graph));
    return { graph, rows: columns.map((c) => c - first.get(session)!) };
  };
}

/** Loads a model folder (ours) or a compact model file/folder; `session` picks our readout. */
export async function loadScoringModel(path: string, options: { sessions?: readonly string[]; compactSession?: string; compactNeurons?: readonly number[] } = {}): Promise<ScoringModel> {
  if (isCompactModel(path)) {
    const compact: CompactModel = await loadCompactModel(path, { neurons: options.compactNeurons });
    // compact/<session>/neuronK.safetensors or compact/<session>
    const parts = path.replace(/\/+$/, '').split('/');
    const session = options.compactSession ?? (parts.at(-1)!.endsWith('.safetensors') ? parts.at(-2) : parts.at(-1)) ?? 'compact';
    return {
      name: path,
      kind: 'compact',
      input: { channels: 3, height: COMPACT_IMAGE_SIZE, width: COMPACT_IMAGE_SIZE },
      neurons: compact.neurons.map((neuron) => ({ session, neuron })),
      graph: compact.graph,
      fromPixels: (x) => x, // the graph subtracts its channel means itself
      toPixels: (x) => x,
    };
  }
  if (await isOnnxModelDir(path)) return onnxScoringModel(path, await loadOnnxModel(path));
  const model = await loadModel(path);
  const { graph, neurons } = encoderGraph(model, { sessions: options.sessions });
  const spec = membersOf(model)[0].spec;
  const { mean, std } = spec.input;
  return {
    name: path,
    kind: 'encoder',
    input: { channels: 1, height: spec.input.height, width: spec.input.width },
    neurons,
    graph,
    fromPixels: (x) => div(sub(x, mean), std),
    toPixels: (x) => add(mul(x, std), mean),
    encoder: model,
    select: encoderSelector(model, neurons),
    standardization: { mean, std },
  };
}

function onnxScoringModel(path: string, onnx: OnnxEncoder): ScoringModel {
  const { channels, height, width, mean, std } = onnx.meta.input;
  const average = (v: readonly number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  return {
    name: path,
    kind: 'onnx',
    input: { channels: channels as 1 | 3, height, width },
    neurons: onnx.neurons,
    graph: onnx.graph,
    fromPixels: (x) => div(sub(x, channelConstant(x.graph, mean)), channelConstant(x.graph, std)),
    toPixels: (x) => add(mul(x, channelConstant(x.graph, std)), channelConstant(x.graph, mean)),
    onnx,
    standardization: { mean: average(mean), std: average(std) },
  };
}

/**
 * The grayscale input space a generator's synthesis and its natural candidates live in: our
 * encoders' own; for other models their size, the whole image resized, and their standardization.
 */
export function synthesisInput(model: ScoringModel): InputSpec {
  if (model.encoder) return membersOf(model.encoder)[0].spec.input;
  if (!model.standardization) throw new Error(`${model.name} takes pixels without a standardization: it cannot generate`);
  return { height: model.input.height, width: model.input.width, fit: 'resize', ...model.standardization };
}

/**
 * A graph that scores pixel-space images [batch, C, H, W] with `model`: grayscale (plain mean of
 * R, G, B) or gray replicated to RGB, bilinear resize (align_corners=False, no antialias) to the
 * model's size, its standardization, then the model.
 */
export function pixelScoringGraph(model: ScoringModel, pixels: InputSpace): Graph {
  const g = new Graph(`score_${model.kind}`);
  let x: Value = g.input('pixels', 'float32', ['batch', pixels.channels, pixels.height, pixels.width]);
  if (pixels.channels === 3 && model.input.channels === 1) x = reduceMean(x, [1], true);
  if (pixels.channels === 1 && model.input.channels === 3) x = concat([x, x, x], 1);
  if (pixels.height !== model.input.height || pixels.width !== model.input.width) {
    x = resize(x, { size: [model.input.height, model.input.width], mode: 'linear', coordinateTransform: 'half_pixel' });
  }
  const image = model.fromPixels(x);
  // splice the model's nodes in: rebuild by evaluating its graph over `image`
  g.output(inline(model.graph, image), 'rates');
  return g;
}

/** Copies `source`'s nodes into image's graph with `source`'s input `image` bound to `image` (and other inputs to `inputs`). */
export function inline(source: Graph, image: Value, inputs: Record<string, Value> = {}): Value {
  const g = image.graph;
  const map = new Map<Value, Value>();
  map.set(source.value('image'), image);
  for (const [name, v] of Object.entries(inputs)) map.set(source.value(name), v);
  for (const v of source.inputs) if (!map.has(v)) throw new Error(`inlining graph "${source.name}": its input "${v.name}" is not bound`);
  for (const w of source.weights.values()) map.set(w, g.weights.get(w.name) ?? g.weight(w.name, w.data!));
  for (const c of source.constants) map.set(c, g.constant(c.data!, 'const'));
  for (const n of source.nodes) {
    const outs = g.node(n.opType, n.inputs.map((i) => (i ? map.get(i)! : undefined)), { ...n.attrs }, { name: n.name, outputs: n.outputs.length });
    n.outputs.forEach((o, k) => map.set(o, outs[k]));
  }
  return map.get(source.outputs.find((o) => o.name === 'rates')!)!;
}

