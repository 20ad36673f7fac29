/**
 * Encoders: a data-driven core shared by all sessions, one readout per recording session
 * (attention or Gaussian), and the input space they were trained in. `EncoderSpec` is what a
 * model directory's model.json records; `buildEncoder` turns it and the weights into a graph.
 */
import type { Graph, Value } from '../onnx/graph.ts';
import { type NdArray, int64 } from '../onnx/ndarray.ts';
import { concat } from '../onnx/ops/concat-split.ts';
import { cast, equal, mul } from '../onnx/ops/elementwise.ts';
import { reduceSum } from '../onnx/ops/reduce.ts';
import { unsqueeze } from '../onnx/ops/reshape.ts';
import { type AttentionReadoutConfig, attentionReadout } from './attention-readout.ts';
import { type CoreOutput, type DataDrivenCoreConfig, dataDrivenCore } from './data-driven-core.ts';
import { type GaussianReadoutConfig, gaussianReadout } from './gaussian-readout.ts';
import { Parameters } from './parameters.ts';
import type { LaplaceStencil } from './regularizers.ts';

export type ReadoutSpec =
  | ({
      type: 'attention';
      dropout: number;
      /** L1 weight on the feature weights w (and on the queries unless queryL1 is given) */
      l1: number;
      /** L1 weight on the queries (default: l1) */
      queryL1?: number;
      /**
       * weight of the attention entropy penalty (training only; absent: 0): each neuron's entropy
       * of its attention over the map, in nats, summed over the batch and scaled like the Poisson
       * loss, so that the readout prefers to attend to a small part of the map
       */
      entropy?: number;
    } & Omit<AttentionReadoutConfig, 'neurons'>)
  | ({ type: 'gaussian'; l1: number } & Omit<GaussianReadoutConfig, 'neurons'>);

export interface InputSpec {
  /** model input: one grayscale channel of height x width, standardized */
  height: number;
  width: number;
  /** how images reach it: 'resize' the whole image, or 'crop' its center */
  fit: 'resize' | 'crop';
  /** standardization of grayscale pixels in 0..255: (p - mean) / std */
  mean: number;
  std: number;
}

export interface SessionSpec {
  id: string;
  /** rows of the session's responses.npy this readout predicts, in output order */
  neurons: number[];
}

export interface EncoderSpec {
  /** laplaceStencil: which 3x3 Laplacian the smoothness penalty uses (absent: 9, the first recipe's) */
  core: DataDrivenCoreConfig & { laplace: number; laplaceStencil?: LaplaceStencil };
  readout: ReadoutSpec;
  input: InputSpec;
  sessions: SessionSpec[];
}

/** The paper's scale (the `paper` preset, docs/encoders.md). */
export const PAPER_ENCODER: Omit<EncoderSpec, 'sessions' | 'input'> & { input: Omit<InputSpec, 'mean' | 'std'> } = {
  core: { inputChannels: 1, channels: 96, layers: 5, inputKernel: 9, hiddenKernel: 5, batchNormEps: 1e-5, laplace: 10 },
  readout: { type: 'attention', keyDim: 128, dropout: 0.1, l1: 1 },
  input: { height: 100, width: 100, fit: 'resize' },
};

/**
 * A preset that trains on a 2-core CPU: the whole 112x112 image resized to 40x40, 32 channels,
 * 4 layers. On two V4 sessions, 40x40, 48x48 and 56x56 inputs reached the same validation r after
 * 6 epochs (0.40, 0.38, 0.38); 40x40 trains 2.3x faster than 56x56.
 */
export const DEMO_ENCODER: typeof PAPER_ENCODER = {
  core: { inputChannels: 1, channels: 32, layers: 4, inputKernel: 9, hiddenKernel: 5, batchNormEps: 1e-5, laplace: 10 },
  readout: { type: 'attention', keyDim: 32, dropout: 0.1, l1: 1 },
  input: { height: 40, width: 40, fit: 'resize' },
};

/** A second, different core for the cross-architecture ("cross") models: 7x7 input, 3x3 separable layers. */
export const DEMO_ALT_ENCODER: typeof PAPER_ENCODER = {
  core: { inputChannels: 1, channels: 32, layers: 4, inputKernel: 7, hiddenKernel: 3, batchNormEps: 1e-5, laplace: 10 },
  readout: { type: 'attention', keyDim: 32, dropout: 0.1, l1: 1 },
  input: { height: 40, width: 40, fit: 'resize' },
};

export const readoutPrefix = (session: string) => `readout.${session}`;

