/**
 * Tiny random-weight models for the synthesis tests: an attention-readout encoder on 12x12 inputs
 * and ADM UNets on 8x8 images, small enough for the float64 reference evaluator.
 */
import { Graph } from '../../onnx/graph.ts';
import { DEMO_ENCODER, type EncoderSpec, allRates, buildEncoder } from '../../models/encoder.ts';
import { SMALL_UNET, type UNetConfig, unetGraph } from '../../models/unet.ts';
import type { SynthesisEncoder } from '../synthesis-encoder.ts';
import type { SynthesisPrior } from '../synthesis-prior.ts';

export const TINY_ENCODER_SPEC: EncoderSpec = {
  ...DEMO_ENCODER,
  core: { ...DEMO_ENCODER.core, channels: 4, layers: 2, inputKernel: 5, hiddenKernel: 3 },
  readout: { type: 'attention', keyDim: 4, dropout: 0.1, l1: 1 },
  input: { height: 12, width: 12, fit: 'resize', mean: 100, std: 50 },
  sessions: [{ id: 's1', neurons: [0, 1, 2] }],
};

/** Three neurons on 12x12 standardized grayscale images (with seed 1, neuron 0 is nearly silent: tests that need a responsive neuron use 1 and 2). */
export function tinyEncoder(seed = 1, spec: EncoderSpec = TINY_ENCODER_SPEC): SynthesisEncoder {
  const g = new Graph('encoder');
  const image = g.input('image', 'float32', ['batch', 1, spec.input.height, spec.input.width]);
  g.output(allRates(buildEncoder(g, image, spec, { seed }), spec), 'rates');
  return { graph: g, input: { channels: 1, height: spec.input.height, width: spec.input.width } };
}

/** 8x8, two levels, attention at 4x4, ADM's settings otherwise (FiLM, res-block resampling). */
export const TINY_UNET: UNetConfig = { ...SMALL_UNET, imageSize: 8, inChannels: 1, modelChannels: 8, channelMult: [1, 2], attentionResolutions: [4], numHeadChannels: 4, normGroups: 4 };

export function tinyPrior(seed = 2, cfg: UNetConfig = TINY_UNET): SynthesisPrior {
  const { graph } = unetGraph(cfg, { seed });
  return {
    unet: cfg,
    weights: new Map([...graph.weights].map(([name, w]) => [name, w.data!])),
    imageSize: cfg.imageSize,
    channels: cfg.inChannels,
    variance: cfg.learnSigma ? 'learned-range' : 'fixed-large',
  };
}
