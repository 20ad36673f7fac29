/**
 * BatchNormalization (inference: running statistics) and LayerNormalization (opset 17) as single
 * ONNX nodes, fused by the runtime. LayerNormalization's gradient takes the normalized input xhat
 * and its inverse deviation from the node's own outputs where they are these (unit scale, no bias,
 * InvStdDev output: group normalization), else recomputes them with one more unit-scale
 * LayerNormalization node, and composes dx = inv (g - mean(g) - xhat mean(g xhat)), g = dy scale
 * (g = dy for a unit scale), from reductions.
 */
import type { Value } from '../graph.ts';
import { fromNumbers, isFloat, toNumbers } from '../ndarray.ts';
import { type AttrSchema, type AttrsGiven, type OpDef, defineOp } from '../op.ts';
import { type Ref, ref } from '../reference.ts';
import { type Shape, dimEquals, isStaticShape, normalizeAxis, shapeEquals, size } from '../shape.ts';
import { add, mul, neg, reciprocal, sqrt, sub } from './elementwise.ts';
import { reduceMean, reduceSum } from './reduce.ts';
import { unsqueeze } from './reshape.ts';

const BATCH_NORM_ATTRS = {
  epsilon: { type: 'float', default: 1e-5 },
  momentum: { type: 'float', default: 0.9 },
  training_mode: { type: 'int', default: 0 },
} as const satisfies AttrSchema;

const LAYER_NORM_ATTRS = {
  axis: { type: 'int', default: -1 },
  epsilon: { type: 'float', default: 1e-5 },
  stash_type: { type: 'int', default: 1 },
} as const satisfies AttrSchema;

export interface BatchNormalizationInputs {
  scale: Value;
  bias: Value;
  mean: Value;
  variance: Value;
}

/** Inference batch normalization of [N, C, ...] with per-channel scale, bias and running statistics. */
export function batchNormalization(x: Value, p: BatchNormalizationInputs, epsilon = 1e-5): Value {
  return x.graph.node('BatchNormalization', [x, p.scale, p.bias, p.mean, p.variance], { epsilon })[0];
}

export type LayerNormalizationAttrs = AttrsGiven<typeof LAYER_NORM_ATTRS>;

/** Normalizes x over the axes from `axis` on, then scales and shifts (scale and bias of the normalized shape). */
export function layerNormalization(x: Value, scale: Value, bias?: Value, attrs: LayerNormalizationAttrs = {}): Value {
  return x.graph.node('LayerNormalization', [x, scale, bias], { ...attrs })[0];
}

/** LayerNormalization with its Mean and InvStdDev outputs (shape x.shape[:axis] then ones). */
export function layerNormalizationWithStatistics(x: Value, scale: Value, bias?: Value, attrs: LayerNormalizationAttrs = {}): [Value, Value, Value] {
  const [y, mean, invStdDev] = x.graph.node('LayerNormalization', [x, scale, bias], { ...attrs }, { outputs: 3 });
  return [y, mean, invStdDev];
}

/** A constant whose every element is 1 (a unit scale). */
function isAllOnes(v: Value): boolean {
  return v.kind === 'constant' && !!v.data && toNumbers(v.data).every((e) => e === 1);
}

/** Axes other than the channel axis 1: those batch normalization reduces over. */
const nonChannelAxes = (rank: number) => [0, ...Array.from({ length: rank - 2 }, (_, i) => i + 2)];

/** A per-channel [C] value shaped [1, C, 1, ...] to broadcast against x. */
const channelwise = (p: Value, rank: number) => unsqueeze(p, nonChannelAxes(rank));

/** x's value at every element, and the value of a per-channel array at that element's channel. */
function perChannel(x: Ref, params: readonly Ref[], fn: (v: number, ...p: number[]) => number): Ref {
  const [N, C] = x.shape;
  const inner = size(x.shape.slice(2));
  const y = ref(x.dtype, x.shape);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++) {
      const p = params.map((a) => a.data[c]);
      for (let i = 0; i < inner; i++) {
        const at = (n * C + c) * inner + i;
        y.data[at] = fn(x.data[at], ...p);
      }
    }
  return y;
}

/** Scale and B have the normalized shape: onnxruntime's WebGPU provider does not broadcast them. */
function checkAffine(v: Value | undefined, what: string, normalized: Shape, dtype: string): void {
  if (!v) return;
  if (v.dtype !== dtype) throw new Error(`${what} must be ${dtype}, got ${v.dtype}`);
  if (!shapeEquals(v.shape, normalized)) throw new Error(`${what} [${v.shape}] must have the normalized shape [${normalized}]`);
}

