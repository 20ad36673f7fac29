/**
 * Resize of the two spatial axes of [N, C, H, W] (nearest or linear; any coordinate transform).
 * Interpolation is separable and linear in the input, y = Mh x Mw^T, so its adjoint is
 * dx = Mh^T dy Mw with constant interpolation matrices.
 */
import type { Value } from '../graph.ts';
import { fromNumbers, isFloat } from '../ndarray.ts';
import { type AttrSchema, type AttrsGiven, type AttrsOf, type OpDef, defineOp } from '../op.ts';
import { ints, ref } from '../reference.ts';
import { dimEquals, isStatic } from '../shape.ts';
import { matmul } from './matmul.ts';

export type ResizeMode = 'nearest' | 'linear';
export type CoordinateTransform = 'half_pixel' | 'pytorch_half_pixel' | 'align_corners' | 'asymmetric';
export type NearestMode = 'round_prefer_floor' | 'round_prefer_ceil' | 'floor' | 'ceil';

export interface ResizeOptions {
  /** output [H, W] (or give scales) */
  size?: [number, number];
  /** [scaleH, scaleW] */
  scales?: [number, number];
  mode?: ResizeMode;
  coordinateTransform?: CoordinateTransform;
  nearestMode?: NearestMode;
}

const RESIZE_ATTRS = {
  mode: { type: 'string', default: 'nearest' },
  coordinate_transformation_mode: { type: 'string', default: 'half_pixel' },
  nearest_mode: { type: 'string', default: 'round_prefer_floor' },
  antialias: { type: 'int', default: 0 },
  cubic_coeff_a: { type: 'float', default: -0.75 },
  exclude_outside: { type: 'int', default: 0 },
  extrapolation_value: { type: 'float', default: 0 },
  keep_aspect_ratio_policy: { type: 'string', default: 'stretch' },
  axes: { type: 'ints' },
} as const satisfies AttrSchema;
type ResizeAttrs = AttrsOf<typeof RESIZE_ATTRS>;

export function resize(x: Value, o: ResizeOptions): Value {
  const g = x.graph;
  if (!o.size === !o.scales) throw new Error('resize: give exactly one of size and scales');
  // axes [2, 3] leaves N and C alone, also when they are symbolic
  const scales = o.scales && g.constant(fromNumbers('float32', [2], o.scales));
  const sizes = o.size && g.ints(o.size);
  const attrs: AttrsGiven<typeof RESIZE_ATTRS> = { mode: o.mode, coordinate_transformation_mode: o.coordinateTransform, nearest_mode: o.nearestMode, axes: [2, 3] };
  return g.node('Resize', [x, undefined, scales, sizes], attrs)[0];
}

/** Output sizes and the scales the coordinate transform uses, for axes H and W. */
function plan(inHW: number[], scalesIn: number[] | undefined, sizesIn: number[] | undefined, attrs: ResizeAttrs): { out: number[]; scale: number[] } {
  const axes = attrs.axes;
  const pick = (v: number[]) => {
    if (v.length !== (axes ? 2 : 4)) throw new Error(`scales or sizes need ${axes ? 2 : 4} entries, got [${v}]`);
    return axes ? v : v.slice(2);
  };
  if (scalesIn && scalesIn.length) {
    const s = pick(scalesIn);
    if (!axes && (scalesIn[0] !== 1 || scalesIn[1] !== 1)) throw new Error('only the spatial axes can be resized');
    return { out: inHW.map((n, i) => Math.floor(n * s[i])), scale: s };
  }
  if (!sizesIn) throw new Error('give scales or sizes');
  const out = pick(sizesIn);
  return { out, scale: out.map((m, i) => m / inHW[i]) };
}

/** Source weights of each output index along one axis: row o of the [m, n] interpolation matrix. */
export function interpolationMatrix(n: number, m: number, scale: number, attrs: ResizeAttrs): Float64Array {
  const mat = new Float64Array(m * n);
  for (let o = 0; o < m; o++) {
    let x: number;
    switch (attrs.coordinate_transformation_mode) {
      case 'half_pixel':
        x = (o + 0.5) / scale - 0.5;
        break;
      case 'pytorch_half_pixel':
        x = m > 1 ? (o + 0.5) / scale - 0.5 : 0;
        break;
      case 'align_corners':
        x = m === 1 ? 0 : (o * (n - 1)) / (m - 1);
        break;
      case 'asymmetric':
        x = o / scale;
        break;
      default:
        throw new Error(`coordinate_transformation_mode "${attrs.coordinate_transformation_mode}" is not supported`);
    }
    if (attrs.mode === 'nearest') {
      const f = Math.floor(x);
      let i: number;
      switch (attrs.nearest_mode) {
        case 'round_prefer_floor':
          i = x - f === 0.5 ? f : Math.round(x);
          break;
        case 'round_prefer_ceil':
          i = x - f === 0.5 ? f + 1 : Math.round(x);
          break;
        case 'floor':
          i = f;
          break;
        case 'ceil':
          i = Math.ceil(x);
          break;
        default:
          throw new Error(`nearest_mode "${attrs.nearest_mode}" is not supported`);
      }
      mat[o * n + Math.min(Math.max(i, 0), n - 1)] = 1;
    } else {
      const c = Math.min(Math.max(x, 0), n - 1);
      const i0 = Math.floor(c);
      const i1 = Math.min(i0 + 1, n - 1);
      mat[o * n + i0] += 1 - (c - i0);
      mat[o * n + i1] += c - i0;
    }
  }
  return mat;
}

