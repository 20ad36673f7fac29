/**
 * 2-D Conv and ConvTranspose (strides, pads, dilations, groups) and their adjoints:
 * the input gradient of each is the other op with the same geometry, and both weight gradients
 * are one grouped convolution of the input with the output gradient (`convWeightGrad`).
 */
import type { Value } from '../graph.ts';
import { isFloat } from '../ndarray.ts';
import { type AttrSchema, type AttrsGiven, type AttrsOf, type OpDef, defineOp } from '../op.ts';
import { type Ref, ref } from '../reference.ts';
import { type Dim, dimEquals, divDims, isStatic } from '../shape.ts';
import { matmul } from './matmul.ts';
import { reduceSum } from './reduce.ts';
import { reshape } from './reshape.ts';
import { slice } from './slice.ts';
import { transpose, transposeLast2 } from './transpose.ts';

const GEOMETRY_ATTRS = {
  auto_pad: { type: 'string', default: 'NOTSET' },
  dilations: { type: 'ints', default: [1, 1] },
  group: { type: 'int', default: 1 },
  kernel_shape: { type: 'ints' },
  /** [top, left, bottom, right] */
  pads: { type: 'ints', default: [0, 0, 0, 0] },
  strides: { type: 'ints', default: [1, 1] },
} as const satisfies AttrSchema;

const CONV_TRANSPOSE_ATTRS = {
  ...GEOMETRY_ATTRS,
  output_padding: { type: 'ints', default: [0, 0] },
  output_shape: { type: 'ints' },
} as const satisfies AttrSchema;

/** Infer completes kernel_shape from the weight: evaluate and backward always find it. */
type WithKernel<T> = T & { kernel_shape: number[] };
type GeometryAttrs = AttrsOf<typeof GEOMETRY_ATTRS>;
type ConvTransposeNodeAttrs = WithKernel<AttrsOf<typeof CONV_TRANSPOSE_ATTRS>>;

/** The builders leave out kernel_shape (the weight's) and name the auto_pad modes. */
export interface ConvAttrs extends Omit<AttrsGiven<typeof GEOMETRY_ATTRS>, 'kernel_shape' | 'auto_pad'> {
  auto_pad?: 'NOTSET' | 'SAME_UPPER' | 'SAME_LOWER' | 'VALID';
}

/** Nor does ConvTranspose take auto_pad or output_shape (infer rejects them). */
export type ConvTransposeAttrs = Omit<AttrsGiven<typeof CONV_TRANSPOSE_ATTRS>, 'kernel_shape' | 'auto_pad' | 'output_shape'>;

export function conv(x: Value, w: Value, b?: Value, attrs: ConvAttrs = {}): Value {
  return x.graph.node('Conv', [x, w, b], { ...attrs })[0];
}

export function convTranspose(x: Value, w: Value, b?: Value, attrs: ConvTransposeAttrs = {}): Value {
  return x.graph.node('ConvTranspose', [x, w, b], { ...attrs })[0];
}

interface Geometry {
  k: number[];
  s: number[];
  d: number[];
  /** [top, left, bottom, right] */
  p: number[];
  group: number;
}

function geometryOf(attrs: WithKernel<GeometryAttrs>): Geometry {
  return { k: attrs.kernel_shape, s: attrs.strides, d: attrs.dilations, p: attrs.pads, group: attrs.group };
}

function checkRank4(x: Value | undefined, w: Value | undefined): asserts x is Value {
  if (!x || !w) throw new Error('needs an input and a weight');
  if (x.rank !== 4 || w.rank !== 4) throw new Error(`only 2-D convolution is supported: input [${x.shape}], weight [${w.shape}]`);
  if (!isFloat(x.dtype) || x.dtype !== w.dtype) throw new Error(`input and weight must be floats of one type (${x.dtype}, ${w.dtype})`);
  if (!w.shape.slice(2).every(isStatic) || !x.shape.slice(2).every(isStatic)) throw new Error('spatial dimensions must be static');
}

