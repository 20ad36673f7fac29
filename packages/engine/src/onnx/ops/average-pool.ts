/** AveragePool (2-D); its adjoint spreads each output gradient evenly over its window. */
import type { Value } from '../graph.ts';
import { fromNumbers, isFloat } from '../ndarray.ts';
import { type AttrSchema, type AttrsGiven, type AttrsOf, type OpDef, defineOp } from '../op.ts';
import { ref } from '../reference.ts';
import { isStatic } from '../shape.ts';
import { convOutputSize, convTranspose } from './conv.ts';
import { mul } from './elementwise.ts';

const AVERAGE_POOL_ATTRS = {
  auto_pad: { type: 'string', default: 'NOTSET' },
  ceil_mode: { type: 'int', default: 0 },
  count_include_pad: { type: 'int', default: 0 },
  kernel_shape: { type: 'ints', required: true },
  pads: { type: 'ints', default: [0, 0, 0, 0] },
  strides: { type: 'ints', default: [1, 1] },
} as const satisfies AttrSchema;

/** The builder leaves out what infer rejects (auto_pad, ceil_mode). */
export type AveragePoolAttrs = Omit<AttrsGiven<typeof AVERAGE_POOL_ATTRS>, 'auto_pad' | 'ceil_mode'>;

export function averagePool(x: Value, attrs: AveragePoolAttrs): Value {
  return x.graph.node('AveragePool', [x], { ...attrs })[0];
}

/** Number of input elements each output averages, [Ho, Wo] row-major. */
function windowCounts(H: number, W: number, a: AttrsOf<typeof AVERAGE_POOL_ATTRS>): { Ho: number; Wo: number; counts: Float64Array } {
  const [kh, kw] = a.kernel_shape;
  const [sh, sw] = a.strides;
  const p = a.pads;
  const Ho = convOutputSize(H, kh, sh, 1, p[0], p[2]);
  const Wo = convOutputSize(W, kw, sw, 1, p[1], p[3]);
  const counts = new Float64Array(Ho * Wo);
  for (let oh = 0; oh < Ho; oh++)
    for (let ow = 0; ow < Wo; ow++) {
      if (a.count_include_pad) counts[oh * Wo + ow] = kh * kw;
      else {
        const rows = Math.min(oh * sh - p[0] + kh, H) - Math.max(oh * sh - p[0], 0);
        const cols = Math.min(ow * sw - p[1] + kw, W) - Math.max(ow * sw - p[1], 0);
        counts[oh * Wo + ow] = rows * cols;
      }
    }
  return { Ho, Wo, counts };
}

export const AVERAGE_POOL_OPS: OpDef[] = [
  defineOp({
    opType: 'AveragePool',
    attrs: AVERAGE_POOL_ATTRS,
    differentiable: [0],
    infer([x], attrs) {
      if (!x || x.rank !== 4 || !isFloat(x.dtype)) throw new Error('input must be a float [N, C, H, W] tensor');
      if (attrs.auto_pad !== 'NOTSET' || attrs.ceil_mode) throw new Error('give explicit pads (auto_pad and ceil_mode are not supported)');
      const [N, C, H, W] = x.shape;
      if (!isStatic(H) || !isStatic(W)) throw new Error('spatial dimensions must be static');
      const k = attrs.kernel_shape;
      const p = attrs.pads;
      if (k.length !== 2 || p.length !== 4) throw new Error('kernel_shape needs 2 entries and pads 4');
      if (p[0] >= k[0] || p[1] >= k[1] || p[2] >= k[0] || p[3] >= k[1]) throw new Error(`pads [${p}] must be smaller than the kernel [${k}]`);
      const { Ho, Wo } = windowCounts(H, W, attrs);
      if (Ho < 1 || Wo < 1) throw new Error('the kernel is larger than the padded input');
      return { outputs: [{ dtype: x.dtype, shape: [N, C, Ho, Wo] }] };
    },
    evaluate([x], attrs) {
      const [N, C, H, W] = x!.shape;
      const [kh, kw] = attrs.kernel_shape;
      const [sh, sw] = attrs.strides;
      const p = attrs.pads;
      const { Ho, Wo, counts } = windowCounts(H, W, attrs);
      const y = ref(x!.dtype, [N, C, Ho, Wo]);
      for (let nc = 0; nc < N * C; nc++)
        for (let oh = 0; oh < Ho; oh++)
          for (let ow = 0; ow < Wo; ow++) {
            let s = 0;
            for (let i = 0; i < kh; i++)
              for (let j = 0; j < kw; j++) {
                const ih = oh * sh - p[0] + i;
                const iw = ow * sw - p[1] + j;
                if (ih >= 0 && ih < H && iw >= 0 && iw < W) s += x!.data[(nc * H + ih) * W + iw];
              }
            y.data[(nc * Ho + oh) * Wo + ow] = s / counts[oh * Wo + ow];
          }
      return [y];
    },
    backward({ node, dy }) {
      const x = node.inputs[0]!;
      const [, C, H, W] = x.shape as [unknown, number, number, number];
      if (!isStatic(C)) throw new Error('the gradient of AveragePool needs a static channel count');
      const g = x.graph;
      const { kernel_shape: k, strides: s, pads: p } = node.attrs;
      const { Ho, Wo, counts } = windowCounts(H, W, node.attrs);
      const uniform = counts.every((c) => c === counts[0]);
      const scale = uniform ? g.scalar(1 / counts[0], x) : g.constant(fromNumbers(x.dtype, [Ho, Wo], counts.map((c) => 1 / c)));
      const scaled = mul(dy[0]!, scale);
      const ones = g.constant(fromNumbers(x.dtype, [C, 1, k[0], k[1]], new Float64Array(C * k[0] * k[1]).fill(1)));
      const outputPadding = [0, 1].map((i) => [H, W][i] - (s[i] * ([Ho, Wo][i] - 1) + k[i] - p[i] - p[2 + i]));
      return [convTranspose(scaled, ones, undefined, { strides: s, pads: p, group: C, output_padding: outputPadding })];
    },
  }),
];
