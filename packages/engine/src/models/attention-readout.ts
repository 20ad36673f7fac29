/**
 * The attention readout (docs/encoders.md): each neuron attends over the positions of the core's
 * feature map with its own query, and reads out a linear function of the attended values.
 */
import type { Value } from '../onnx/graph.ts';
import { fromNumbers } from '../onnx/ndarray.ts';
import { add, elu, mul } from '../onnx/ops/elementwise.ts';
import { matmul } from '../onnx/ops/matmul.ts';
import { reduceSum } from '../onnx/ops/reduce.ts';
import { gather } from '../onnx/ops/gather.ts';
import { reshape, unsqueeze } from '../onnx/ops/reshape.ts';
import { softmax } from '../onnx/ops/softmax.ts';
import { split } from '../onnx/ops/concat-split.ts';
import { transposeLast2 } from '../onnx/ops/transpose.ts';
import { type Parameters, constant, normal } from './parameters.ts';

export interface AttentionReadoutConfig {
  neurons: number;
  /** D: key/value dimension (paper 128) */
  keyDim: number;
  /**
   * Initial queries and feature weights: 'normal' (std 1/sqrt(D), excite's first recipe) or
   * 'constant' (every entry 1/C, C the core's channels, as the paper's code). Training only.
   */
  init?: 'normal' | 'constant';
  /**
   * Amplitude of the position code added to the core's map (absent: 1, the paper's). Larger
   * values let a neuron's query select positions over the map's content.
   */
  positionScale?: number;
}

/**
 * Fixed 2-D sinusoidal position code [C, H, W]: channels [0, C/2) encode the row, [C/2, C) the
 * column; pair i has frequency 10000^(-2i/(C/2)), sin on even channels and cos on odd ones.
 */
export function positionCode(C: number, H: number, W: number): Float64Array {
  if (C % 4 !== 0) throw new Error(`the position code needs channels divisible by 4, got ${C}`);
  const half = C / 2;
  const out = new Float64Array(C * H * W);
  for (let c = 0; c < C; c++) {
    const local = c % half;
    const freq = 10000 ** (-(2 * Math.floor(local / 2)) / half);
    const trig = local % 2 === 0 ? Math.sin : Math.cos;
    for (let r = 0; r < H; r++)
      for (let s = 0; s < W; s++) out[(c * H + r) * W + s] = trig((c < half ? r : s) * freq);
  }
  return out;
}

/**
 * Rates [N, neurons] = ELU(readout) + 1 from core features [N, C, H, W]. Layouts keep the long
 * position axis S = H*W last, so the softmax and its gradient reduce over contiguous memory:
 * keys and values are [N, D, S], attention logits [N, neurons, S].
 */
export interface AttentionReadoutOptions {
  /** training: inverted-dropout mask [N, C, H, W] (0 or 1/(1-p)) applied to features + position code */
  dropoutMask?: Value;
  /** receives the attention weights [N, neurons, S] */
  onAttention?: (attention: Value) => void;
  /**
   * one neuron per image (int64 [N], rows of this readout): the rates [N, 1] of only those, the
   * same arithmetic as the full readout's column (synthesis: an MEI's energy reads one neuron per
   * image, and the full readout's products over all neurons cost more than the core)
   */
  select?: Value;
}

export function attentionReadout(features: Value, p: Parameters, cfg: AttentionReadoutConfig, options: AttentionReadoutOptions = {}, prefix = 'readout'): Value {
  const g = features.graph;
  const [, C, H, W] = features.shape as [unknown, number, number, number];
  const D = cfg.keyDim;
  return g.scope(prefix, () => {
    const scale = cfg.positionScale ?? 1;
    const code = g.constant(fromNumbers(features.dtype, [C, H, W], positionCode(C, H, W).map((v) => v * scale)), 'position_code');
    let coded = add(features, code);
    if (options.dropoutMask) coded = mul(coded, options.dropoutMask);
    const f = reshape(coded, [features.shape[0], C, H * W]); // [N, C, S]
    // one linear map without bias, C -> 2D, as nn.Linear stores it: [out, in]
    const kv = matmul(p.weight(`${prefix}.kv.weight`, [2 * D, C], normal(1 / Math.sqrt(C))), f); // [N, 2D, S]
    const [keys, values] = split(kv, [D, D], 1); // [N, D, S] each
    const init = cfg.init === 'constant' ? constant(1 / C) : normal(1 / Math.sqrt(D));
    let query = p.weight(`${prefix}.query`, [cfg.neurons, D], init);
    let w = p.weight(`${prefix}.weight`, [cfg.neurons, D], init);
    let b = p.weight(`${prefix}.bias`, [cfg.neurons], constant(0));
    if (options.select) {
      // each image's own row: queries and feature weights [N, 1, D], bias [N, 1]
      query = unsqueeze(gather(query, options.select, 0), [1]);
      w = unsqueeze(gather(w, options.select, 0), [1]);
      b = unsqueeze(gather(b, options.select, 0), [1]);
    }
    const logits = mul(matmul(query, keys), 1 / Math.sqrt(C)); // [N, neurons or 1, S]
    const attention = softmax(logits, -1);
    options.onAttention?.(attention);
    const attended = matmul(attention, transposeLast2(values)); // [N, neurons or 1, D]
    const y = add(reduceSum(mul(attended, w), [2], false), b);
    return add(elu(y), 1);
  });
}