function normalizeGeometry<T extends GeometryAttrs>(x: Value, w: Value, attrs: T, transposed: boolean): WithKernel<T> {
  const k = attrs.kernel_shape ?? (w.shape.slice(2) as number[]);
  if (k.some((v, i) => v !== w.shape[2 + i])) throw new Error(`kernel_shape [${k}] differs from the weight [${w.shape}]`);
  for (const key of ['strides', 'dilations'] as const) {
    const v = attrs[key];
    if (v.length !== 2 || v.some((e) => e < 1)) throw new Error(`${key} must be two positive integers, got [${v}]`);
  }
  let pads = attrs.pads;
  if (pads.length !== 4 || pads.some((e) => e < 0)) throw new Error(`pads must be four non-negative integers, got [${pads}]`);
  const mode = attrs.auto_pad;
  if (mode === 'VALID') pads = [0, 0, 0, 0];
  else if (mode === 'SAME_UPPER' || mode === 'SAME_LOWER') {
    if (transposed) throw new Error(`auto_pad ${mode} is not supported for ConvTranspose`);
    const s = attrs.strides;
    const d = attrs.dilations;
    const total = [0, 1].map((i) => {
      const n = x.shape[2 + i] as number;
      return Math.max((Math.ceil(n / s[i]) - 1) * s[i] + (k[i] - 1) * d[i] + 1 - n, 0);
    });
    const begin = total.map((t) => (mode === 'SAME_UPPER' ? Math.floor(t / 2) : Math.ceil(t / 2)));
    pads = [begin[0], begin[1], total[0] - begin[0], total[1] - begin[1]];
  } else if (mode !== 'NOTSET') throw new Error(`auto_pad "${mode}" is not valid`);
  const group = attrs.group;
  if (!Number.isInteger(group) || group < 1) throw new Error(`group must be a positive integer, got ${group}`);
  return { ...attrs, kernel_shape: k, pads, auto_pad: 'NOTSET' };
}

/** Output size of a convolution along one axis. */
export function convOutputSize(n: number, k: number, s: number, d: number, padBegin: number, padEnd: number): number {
  return Math.floor((n + padBegin + padEnd - ((k - 1) * d + 1)) / s) + 1;
}

function checkBias(b: Value | undefined, channels: Dim): void {
  if (b && (b.rank !== 1 || !dimEquals(b.shape[0], channels))) throw new Error(`bias [${b.shape}] must have ${channels} elements`);
}

function convKernel(x: Ref, w: Ref, b: Ref | undefined, g: Geometry): Ref {
  const [N, C, H, W] = x.shape;
  const [M, Cg, KH, KW] = w.shape;
  const Mg = M / g.group;
  const Ho = convOutputSize(H, KH, g.s[0], g.d[0], g.p[0], g.p[2]);
  const Wo = convOutputSize(W, KW, g.s[1], g.d[1], g.p[1], g.p[3]);
  const y = ref(x.dtype, [N, M, Ho, Wo]);
  for (let n = 0; n < N; n++)
    for (let m = 0; m < M; m++) {
      const c0 = Math.floor(m / Mg) * Cg;
      for (let oh = 0; oh < Ho; oh++)
        for (let ow = 0; ow < Wo; ow++) {
          let acc = b ? b.data[m] : 0;
          for (let c = 0; c < Cg; c++)
            for (let kh = 0; kh < KH; kh++) {
              const ih = oh * g.s[0] - g.p[0] + kh * g.d[0];
              if (ih < 0 || ih >= H) continue;
              for (let kw = 0; kw < KW; kw++) {
                const iw = ow * g.s[1] - g.p[1] + kw * g.d[1];
                if (iw < 0 || iw >= W) continue;
                acc += x.data[((n * C + c0 + c) * H + ih) * W + iw] * w.data[((m * Cg + c) * KH + kh) * KW + kw];
              }
            }
          y.data[((n * M + m) * Ho + oh) * Wo + ow] = acc;
        }
    }
  return y;
}

function convTransposeKernel(x: Ref, w: Ref, b: Ref | undefined, g: Geometry, outputPadding: number[]): Ref {
  const [N, C, H, W] = x.shape;
  const [, Mg, KH, KW] = w.shape;
  const Cg = C / g.group;
  const M = Mg * g.group;
  const Ho = g.s[0] * (H - 1) + outputPadding[0] + (KH - 1) * g.d[0] + 1 - g.p[0] - g.p[2];
  const Wo = g.s[1] * (W - 1) + outputPadding[1] + (KW - 1) * g.d[1] + 1 - g.p[1] - g.p[3];
  const y = ref(x.dtype, [N, M, Ho, Wo]);
  for (let n = 0; n < N; n++)
    for (let m = 0; m < M; m++) if (b) y.data.fill(b.data[m], (n * M + m) * Ho * Wo, (n * M + m + 1) * Ho * Wo);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++) {
      const grp = Math.floor(c / Cg);
      for (let ih = 0; ih < H; ih++)
        for (let iw = 0; iw < W; iw++) {
          const v = x.data[((n * C + c) * H + ih) * W + iw];
          for (let mg = 0; mg < Mg; mg++) {
            const m = grp * Mg + mg;
            for (let kh = 0; kh < KH; kh++) {
              const oh = ih * g.s[0] - g.p[0] + kh * g.d[0];
              if (oh < 0 || oh >= Ho) continue;
              for (let kw = 0; kw < KW; kw++) {
                const ow = iw * g.s[1] - g.p[1] + kw * g.d[1];
                if (ow < 0 || ow >= Wo) continue;
                y.data[((n * M + m) * Ho + oh) * Wo + ow] += v * w.data[((c * Mg + mg) * KH + kh) * KW + kw];
              }
            }
          }
        }
    }
  return y;
}

