/** Layers composed from ONNX primitives. */
export { silu } from './activation.ts';
export { scaledDotProductAttention } from './attention.ts';
export { batchNorm, groupNorm, layerNorm, standardize } from './normalization.ts';