/** Scales (constant) or sizes (constant, or computed from static dimensions with Shape). */
function knownFloats(v: Value | undefined): number[] | undefined {
  if (!v) return undefined;
  if (v.data && v.kind === 'constant') return Array.from(v.data.data as ArrayLike<number | bigint>, Number);
  const known = v.knownInts();
  if (known && known.every(isStatic)) return known as number[];
  // sizes an exporter computes from the input's own shape: [N, C] symbolic, the spatial sizes static
  if (known?.length === 4 && isStatic(known[2]) && isStatic(known[3])) return [1, 1, known[2], known[3]];
  throw new Error('scales and sizes must be known while building (constants, or sizes [N, C, h, w] from Shape with static h and w)');
}

/** Sizes that name N and C must name the input's. */
function checkBatchAndChannels(sizes: Value | undefined, x: Value): void {
  const known = sizes?.knownInts();
  if (!known || known.length !== 4) return;
  for (const i of [0, 1]) {
    if (!dimEquals(known[i], x.shape[i])) throw new Error(`sizes [${known}] resize axis ${i} of [${x.shape}]: only the spatial axes can be resized`);
  }
}

export const RESIZE_OPS: OpDef[] = [
  defineOp({
    opType: 'Resize',
    attrs: RESIZE_ATTRS,
    differentiable: [0],
    infer([x, , scales, sizes], attrs) {
      if (!x || x.rank !== 4 || !isFloat(x.dtype)) throw new Error('input must be a float [N, C, H, W] tensor');
      // roi matters only to tf_crop_and_resize, which interpolationMatrix refuses: PyTorch's exports pass an empty one
      if (!['nearest', 'linear'].includes(attrs.mode)) throw new Error(`mode "${attrs.mode}" is not supported`);
      if (attrs.antialias) throw new Error('antialias is not supported');
      if (attrs.axes && String(attrs.axes) !== '2,3') throw new Error('axes must be [2, 3]');
      const [N, C, H, W] = x.shape;
      if (!isStatic(H) || !isStatic(W)) throw new Error('spatial dimensions must be static');
      checkBatchAndChannels(sizes, x);
      const { out } = plan([H, W], knownFloats(scales), knownFloats(sizes), attrs);
      interpolationMatrix(H, out[0], 1, attrs); // validates the modes
      if (out.some((d) => d < 1)) throw new Error(`output size [${out}] is empty`);
      return { outputs: [{ dtype: x.dtype, shape: [N, C, ...out] }] };
    },
    evaluate([x, , scales, sizes], attrs) {
      const [N, C, H, W] = x!.shape;
      const { out, scale } = plan([H, W], scales && ints(scales).length ? Array.from(scales.data) : undefined, sizes && ints(sizes), attrs);
      const [Ho, Wo] = out;
      const mh = interpolationMatrix(H, Ho, scale[0], attrs);
      const mw = interpolationMatrix(W, Wo, scale[1], attrs);
      const y = ref(x!.dtype, [N, C, Ho, Wo]);
      for (let nc = 0; nc < N * C; nc++)
        for (let oh = 0; oh < Ho; oh++)
          for (let ow = 0; ow < Wo; ow++) {
            let s = 0;
            for (let ih = 0; ih < H; ih++) {
              const a = mh[oh * H + ih];
              if (a === 0) continue;
              for (let iw = 0; iw < W; iw++) s += a * mw[ow * W + iw] * x!.data[(nc * H + ih) * W + iw];
            }
            y.data[(nc * Ho + oh) * Wo + ow] = s;
          }
      return [y];
    },
    backward({ node, dy }) {
      const x = node.inputs[0]!;
      const g = x.graph;
      const [H, W] = x.shape.slice(2) as number[];
      const { out, scale } = plan([H, W], knownFloats(node.inputs[2]), knownFloats(node.inputs[3]), node.attrs);
      const mh = interpolationMatrix(H, out[0], scale[0], node.attrs);
      const mw = interpolationMatrix(W, out[1], scale[1], node.attrs);
      // dx = Mh^T dy Mw: [H, Ho] @ [.., Ho, Wo] @ [Wo, W]
      const mhT = new Float64Array(H * out[0]);
      for (let o = 0; o < out[0]; o++) for (let i = 0; i < H; i++) mhT[i * out[0] + o] = mh[o * H + i];
      const left = g.constant(fromNumbers(x.dtype, [H, out[0]], mhT), 'resize_adjoint');
      const right = g.constant(fromNumbers(x.dtype, [out[1], W], mw), 'resize_adjoint');
      return [matmul(left, matmul(dy[0]!, right))];
    },
  }),
];