export interface BuildOptions {
  /** training graph: batch statistics in the core, dropout masks / position noise in readouts */
  training?: boolean;
  /** the core in training mode (default: `training`); false for a frozen core */
  coreTraining?: boolean;
  /** weights by name (absent: initialized from `seed`) */
  weights?: ReadonlyMap<string, NdArray>;
  seed?: number;
  /** graph weight names get this prefix (several ensemble members in one graph) */
  prefix?: string;
  /** only these sessions' readouts (default: all) */
  sessions?: readonly string[];
  /** attention readouts: receives each session's attention weights [N, neurons, H*W] */
  onAttention?: (session: string, attention: Value) => void;
  /**
   * inference with one session: one of its neurons per image (int64 [N], rows of its readout), and
   * rates [N, 1] of only those (an attention readout computes only them; a Gaussian one picks its column)
   */
  select?: Value;
}

export interface BuiltReadouts {
  /** rates [N, neurons of the session] per session */
  rates: Map<string, Value>;
  /** training inputs the graph declared per session: dropout masks (attention) or position noise (Gaussian) */
  noiseInputs: Map<string, Value>;
}

export interface BuiltEncoder extends BuiltReadouts {
  core: CoreOutput;
  params: Parameters;
}

/** The readouts of the spec's sessions on core features [N, C, H, W]. */
export function buildReadouts(features: Value, params: Parameters, spec: EncoderSpec, options: BuildOptions = {}): BuiltReadouts {
  const g = features.graph;
  const training = options.training ?? false;
  const [N, C, H, W] = features.shape;
  const rates = new Map<string, Value>();
  const noiseInputs = new Map<string, Value>();
  const { select } = options;
  if (select && (training || spec.sessions.filter((s) => !options.sessions || options.sessions.includes(s.id)).length !== 1)) throw new Error('selecting neurons needs an inference graph of one session');
  for (const session of spec.sessions) {
    if (options.sessions && !options.sessions.includes(session.id)) continue;
    const prefix = readoutPrefix(session.id);
    const neurons = session.neurons.length;
    const r = spec.readout;
    if (r.type === 'attention') {
      let dropoutMask: Value | undefined;
      if (training && r.dropout > 0) {
        dropoutMask = g.input(`${params.prefix}${prefix}.dropout_mask`, features.dtype, [N, C, H, W]);
        noiseInputs.set(session.id, dropoutMask);
      }
      rates.set(session.id, attentionReadout(features, params, { neurons, keyDim: r.keyDim, init: r.init, positionScale: r.positionScale }, { dropoutMask, select, onAttention: options.onAttention && ((a) => options.onAttention!(session.id, a)) }, prefix));
    } else {
      let noise: Value | undefined;
      if (training) {
        noise = g.input(`${params.prefix}${prefix}.noise`, features.dtype, [N, neurons, 2]);
        noiseInputs.set(session.id, noise);
      }
      const all = gaussianReadout(features, params, { neurons, initSigma: r.initSigma }, { noise }, prefix);
      rates.set(session.id, select ? selectColumns(all, select) : all);
    }
  }
  return { rates, noiseInputs };
}

/** Column select[i] of row i of rates [N, n]: [N, 1] (a one-hot product, so gradients flow as through the full rates). */
function selectColumns(rates: Value, select: Value): Value {
  const n = rates.shape[1] as number;
  const columns = rates.graph.constant(int64([n], Array.from({ length: n }, (_, i) => i)), 'columns');
  const oneHot = cast(equal(unsqueeze(select, [1]), columns), rates.dtype); // [N, n]
  return reduceSum(mul(oneHot, rates), [1], true);
}

/** Builds core and readouts into `g` from standardized images [N, 1, H, W]. */
export function buildEncoder(g: Graph, image: Value, spec: EncoderSpec, options: BuildOptions = {}): BuiltEncoder {
  const params = new Parameters(g, options.weights, options.seed ?? 0, options.prefix ?? '');
  const core = dataDrivenCore(image, params, spec.core, { training: options.coreTraining ?? options.training ?? false, prefix: 'core' });
  return { core, params, ...buildReadouts(core.features, params, spec, options) };
}

/** All sessions' rates side by side [N, total neurons], in spec order. */
export function allRates(built: BuiltReadouts, spec: EncoderSpec): Value {
  const parts = spec.sessions.filter((s) => built.rates.has(s.id)).map((s) => built.rates.get(s.id)!);
  return parts.length === 1 ? parts[0] : concat(parts, 1);
}

/** Output nonlinearity inverse at a mean rate: the readout bias that predicts `rate` everywhere. */
export function biasForRate(readout: ReadoutSpec['type'], rate: number): number {
  // attention: rate = ELU(y) + 1; Gaussian: rate = ELU(y - 1) + 1
  const z = rate >= 1 ? rate - 1 : Math.log(Math.max(rate, 1e-3));
  return readout === 'attention' ? z : z + 1;
}
