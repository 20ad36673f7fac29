/**
 * The published per-neuron "compact models" of macaque V4 (Cowley, Stan, Pillow & Smith, "Compact
 * deep neural network models of visual cortex", 2023; docs/formats.md, Compact model) as ONNX encoders.
 *
 * Each neuron's Keras model: conv 5x5 "same" + batch norm + ReLU, four separable layers (depthwise
 * 5x5 with strides 2, 2, 1, 1, pointwise 1x1 + bias, batch norm, ReLU) and a dense readout of the
 * flattened [28, 28, C4] map. Its weights keep Keras layouts (HWIO kernels, depthwise [k, k, C, 1],
 * dense rows in NHWC flatten order); they are permuted here once, at load time, into our NCHW
 * layouts, so the graph has no Transpose: the dense kernel's rows are reordered to NCHW flatten
 * order rather than transposing every feature map to NHWC before flattening.
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { DataFileError } from '../data/errors.ts';
import { readSafetensors } from '../data/safetensors.ts';
import { batchNorm } from '../nn/normalization.ts';
import { Graph, type Value } from '../onnx/graph.ts';
import { type NdArray, float32 } from '../onnx/ndarray.ts';
import { concat } from '../onnx/ops/concat-split.ts';
import { conv } from '../onnx/ops/conv.ts';
import { add, relu, sub } from '../onnx/ops/elementwise.ts';
import { matmul } from '../onnx/ops/matmul.ts';
import { flatten } from '../onnx/ops/reshape.ts';
import { ref, transposeRef } from '../onnx/reference.ts';

/** Input space of the compact models: RGB 112x112, 0..255 minus these channel means. */
export const COMPACT_IMAGE_SIZE = 112;
export const COMPACT_CHANNEL_MEANS = [116.222, 109.27, 100.381] as const;
/** conv0 then the four separable layers, unless a file's metadata says otherwise */
const DEFAULT_STRIDES = [1, 2, 2, 1, 1];
const DEFAULT_BN_EPS = 1e-3;

/** One neuron's published model: Keras tensors as read from `neuronK.safetensors`. */
export interface CompactNeuron {
  /** K, the neuron's index in its session */
  id: number;
  file: string;
  tensors: ReadonlyMap<string, NdArray>;
  metadata: Readonly<Record<string, string>>;
}

export interface CompactModel {
  /** input `image` float32 [batch, 3, 112, 112] RGB 0..255; output `rates` [batch, neurons] */
  graph: Graph;
  /** the neuron K of each output column */
  neurons: number[];
}

const NEURON_FILE = /^neuron(\d+)\.safetensors$/;

export async function readCompactNeuron(file: string): Promise<CompactNeuron> {
  const match = NEURON_FILE.exec(basename(file));
  if (!match) throw new DataFileError(file, 'a compact model file is named neuronK.safetensors');
  const { tensors, metadata } = await readSafetensors(file);
  return { id: Number(match[1]), file, tensors, metadata };
}

/** Permutes the axes of a float32 array (exact: the reference arrays hold float64). */
function permute(a: NdArray, perm: readonly number[], shape?: readonly number[]): NdArray {
  const t = transposeRef(ref('float32', a.shape, a.data as Float32Array), perm);
  return float32(shape ?? t.shape, t.data);
}

/**
 * Output size of TensorFlow's "same" padding, ceil(n / stride). TensorFlow pads max((ceil(n/s) - 1)
 * s + k - n, 0) in total, the smaller half first: exactly ONNX's auto_pad SAME_UPPER.
 */
const sameSize = (n: number, stride: number) => Math.ceil(n / stride);

/** Reads a neuron's Keras tensors, checking each against the architecture. */
class KerasTensors {
  constructor(private readonly neuron: CompactNeuron) {}

  get(name: string, shape: readonly (number | undefined)[]): NdArray {
    const t = this.neuron.tensors.get(name);
    if (!t) throw new DataFileError(this.neuron.file, `has no tensor "${name}"`);
    if (t.dtype !== 'float32') throw new DataFileError(this.neuron.file, `tensor "${name}" is ${t.dtype}, float32 was expected`);
    if (t.shape.length !== shape.length || shape.some((d, i) => d !== undefined && d !== t.shape[i])) {
      throw new DataFileError(this.neuron.file, `tensor "${name}" has shape [${t.shape}], expected [${shape.map((d) => d ?? '?')}]`);
    }
    return t;
  }

  /** Strides of conv0 and the separable layers, from the metadata ("1,2,2,1,1") or the paper's. */
  strides(): number[] {
    const v = this.neuron.metadata.strides;
    if (v === undefined) return DEFAULT_STRIDES;
    const strides = v.split(',').map(Number);
    if (strides.length < 2 || !strides.every((x) => Number.isInteger(x) && x > 0)) throw new DataFileError(this.neuron.file, `metadata strides="${v}" is not a list of positive integers`);
    return strides;
  }

  batchNormEps(): number {
    const v = this.neuron.metadata.bn_eps;
    const eps = v === undefined ? DEFAULT_BN_EPS : Number(v);
    if (!(eps > 0)) throw new DataFileError(this.neuron.file, `metadata bn_eps="${v}" is not a positive number`);
    return eps;
  }
}

/**
 * One neuron's rate [batch, 1] from mean-subtracted images [batch, 3, H, W]; its weights are named
 * `${prefix}.<layer>.<tensor>` in our layouts.
 */