export const NORMALIZATION_OPS: OpDef[] = [
  defineOp({
    opType: 'BatchNormalization',
    attrs: BATCH_NORM_ATTRS,
    differentiable: 'all',
    infer([x, ...params], attrs, outputs) {
      if (attrs.training_mode) throw new Error('training_mode=1 is not supported (inference only: running statistics)');
      if (outputs !== undefined && outputs !== 1) throw new Error('only output Y is supported in inference (running_mean and running_var are training outputs)');
      if (!x || x.rank < 2 || !isFloat(x.dtype)) throw new Error('X must be a float [N, C, ...] tensor');
      const names = ['scale', 'B', 'input_mean', 'input_var'];
      if (params.length !== 4) throw new Error('needs inputs X, scale, B, input_mean and input_var');
      params.forEach((p, i) => {
        if (!p || p.rank !== 1 || !dimEquals(p.shape[0], x.shape[1]) || p.dtype !== x.dtype) throw new Error(`${names[i]} must be a ${x.dtype} vector of the ${x.shape[1]} channels`);
      });
      return { outputs: [{ dtype: x.dtype, shape: x.shape }] };
    },
    evaluate([x, scale, bias, mean, variance], attrs) {
      return [perChannel(x!, [scale!, bias!, mean!, variance!], (v, s, b, m, va) => ((v - m) / Math.sqrt(va + attrs.epsilon)) * s + b)];
    },
    backward({ node, dy, needs }) {
      const [x, scale, , mean, variance] = node.inputs as Value[];
      const r = x.rank;
      const d = dy[0]!;
      const axes = nonChannelAxes(r);
      const inv = reciprocal(sqrt(add(variance, node.attrs.epsilon))); // [C]
      const centered = sub(x, channelwise(mean, r));
      const dyCentered = needs[1] || needs[4] ? reduceSum(mul(d, centered), axes, false) : undefined; // [C]
      const dySum = needs[2] || needs[3] ? reduceSum(d, axes, false) : undefined; // [C]
      return [
        needs[0] ? mul(d, channelwise(mul(scale, inv), r)) : undefined,
        needs[1] ? mul(dyCentered!, inv) : undefined,
        needs[2] ? dySum : undefined,
        needs[3] ? neg(mul(dySum!, mul(scale, inv))) : undefined,
        // d/dvar (var + eps)^-1/2 = -1/2 inv^3
        needs[4] ? mul(mul(dyCentered!, scale), mul(mul(inv, mul(inv, inv)), -0.5)) : undefined,
      ];
    },
  }),
  defineOp({
    opType: 'LayerNormalization',
    attrs: LAYER_NORM_ATTRS,
    differentiable: [0, 1, 2],
    infer([x, scale, bias], attrs, outputs) {
      if (!x || !isFloat(x.dtype)) throw new Error('X must be a float tensor');
      if (!scale) throw new Error('Scale is required');
      if (outputs !== undefined && outputs !== 1 && outputs !== 3) throw new Error(`has 1 output (Y) or 3 (Y, Mean, InvStdDev), ${outputs} were asked for`);
      if (attrs.stash_type !== 1) throw new Error(`stash_type ${attrs.stash_type} is not supported (1: float32 statistics)`);
      const axis = normalizeAxis(attrs.axis, x.rank);
      const normalized = x.shape.slice(axis);
      checkAffine(scale, 'Scale', normalized, x.dtype);
      checkAffine(bias, 'B', normalized, x.dtype);
      const y = { dtype: x.dtype, shape: x.shape };
      const stat = { dtype: x.dtype, shape: [...x.shape.slice(0, axis), ...normalized.map(() => 1)] };
      return { outputs: outputs === 3 ? [y, stat, { ...stat }] : [y], attrs: { ...attrs, axis } };
    },
    evaluate([x, scale, bias], attrs) {
      const { axis, epsilon } = attrs;
      const inner = size(x!.shape.slice(axis));
      const outer = size(x!.shape.slice(0, axis));
      const normShape = x!.shape.slice(axis);
      const y = ref(x!.dtype, x!.shape);
      const statShape = [...x!.shape.slice(0, axis), ...normShape.map(() => 1)];
      const means = ref(x!.dtype, statShape);
      const invs = ref(x!.dtype, statShape);
      for (let o = 0; o < outer; o++) {
        const row = x!.data.subarray(o * inner, (o + 1) * inner);
        const m = row.reduce((a, b) => a + b, 0) / inner;
        const v = row.reduce((a, b) => a + (b - m) * (b - m), 0) / inner;
        const inv = 1 / Math.sqrt(v + epsilon);
        for (let i = 0; i < inner; i++) y.data[o * inner + i] = (row[i] - m) * inv * scale!.data[i] + (bias ? bias.data[i] : 0);
        means.data[o] = m;
        invs.data[o] = inv;
      }
      return [y, means, invs];
    },
    backward({ node, dy, needs }) {
      if (dy[1] || dy[2]) throw new Error('gradients through the Mean and InvStdDev outputs are not supported');
      const [x, scale, bias] = node.inputs as [Value, Value, Value | undefined];
      const { axis } = node.attrs;
      const g = x.graph;
      const normalized = x.shape.slice(axis);
      if (!isStaticShape(normalized)) throw new Error(`the gradient needs static normalized dimensions, got [${normalized}]`);
      const axes = normalized.map((_, i) => axis + i);
      const unitScale = isAllOnes(scale);
      const [y, , invOut] = node.outputs;
      // xhat and 1/sqrt(var + eps): the node's own Y and InvStdDev when it has them and Y is xhat
      // (unit scale, no bias: group normalization), else one more unit-scale LayerNormalization
      let xhat: Value;
      let inv: Value;
      if (invOut && unitScale && !bias) [xhat, inv] = [y, invOut];
      else {
        const ones = unitScale ? scale : g.constant(fromNumbers(x.dtype, normalized, new Float64Array(size(normalized)).fill(1)), 'ones');
        [xhat, , inv] = layerNormalizationWithStatistics(x, ones, undefined, { axis, epsilon: node.attrs.epsilon });
      }
      const d = dy[0]!;
      let dx: Value | undefined;
      if (needs[0]) {
        const gs = unitScale ? d : mul(d, scale);
        const centered = sub(gs, reduceMean(gs, axes, true));
        dx = mul(inv, sub(centered, mul(xhat, reduceMean(mul(gs, xhat), axes, true))));
      }
      const leading = Array.from({ length: axis }, (_, i) => i);
      const sumLeading = (v: Value) => (leading.length ? reduceSum(v, leading, false) : v);
      return [dx, needs[1] ? sumLeading(mul(d, xhat)) : undefined, needs[2] && bias ? sumLeading(d) : undefined];
    },
  }),
];