/**
 * Gradient of a convolution's input [N, C, H, W] from its output gradient dy. With unit strides it
 * is a plain convolution of dy with the spatially flipped, in/out-swapped kernel (onnxruntime's
 * Conv kernels, depthwise ones in particular, are several times faster than its ConvTranspose;
 * with constant weights the flipped kernel is folded away); otherwise a ConvTranspose whose
 * output_padding restores the rows the strided forward pass skipped.
 */
export function convInputGrad(dy: Value, w: Value, inputHW: readonly number[], g: Geometry): Value {
  const [M, Cg, kh, kw] = w.shape as number[];
  const reach = [(kh - 1) * g.d[0], (kw - 1) * g.d[1]];
  const flippedPads = [reach[0] - g.p[0], reach[1] - g.p[1], reach[0] - g.p[2], reach[1] - g.p[3]];
  if (g.s.every((s) => s === 1) && flippedPads.every((p) => p >= 0)) {
    const G = g.group;
    let swapped = w;
    if (M / G > 1 && Cg > 1) swapped = reshape(transpose(reshape(w, [G, M / G, Cg, kh, kw]), [0, 2, 1, 3, 4]), [G * Cg, M / G, kh, kw]);
    else if (M / G > 1 || Cg > 1) swapped = reshape(w, [G * Cg, M / G, kh, kw]); // one of the two is 1: a pure relabeling
    const flipped = slice(swapped, [-1, -1], [-kh - 1, -kw - 1], [2, 3], [-1, -1]);
    return conv(dy, flipped, undefined, { pads: flippedPads, dilations: g.d, group: G });
  }
  const outputPadding = [0, 1].map((i) => {
    const o = dy.shape[2 + i] as number;
    return inputHW[i] - (g.s[i] * (o - 1) + (g.k[i] - 1) * g.d[i] + 1 - g.p[i] - g.p[2 + i]);
  });
  return convTranspose(dy, w, undefined, { strides: g.s, pads: g.p, dilations: g.d, group: g.group, output_padding: outputPadding });
}

/**
 * Gradient of a convolution's weight [M, C/G, kh, kw] from its input x [N, C, H, W] and output
 * gradient dy [N, M, Ho, Wo]: a grouped convolution whose batch is x's channels-per-group, whose
 * channels are (group, sample) pairs and whose kernel is dy, with strides and dilations swapped.
 */
export function convWeightGrad(x: Value, dy: Value, g: Geometry): Value {
  const [N, C, H, W] = x.shape as [Dim, number, number, number];
  const [, M, Ho, Wo] = dy.shape as [Dim, number, number, number];
  const G = g.group;
  const pointwise = g.k.every((k) => k === 1) && g.s.every((s) => s === 1) && g.p.every((p) => p === 0) && G === 1;
  if (pointwise) {
    // a 1x1 convolution is a matrix product per sample: dW = sum_n dy_n x_n^T, which BLAS does
    // far better than a convolution whose kernel is the whole feature map
    const perSample = matmul(reshape(dy, [N, M, Ho * Wo]), transposeLast2(reshape(x, [N, C, H * W]))); // [N, M, C]
    return reshape(reduceSum(perSample, [0], false), [M, C, 1, 1]);
  }
  const Cg = C / G;
  const Mg = M / G;
  let xs: Value;
  let ds: Value;
  if (G === 1) {
    xs = transpose(x, [1, 0, 2, 3]); // [C, N, H, W]
    ds = transpose(dy, [1, 0, 2, 3]); // [M, N, Ho, Wo]
  } else {
    const N = x.shape[0];
    xs = reshape(transpose(reshape(x, [N, G, Cg, H, W]), [2, 1, 0, 3, 4]), [Cg, -1, H, W]); // [Cg, G*N, H, W]
    ds = reshape(transpose(reshape(dy, [N, G, Mg, Ho, Wo]), [1, 2, 0, 3, 4]), [M, -1, Ho, Wo]); // [G*Mg, N, Ho, Wo]
  }
  const [kh, kw] = g.k;
  const pads = [...g.p];
  const r = conv(xs, ds, undefined, { strides: g.d, dilations: g.s, group: G, pads }); // [Cg, M, >=kh, >=kw]
  const rh = r.shape[2] as number;
  const rw = r.shape[3] as number;
  const cropped = rh > kh || rw > kw ? slice(r, [0, 0], [kh, kw], [2, 3]) : r;
  return transpose(cropped, [1, 0, 2, 3]);
}

