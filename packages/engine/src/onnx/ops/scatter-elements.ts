/**
 * ScatterElements: a copy of data with the elements at `indices` along one axis replaced by (or,
 * with reduction 'add', increased by) `updates`. Reference and shape inference only: no backward
 * rule (MaxPool's gradient, once planned through it, uses one-hot window kernels instead, since
 * onnxruntime's WebGPU provider cannot give MaxPool's Indices).
 */
import type { Value } from '../graph.ts';
import { isFloat } from '../ndarray.ts';
import { type AttrSchema, type OpDef, defineOp } from '../op.ts';
import { ref } from '../reference.ts';
import { dimEquals, normalizeAxis, strides } from '../shape.ts';

const SCATTER_ATTRS = {
  axis: { type: 'int', default: 0 },
  reduction: { type: 'string', default: 'none' },
} as const satisfies AttrSchema;

export type ScatterReduction = 'none' | 'add';

export function scatterElements(data: Value, indices: Value, updates: Value, axis = 0, reduction: ScatterReduction = 'none'): Value {
  return data.graph.node('ScatterElements', [data, indices, updates], { axis, reduction })[0];
}

export const SCATTER_ELEMENTS_OPS: OpDef[] = [
  defineOp({
    opType: 'ScatterElements',
    attrs: SCATTER_ATTRS,
    infer([data, indices, updates], attrs) {
      if (!data || !indices || !updates) throw new Error('needs data, indices and updates');
      if (isFloat(indices.dtype) || indices.dtype === 'bool') throw new Error(`indices must be int32 or int64, got ${indices.dtype}`);
      if (updates.dtype !== data.dtype) throw new Error(`updates (${updates.dtype}) must have data's type ${data.dtype}`);
      if (indices.rank !== data.rank || updates.rank !== data.rank) throw new Error('data, indices and updates must have one rank');
      if (!indices.shape.every((d, i) => dimEquals(d, updates.shape[i]))) throw new Error(`indices [${indices.shape}] and updates [${updates.shape}] must have one shape`);
      if (attrs.reduction !== 'none' && attrs.reduction !== 'add') throw new Error(`reduction "${attrs.reduction}" is not supported (none, add)`);
      const axis = normalizeAxis(attrs.axis, data.rank);
      return { outputs: [{ dtype: data.dtype, shape: data.shape }], attrs: { ...attrs, axis } };
    },
    evaluate([data, indices, updates], attrs) {
      const out = ref(data!.dtype, data!.shape, data!.data);
      const { axis } = attrs;
      const rank = data!.shape.length;
      const dataStrides = strides(data!.shape);
      const shape = indices!.shape;
      const idx = new Array<number>(rank).fill(0);
      const n = data!.shape[axis];
      for (let flat = 0; flat < indices!.data.length; flat++) {
        let at = indices!.data[flat];
        if (at < 0) at += n;
        if (at < 0 || at >= n) throw new Error(`index ${indices!.data[flat]} out of range for axis of size ${n}`);
        let off = 0;
        for (let d = 0; d < rank; d++) off += (d === axis ? at : idx[d]) * dataStrides[d];
        out.data[off] = attrs.reduction === 'add' ? out.data[off] + updates!.data[flat] : updates!.data[flat];
        for (let d = rank - 1; d >= 0; d--) {
          if (++idx[d] < shape[d]) break;
          idx[d] = 0;
        }
      }
      return [out];
    },
  }),
];
