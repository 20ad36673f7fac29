/**
 * MaxPool (2-D) with its optional Indices output. The gradient routes each output gradient to
 * the argmax of its window: MaxPool's Indices (flat offsets into x) scatter-add dy into zeros of
 * x's size, so overlapping windows that share a maximum add up.
 */
import type { Value } from '../graph.ts';
import { fromNumbers, isFloat } from '../ndarray.ts';
import { type AttrSchema, type AttrsGiven, type AttrsOf, type OpDef, defineOp } from '../op.ts';
import { ref } from '../reference.ts';
import { isStatic } from '../shape.ts';
import { constantOfShape } from './fill.ts';
import { reshape, reshapeLike, shapeOf } from './reshape.ts';
import { scatterElements } from './scatter-elements.ts';

const MAX_POOL_ATTRS = {
  auto_pad: { type: 'string', default: 'NOTSET' },
  ceil_mode: { type: 'int', default: 0 },
  dilations: { type: 'ints', default: [1, 1] },
  kernel_shape: { type: 'ints', required: true },
  pads: { type: 'ints', default: [0, 0, 0, 0] },
  storage_order: { type: 'int', default: 0 },
  strides: { type: 'ints', default: [1, 1] },
} as const satisfies AttrSchema;
type MaxPoolAttrsOf = AttrsOf<typeof MAX_POOL_ATTRS>;

/** The builder leaves out what infer rejects (auto_pad). */
export type MaxPoolAttrs = Omit<AttrsGiven<typeof MAX_POOL_ATTRS>, 'auto_pad'>;

export function maxPool(x: Value, attrs: MaxPoolAttrs): Value {
  return x.graph.node('MaxPool', [x], { ...attrs })[0];
}

/** MaxPool's output and its Indices: flat offsets into x (n, c included), row-major unless storage_order is 1. */
export function maxPoolWithIndices(x: Value, attrs: MaxPoolAttrs): [Value, Value] {
  const [y, indices] = x.graph.node('MaxPool', [x], { ...attrs }, { outputs: 2 });
  return [y, indices];
}

/**
 * Output length along one axis. With ceil_mode a last window that would start in the end padding
 * is dropped (ONNX since 1.16, as PyTorch does).
 */
export function poolOutputSize(n: number, k: number, s: number, d: number, padBegin: number, padEnd: number, ceil: boolean): number {
  const span = n + padBegin + padEnd - ((k - 1) * d + 1);
  let out = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  if (ceil && (out - 1) * s >= n + padBegin) out--;
  return out;
}

function outputSizes(H: number, W: number, a: MaxPoolAttrsOf): [number, number] {
  const { kernel_shape: k, strides: s, dilations: d, pads: p } = a;
  return [poolOutputSize(H, k[0], s[0], d[0], p[0], p[2], !!a.ceil_mode), poolOutputSize(W, k[1], s[1], d[1], p[1], p[3], !!a.ceil_mode)];
}

export const MAX_POOL_OPS: OpDef[] = [
  defineOp({
    opType: 'MaxPool',
    attrs: MAX_POOL_ATTRS,
    differentiable: [0],
    infer([x], attrs, outputs) {
      if (!x || x.rank !== 4 || !isFloat(x.dtype)) throw new Error('input must be a float [N, C, H, W] tensor (2-D pooling only)');
      if (attrs.auto_pad !== 'NOTSET') throw new Error(`auto_pad "${attrs.auto_pad}" is not supported: give explicit pads`);
      const [N, C, H, W] = x.shape;
      if (!isStatic(H) || !isStatic(W)) throw new Error('spatial dimensions must be static');
      const { kernel_shape: k, strides: s, dilations: d, pads: p } = attrs;
      if (k.length !== 2 || s.length !== 2 || d.length !== 2 || p.length !== 4) throw new Error('kernel_shape, strides and dilations need 2 entries and pads 4');
      if ([...k, ...s, ...d].some((v) => v < 1) || p.some((v) => v < 0)) throw new Error('kernel_shape, strides and dilations must be positive and pads not negative');
      if (p[0] >= k[0] * d[0] || p[2] >= k[0] * d[0] || p[1] >= k[1] * d[1] || p[3] >= k[1] * d[1]) throw new Error(`pads [${p}] must be smaller than the (dilated) kernel [${k}]`);
      if (attrs.storage_order !== 0 && attrs.storage_order !== 1) throw new Error('storage_order must be 0 or 1');
      const [Ho, Wo] = outputSizes(H, W, attrs);
      if (Ho < 1 || Wo < 1) throw new Error('the kernel is larger than the padded input');
      if (outputs !== undefined && outputs !== 1 && outputs !== 2) throw new Error(`has 1 or 2 outputs (Y, Indices), ${outputs} were asked for`);
      const y = { dtype: x.dtype, shape: [N, C, Ho, Wo] };
      return { outputs: outputs === 2 ? [y, { dtype: 'int64', shape: [N, C, Ho, Wo] }] : [y] };
    },
    evaluate([x], attrs) {
      const [N, C, H, W] = x!.shape;
      const { kernel_shape: k, strides: s, dilations: d, pads: p } = attrs;
      const [Ho, Wo] = outputSizes(H, W, attrs);
      const y = ref(x!.dtype, [N, C, Ho, Wo]);
      const indices = ref('int64', [N, C, Ho, Wo]);
      for (let nc = 0; nc < N * C; nc++)
        for (let oh = 0; oh < Ho; oh++)
          for (let ow = 0; ow < Wo; ow++) {
            let best = -Infinity;
            let at = -1;
            for (let i = 0; i < k[0]; i++)
              for (let j = 0; j < k[1]; j++) {
                const ih = oh * s[0] - p[0] + i * d[0];
                const iw = ow * s[1] - p[1] + j * d[1];
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                const v = x!.data[(nc * H + ih) * W + iw];
                if (v > best || at < 0) {
                  best = v;
                  at = nc * H * W + (attrs.storage_order ? iw * H + ih : ih * W + iw);
                }
              }
            y.data[(nc * Ho + oh) * Wo + ow] = best;
            indices.data[(nc * Ho + oh) * Wo + ow] = at;
          }
      return [y, indices];
    },
    backward({ node, dy }) {
      const x = node.inputs[0]!;
      const g = x.graph;
      const indices = node.outputs.length === 2 && node.attrs.storage_order === 0 ? node.outputs[1] : maxPoolWithIndices(x, { ...node.attrs, storage_order: 0 })[1];
      const flat = reshape(x, [-1]);
      const zeros = constantOfShape(shapeOf(flat), fromNumbers(x.dtype, [1], [0]));
      return [reshapeLike(scatterElements(zeros, reshape(indices, [-1]), reshape(dy[0]!, [-1]), 0, 'add'), x)];
    },
  }),
];
