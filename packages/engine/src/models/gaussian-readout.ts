/**
 * The Gaussian readout (docs/encoders.md): each neuron reads the core's feature vector at one
 * learned position mu_n in [-1, 1]^2 (bilinear, align_corners=True, zero outside), sampled around
 * mu_n with a learned spread sigma_n in training. Bilinear sampling is composed from primitives:
 * the weight of pixel i for a point at p is the tent max(0, 1 - |p - i|), separable in rows and
 * columns, so the map is sum_ij tent_y(i) F[c, i, j] tent_x(j) and its gradient with respect to
 * the position comes from the Abs and Relu rules.
 */
import type { Value } from '../onnx/graph.ts';
import { fromNumbers } from '../onnx/ndarray.ts';
import { abs, add, elu, mul, relu, sub } from '../onnx/ops/elementwise.ts';
import { matmul } from '../onnx/ops/matmul.ts';
import { reduceSum } from '../onnx/ops/reduce.ts';
import { reshape, unsqueeze } from '../onnx/ops/reshape.ts';
import { split } from '../onnx/ops/concat-split.ts';
import { transpose } from '../onnx/ops/transpose.ts';
import { type Parameters, constant, normal } from './parameters.ts';

export interface GaussianReadoutConfig {
  neurons: number;
  /** initial spread of the sampling positions in training (in [-1, 1] units) */
  initSigma: number;
}

export interface GaussianReadoutOptions {
  /** training: positions mu + sigma * noise, with noise [N, neurons, 2] fed per batch */
  noise?: Value;
}

/** Tent weights [.., neurons, size] of grid points 0..size-1 for coordinates [.., neurons] in [-1, 1]. */
function tent(coordinate: Value, size: number): Value {
  const g = coordinate.graph;
  const pixel = mul(add(coordinate, 1), (size - 1) / 2); // align_corners=True
  const grid = g.constant(fromNumbers(coordinate.dtype, [size], Array.from({ length: size }, (_, i) => i)), 'grid');
  return relu(sub(1, abs(sub(unsqueeze(pixel, [coordinate.rank]), grid))));
}

/** Rates [N, neurons] = ELU(y - 1) + 1 from core features [N, C, H, W]. */
export function gaussianReadout(features: Value, p: Parameters, cfg: GaussianReadoutConfig, options: GaussianReadoutOptions = {}, prefix = 'readout'): Value {
  const g = features.graph;
  const [N, C, H, W] = features.shape as [unknown, number, number, number];
  return g.scope(prefix, () => {
    const mu = p.weight(`${prefix}.mu`, [cfg.neurons, 2], normal(0.1)); // (x, y) per neuron
    let position: Value = mu; // [neurons, 2] or [N, neurons, 2]
    if (options.noise) position = add(mu, mul(options.noise, p.weight(`${prefix}.sigma`, [cfg.neurons, 1], constant(cfg.initSigma))));
    else p.weight(`${prefix}.sigma`, [cfg.neurons, 1], constant(cfg.initSigma)); // kept with the model
    const [x, y] = split(position, [1, 1], position.rank - 1).map((v) => reshape(v, position.rank === 2 ? [cfg.neurons] : [N as number, cfg.neurons]));
    const tx = tent(x, W); // [(N,) neurons, W]
    const ty = tent(y, H); // [(N,) neurons, H]
    // columns: [N, C*H, W] @ [(N,) W, neurons] -> [N, C, H, neurons]
    const cols = reshape(matmul(reshape(features, [N as number, C * H, W]), transpose(tx, tx.rank === 2 ? [1, 0] : [0, 2, 1])), [N as number, C, H, cfg.neurons]);
    // rows: weight each row i by ty and sum over H -> [N, C, neurons]
    const rowWeights = tx.rank === 2 ? reshape(transpose(ty, [1, 0]), [1, 1, H, cfg.neurons]) : unsqueeze(transpose(ty, [0, 2, 1]), [1]);
    const sampled = reduceSum(mul(cols, rowWeights), [2], false); // [N, C, neurons]
    const w = p.weight(`${prefix}.weight`, [cfg.neurons, C], normal(1 / C));
    const b = p.weight(`${prefix}.bias`, [cfg.neurons], constant(0));
    const yOut = add(reduceSum(mul(transpose(sampled, [0, 2, 1]), w), [2], false), b);
    return add(elu(sub(yOut, 1)), 1);
  });
}
