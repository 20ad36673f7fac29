/**
 * The data-driven convolutional core of the paper (docs/encoders.md): a 9x9 input convolution, then
 * depth-separable layers (1x1, depthwise 5x5, 1x1), each followed by batch norm and ELU.
 */
import type { Value } from '../onnx/graph.ts';
import { conv } from '../onnx/ops/conv.ts';
import { elu } from '../onnx/ops/elementwise.ts';
import { batchNorm } from '../nn/normalization.ts';
import { type Parameters, constant, heNormal } from './parameters.ts';

export interface DataDrivenCoreConfig {
  inputChannels: number;
  channels: number;
  /** total layers, the first being the input convolution */
  layers: number;
  inputKernel: number;
  hiddenKernel: number;
  batchNormEps: number;
}

/** The paper's scale: 96 channels, 5 layers, 9x9 then separable 5x5. */
export const PAPER_CORE: DataDrivenCoreConfig = { inputChannels: 1, channels: 96, layers: 5, inputKernel: 9, hiddenKernel: 5, batchNormEps: 1e-5 };

export interface CoreOutput {
  features: Value;
  /** per batch-norm layer, the batch statistics (training only) for the running averages */
  batchStats: { name: string; mean: Value; variance: Value }[];
}

export function dataDrivenCore(x: Value, p: Parameters, cfg: DataDrivenCoreConfig, options: { training: boolean; prefix?: string }): CoreOutput {
  const prefix = options.prefix ?? 'core';
  const C = cfg.channels;
  const batchStats: CoreOutput['batchStats'] = [];
  const normAct = (h: Value, name: string) => {
    const bn = batchNorm(
      h,
      {
        gamma: p.weight(`${name}.bn.weight`, [C], constant(1)),
        beta: p.weight(`${name}.bn.bias`, [C], constant(0)),
        runningMean: p.buffer(`${name}.bn.running_mean`, [C], constant(0)),
        runningVar: p.buffer(`${name}.bn.running_var`, [C], constant(1)),
      },
      { training: options.training, eps: cfg.batchNormEps },
    );
    if (bn.mean && bn.variance) batchStats.push({ name: `${name}.bn`, mean: bn.mean, variance: bn.variance });
    return elu(bn.y);
  };
  const g = x.graph;
  let h = g.scope(`${prefix}.0`, () => normAct(conv(x, p.weight(`${prefix}.0.conv.weight`, [C, cfg.inputChannels, cfg.inputKernel, cfg.inputKernel], heNormal)), `${prefix}.0`));
  for (let l = 1; l < cfg.layers; l++) {
    const name = `${prefix}.${l}`;
    const k = cfg.hiddenKernel;
    h = g.scope(name, () => {
      let s = conv(h, p.weight(`${name}.pointwise_in.weight`, [C, C, 1, 1], heNormal));
      const pad = (k - 1) / 2;
      s = conv(s, p.weight(`${name}.depthwise.weight`, [C, 1, k, k], heNormal), undefined, { group: C, pads: [pad, pad, pad, pad] });
      s = conv(s, p.weight(`${name}.pointwise_out.weight`, [C, C, 1, 1], heNormal));
      return normAct(s, name);
    });
  }
  return { features: h, batchStats };
}
