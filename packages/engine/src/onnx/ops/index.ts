/** The typed op builders: each adds one ONNX node and returns its output value(s). */
export { averagePool } from './average-pool.ts';
export { concat, split } from './concat-split.ts';
export { conv, convTranspose, convWeightGrad } from './conv.ts';
export * from './elementwise.ts';
export { expand, expandTo } from './expand.ts';
export { gather } from './gather.ts';
export { gemm, matmul } from './matmul.ts';
export { pad } from './pad.ts';
export { reduceMax, reduceMean, reduceSum } from './reduce.ts';
export { flatten, reshape, reshapeLike, shapeOf, sizeOf, squeeze, unsqueeze } from './reshape.ts';
export { resize } from './resize.ts';
export { slice } from './slice.ts';
export { softmax } from './softmax.ts';
export { transpose, transposeLast2 } from './transpose.ts';
export { max, min, sum } from './variadic.ts';
export { unbroadcast } from './broadcast.ts';