export const CONV_OPS: OpDef[] = [
  defineOp<typeof GEOMETRY_ATTRS, WithKernel<GeometryAttrs>>({
    opType: 'Conv',
    attrs: GEOMETRY_ATTRS,
    differentiable: [0, 1, 2],
    infer([x, w, b], attrs) {
      checkRank4(x, w);
      const a = normalizeGeometry(x, w!, attrs, false);
      const g = geometryOf(a);
      const [N, C, H, W] = x.shape;
      const [M, Cg] = w!.shape;
      if (!isStatic(M) || divDims(M, g.group) === undefined || !isStatic(divDims(M, g.group)!)) throw new Error(`output channels ${M} not divisible by group ${g.group}`);
      if (!dimEquals(C, typeof Cg === 'number' ? Cg * g.group : `${g.group}*${Cg}`)) throw new Error(`input has ${C} channels, weight expects ${Cg} x group ${g.group}`);
      checkBias(b, M);
      const Ho = convOutputSize(H as number, g.k[0], g.s[0], g.d[0], g.p[0], g.p[2]);
      const Wo = convOutputSize(W as number, g.k[1], g.s[1], g.d[1], g.p[1], g.p[3]);
      if (Ho < 1 || Wo < 1) throw new Error(`the kernel is larger than the padded input (output ${Ho}x${Wo})`);
      return { outputs: [{ dtype: x.dtype, shape: [N, M, Ho, Wo] }], attrs: a };
    },
    evaluate([x, w, b], attrs) {
      return [convKernel(x!, w!, b, geometryOf(attrs))];
    },
    backward({ node, dy, needs }) {
      const [x, w] = node.inputs as Value[];
      const g = geometryOf(node.attrs);
      const d = dy[0]!;
      const dx = needs[0] ? convInputGrad(d, w, x.shape.slice(2) as number[], g) : undefined;
      return [dx, needs[1] ? convWeightGrad(x, d, g) : undefined, needs[2] ? reduceSum(d, [0, 2, 3], false) : undefined];
    },
  }),
  defineOp<typeof CONV_TRANSPOSE_ATTRS, ConvTransposeNodeAttrs>({
    opType: 'ConvTranspose',
    attrs: CONV_TRANSPOSE_ATTRS,
    differentiable: [0, 1, 2],
    infer([x, w, b], attrs) {
      checkRank4(x, w);
      if (attrs.output_shape) throw new Error('output_shape is not supported: give pads and output_padding');
      const a = normalizeGeometry(x, w!, attrs, true);
      const g = geometryOf(a);
      const op = a.output_padding;
      const [N, C, H, W] = x.shape;
      const [Cw, Mg] = w!.shape;
      if (!dimEquals(C, Cw)) throw new Error(`input has ${C} channels, weight expects ${Cw}`);
      if (!isStatic(C) || C % g.group !== 0) throw new Error(`input channels ${C} not divisible by group ${g.group}`);
      if (op.length !== 2 || op.some((v, i) => v < 0 || v >= Math.max(g.s[i], g.d[i]))) throw new Error(`output_padding [${op}] must be below the stride or dilation`);
      const M = (Mg as number) * g.group;
      checkBias(b, M);
      const size = (i: number, n: number) => g.s[i] * (n - 1) + op[i] + (g.k[i] - 1) * g.d[i] + 1 - g.p[i] - g.p[2 + i];
      const Ho = size(0, H as number);
      const Wo = size(1, W as number);
      if (Ho < 1 || Wo < 1) throw new Error(`pads leave no output (${Ho}x${Wo})`);
      return { outputs: [{ dtype: x.dtype, shape: [N, M, Ho, Wo] }], attrs: a };
    },
    evaluate([x, w, b], attrs) {
      return [convTransposeKernel(x!, w!, b, geometryOf(attrs), attrs.output_padding)];
    },
    backward({ node, dy, needs }) {
      const [x, w] = node.inputs as Value[];
      const g = geometryOf(node.attrs);
      const d = dy[0]!;
      const dx = needs[0] ? conv(d, w, undefined, { strides: g.s, pads: g.p, dilations: g.d, group: g.group }) : undefined;
      // ConvTranspose(x) is the adjoint of Conv with the same geometry: its weight gradient is
      // that Conv's weight gradient with the roles of input and output gradient exchanged
      return [dx, needs[1] ? convWeightGrad(d, x, g) : undefined, needs[2] ? reduceSum(d, [0, 2, 3], false) : undefined];
    },
  }),
];
