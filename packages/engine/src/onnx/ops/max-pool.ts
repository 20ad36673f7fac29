/**
 * MaxPool (2-D) with its optional Indices output. The gradient goes to the maximum of each window
 * (split evenly between ties, as ReduceMax's does) without the Indices output, which onnxruntime's
 * WebGPU provider lacks: a grouped Conv with one-hot kernels lays the windows out as channels, a
 * mask marks their maxima, and the ConvTranspose with the same kernels adds the masked dy back
 * (overlapping windows sum).
 */
import type { Value } from '../graph.ts';
import { fromNumbers, isFloat } from '../ndarray.ts';
import { type AttrSchema, type AttrsGiven, type AttrsOf, type OpDef, defineOp } from '../op.ts';
import { ref } from '../reference.ts';
import { isStatic } from '../shape.ts';
import { conv, convTranspose } from './conv.ts';
import { cast, div, equal, mul, where } from './elementwise.ts';
import { reduceMax, reduceSum } from './reduce.ts';
import { reshape, unsqueeze } from './reshape.ts';

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
      return [maxPoolGradient(node.inputs[0]!, dy[0]!, node.attrs)];
    },
  }),
];

/** dx of MaxPool: dy to each window's maxima, through one-hot window kernels (see the file comment). */
function maxPoolGradient(x: Value, dy: Value, a: MaxPoolAttrsOf): Value {
  const [N, C, H, W] = x.shape as [Value['shape'][number], number, number, number];
  if (!isStatic(C)) throw new Error('the gradient of MaxPool needs a static channel count');
  const g = x.graph;
  const { kernel_shape: k, strides: s, dilations: d, pads: p } = a;
  const [Ho, Wo] = outputSizes(H, W, a);
  const K = k[0] * k[1];
  // window element e of channel c is output channel c * K + e: weight [C * K, 1, kh, kw], one-hot
  const onehot = new Float64Array(C * K * K);
  for (let c = 0; c < C; c++) for (let e = 0; e < K; e++) onehot[(c * K + e) * K + e] = 1;
  const kernels = g.constant(fromNumbers(x.dtype, [C * K, 1, k[0], k[1]], onehot), 'max_pool_windows');
  // end padding that makes exactly Ho x Wo windows (ceil_mode windows may reach past pads[2:])
  const reach = [0, 1].map((i) => ([Ho, Wo][i] - 1) * s[i] + (k[i] - 1) * d[i] + 1 - p[i] - [H, W][i]);
  const endPads = reach.map((r) => Math.max(r, 0));
  const geometry = { strides: s, dilations: d, pads: [p[0], p[1], endPads[0], endPads[1]], group: C };
  const windows = reshape(conv(x, kernels, undefined, geometry), [N, C, K, Ho, Wo]);
  // padding is never a maximum: window elements outside x are -inf
  const inside = new Float64Array(K * Ho * Wo);
  for (let e = 0; e < K; e++)
    for (let oh = 0; oh < Ho; oh++)
      for (let ow = 0; ow < Wo; ow++) {
        const ih = oh * s[0] - p[0] + Math.floor(e / k[1]) * d[0];
        const iw = ow * s[1] - p[1] + (e % k[1]) * d[1];
        inside[(e * Ho + oh) * Wo + ow] = ih >= 0 && ih < H && iw >= 0 && iw < W ? 1 : 0;
      }
  const valid = g.constant(fromNumbers('bool', [K, Ho, Wo], inside), 'max_pool_inside');
  const candidates = where(valid, windows, g.scalar(-Infinity, x));
  const mask = cast(equal(candidates, reduceMax(candidates, [2], true)), x.dtype);
  const share = div(unsqueeze(dy, [2]), reduceSum(mask, [2], true));
  const routed = reshape(mul(mask, share), [N, C * K, Ho, Wo]);
  // the transpose covers the padded extent; output_padding restores rows no window reached
  const outputPadding = reach.map((r) => Math.max(-r, 0));
  return convTranspose(routed, kernels, undefined, { ...geometry, output_padding: outputPadding });
}
