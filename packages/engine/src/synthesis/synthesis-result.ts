/** What every synthesis method returns, and the (neuron, seed) pairs that MEI methods batch. */
import type { NdArray } from '../onnx/ndarray.ts';
import type { SynthesisMethod } from './progress.ts';

/** One image to synthesize: the neuron (a column of the encoder's rates) and the seed of its start and noise. */
export interface SynthesisItem {
  neuron: number;
  seed: number;
}

export interface SynthesisResult {
  method: SynthesisMethod;
  /** the result in the space the method ran in: the prior's [B, C_p, S_p, S_p] (diffusion) or the encoder's (GA) */
  images: NdArray<Float32Array>;
  /** what the encoder saw of each result, standardized [B, C_e, H_e, W_e] (GA: the images themselves) */
  encoderImages: NdArray<Float32Array>;
  /** the energy and the activation of each result */
  energy: Float32Array;
  activation: Float32Array;
  seeds: number[];
  steps: number;
  seconds: number;
  /** top-k: the candidate row of each image */
  sourceIndices?: number[];
}
