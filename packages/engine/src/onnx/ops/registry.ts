/** All operator definitions the graph builder knows, by ONNX op type. */
import type { OpDef } from '../op.ts';
import { AVERAGE_POOL_OPS } from './average-pool.ts';
import { CONCAT_SPLIT_OPS } from './concat-split.ts';
import { CONV_OPS } from './conv.ts';
import { EINSUM_OPS } from './einsum.ts';
import { ELEMENTWISE_OPS } from './elementwise.ts';
import { EXPAND_OPS } from './expand.ts';
import { FILL_OPS } from './fill.ts';
import { GATHER_OPS } from './gather.ts';
import { GLOBAL_POOL_OPS } from './global-pool.ts';
import { MATMUL_OPS } from './matmul.ts';
import { MAX_POOL_OPS } from './max-pool.ts';
import { NORMALIZATION_OPS } from './normalization.ts';
import { PAD_OPS } from './pad.ts';
import { REDUCE_OPS } from './reduce.ts';
import { RESHAPE_OPS } from './reshape.ts';
import { RESIZE_OPS } from './resize.ts';
import { SCATTER_ELEMENTS_OPS } from './scatter-elements.ts';
import { SLICE_OPS } from './slice.ts';
import { SOFTMAX_OPS } from './softmax.ts';
import { TRANSPOSE_OPS } from './transpose.ts';
import { VARIADIC_OPS } from './variadic.ts';

let registry: Map<string, OpDef> | undefined;

function build(): Map<string, OpDef> {
  const all = [
    ...ELEMENTWISE_OPS,
    ...VARIADIC_OPS,
    ...REDUCE_OPS,
    ...RESHAPE_OPS,
    ...EXPAND_OPS,
    ...TRANSPOSE_OPS,
    ...CONCAT_SPLIT_OPS,
    ...SLICE_OPS,
    ...PAD_OPS,
    ...GATHER_OPS,
    ...MATMUL_OPS,
    ...SOFTMAX_OPS,
    ...CONV_OPS,
    ...AVERAGE_POOL_OPS,
    ...RESIZE_OPS,
    ...MAX_POOL_OPS,
    ...GLOBAL_POOL_OPS,
    ...SCATTER_ELEMENTS_OPS,
    ...FILL_OPS,
    ...NORMALIZATION_OPS,
    ...EINSUM_OPS,
  ];
  const map = new Map<string, OpDef>();
  for (const def of all) {
    if (map.has(def.opType)) throw new Error(`operator ${def.opType} is defined twice`);
    map.set(def.opType, def);
  }
  return map;
}

export function lookupOp(opType: string): OpDef | undefined {
  registry ??= build();
  return registry.get(opType);
}

export function registeredOps(): string[] {
  registry ??= build();
  return [...registry.keys()];
}