export function compactNeuronRate(centered: Value, neuron: CompactNeuron, prefix = `neuron${neuron.id}`): Value {
  const g = centered.graph;
  const keras = new KerasTensors(neuron);
  const [strides0, ...sepStrides] = keras.strides();
  const eps = keras.batchNormEps();
  const weight = (name: string, a: NdArray) => g.weight(`${prefix}.${name}`, a);
  const normRelu = (h: Value, layer: number, channels: number) => {
    const p = (t: string) => weight(`bn${layer}.${t}`, keras.get(`bn${layer}.${t}`, [channels]));
    return relu(batchNorm(h, { gamma: p('gamma'), beta: p('beta'), runningMean: p('mean'), runningVar: p('var') }, { training: false, eps }).y);
  };

  return g.scope(prefix, () => {
    let [, , height, width] = centered.shape as [unknown, number, number, number];
    const k0 = keras.get('conv0.kernel', [undefined, undefined, centered.shape[1] as number, undefined]);
    let channels = k0.shape[3];
    let h = conv(centered, weight('conv0.weight', permute(k0, [3, 2, 0, 1])), weight('conv0.bias', keras.get('conv0.bias', [channels])), {
      strides: [strides0, strides0],
      auto_pad: 'SAME_UPPER',
    });
    [height, width] = [sameSize(height, strides0), sameSize(width, strides0)];
    h = normRelu(h, 0, channels);

    sepStrides.forEach((s, i) => {
      const L = i + 1;
      const depthwise = keras.get(`sep${L}.depthwise`, [undefined, undefined, channels, 1]);
      const pointwise = keras.get(`sep${L}.pointwise`, [1, 1, channels, undefined]);
      const out = pointwise.shape[3];
      // depthwise [k, k, C, 1] -> [C, 1, k, k]: a grouped convolution with one group per channel
      h = conv(h, weight(`sep${L}.depthwise`, permute(depthwise, [2, 3, 0, 1])), undefined, { strides: [s, s], auto_pad: 'SAME_UPPER', group: channels });
      h = conv(h, weight(`sep${L}.pointwise`, permute(pointwise, [3, 2, 0, 1])), weight(`sep${L}.bias`, keras.get(`sep${L}.bias`, [out])));
      [height, width, channels] = [sameSize(height, s), sameSize(width, s), out];
      h = normRelu(h, L, channels);
    });

    // dense rows are in NHWC flatten order: reorder them to NCHW [C*H*W, outputs]
    const dense = keras.get('dense.kernel', [height * width * channels, 1]);
    const rows = permute(float32([height, width, channels, 1], dense.data as Float32Array), [2, 0, 1, 3], [channels * height * width, 1]);
    return add(matmul(flatten(h, 1), weight('dense.weight', rows)), weight('dense.bias', keras.get('dense.bias', [1])));
  });
}

/** An encoder of several neurons: their rates side by side, in the given order. */
export function compactEncoder(neurons: readonly CompactNeuron[], name = 'compact'): CompactModel {
  if (neurons.length === 0) throw new Error('a compact encoder needs at least one neuron');
  const g = new Graph(name);
  const image = g.input('image', 'float32', ['batch', 3, COMPACT_IMAGE_SIZE, COMPACT_IMAGE_SIZE]);
  const centered = sub(image, g.constant(float32([1, 3, 1, 1], COMPACT_CHANNEL_MEANS), 'channel_means'));
  const rates = neurons.map((n) => compactNeuronRate(centered, n));
  g.output(rates.length === 1 ? rates[0] : concat(rates, 1), 'rates');
  return { graph: g, neurons: neurons.map((n) => n.id) };
}

/**
 * Loads `neuronK.safetensors` as a one-neuron encoder, or a session folder of them as one encoder
 * whose columns are the neurons in order of K (only the neurons `options.neurons` names, when
 * given: each neuron is its own network, so scoring 10 of 89 costs a ninth).
 */
export async function loadCompactModel(path: string, options: { neurons?: readonly number[] } = {}): Promise<CompactModel> {
  let isFolder: boolean;
  try {
    isFolder = (await stat(path)).isDirectory();
  } catch (e) {
    throw new DataFileError(path, `cannot read: ${(e as Error).message}`, { cause: e });
  }
  if (!isFolder) {
    const neuron = await readCompactNeuron(path);
    return compactEncoder([neuron], `compact_${neuron.metadata.session ?? 'model'}_neuron${neuron.id}`);
  }
  const files = (await readdir(path))
    .map((f) => ({ f, m: NEURON_FILE.exec(f) }))
    .filter((e) => e.m)
    .sort((a, b) => Number(a.m![1]) - Number(b.m![1]));
  if (files.length === 0) throw new DataFileError(path, 'holds no neuronK.safetensors files');
  let chosen = files;
  if (options.neurons) {
    const wanted = new Set(options.neurons);
    chosen = files.filter((e) => wanted.has(Number(e.m![1])));
    const missing = options.neurons.filter((k) => !chosen.some((e) => Number(e.m![1]) === k));
    if (missing.length) throw new DataFileError(path, `has no neuron${missing.join(', neuron')}.safetensors`);
  }
  const neurons = await Promise.all(chosen.map((e) => readCompactNeuron(join(path, e.f))));
  return compactEncoder(neurons, `compact_${basename(path)}`);
}
