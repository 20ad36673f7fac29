/**
 * The table of gradient checks: every backward rule in several geometries (broadcasting, strides,
 * groups, symbolic batch), the composed normalizations, and whole models. `excite gradcheck` and
 * the test suite both run it.
 */
import { dataDrivenCore } from '../models/data-driven-core.ts';
import { attentionReadout } from '../models/attention-readout.ts';
import { gaussianReadout } from '../models/gaussian-readout.ts';
import { Parameters } from '../models/parameters.ts';
import { silu } from '../nn/activation.ts';
import { scaledDotProductAttention } from '../nn/attention.ts';
import { batchNorm, groupNorm, layerNorm } from '../nn/normalization.ts';
import { Rng } from '../random.ts';
import type { GradCase } from './gradcheck.ts';
import type { Graph, Value } from '../onnx/graph.ts';
import { float32, int64 } from '../onnx/ndarray.ts';
import { averagePool } from '../onnx/ops/average-pool.ts';
import { concat, split } from '../onnx/ops/concat-split.ts';
import { type ConvAttrs, type ConvTransposeAttrs, conv, convTranspose } from '../onnx/ops/conv.ts';
import { einsum } from '../onnx/ops/einsum.ts';
import * as ew from '../onnx/ops/elementwise.ts';
import { expand } from '../onnx/ops/expand.ts';
import { gather } from '../onnx/ops/gather.ts';
import { globalAveragePool, globalMaxPool } from '../onnx/ops/global-pool.ts';
import { gemm, matmul } from '../onnx/ops/matmul.ts';
import { maxPool } from '../onnx/ops/max-pool.ts';
import { batchNormalization, layerNormalization, layerNormalizationWithStatistics } from '../onnx/ops/normalization.ts';
import { pad } from '../onnx/ops/pad.ts';
import { reduceMax, reduceMean, reduceSum } from '../onnx/ops/reduce.ts';
import { flatten, reshape, squeeze, unsqueeze } from '../onnx/ops/reshape.ts';
import { resize } from '../onnx/ops/resize.ts';
import { slice } from '../onnx/ops/slice.ts';
import { softmax } from '../onnx/ops/softmax.ts';
import { transpose } from '../onnx/ops/transpose.ts';
import { max, min, sum } from '../onnx/ops/variadic.ts';
import type { Shape } from '../onnx/shape.ts';

const rng = new Rng(7);
const weight = (g: Graph, name: string, shape: number[], std = 0.5) => g.weight(name, float32(shape, rng.normals(shape.reduce((a, b) => a * b, 1), std)));
const x = (g: Graph, shape: Shape, name = 'x') => g.input(name, 'float32', shape);

function unaryCase(op: string, f: (v: Value) => Value, positive = false): GradCase {
  return { op, name: '[2,3,4]', positive: positive ? ['x'] : [], build: (g) => void g.output(f(x(g, [2, 3, 4])), 'y') };
}

function binaryCase(op: string, f: (a: Value, b: Value) => Value, a: Shape, b: Shape, positive: string[] = []): GradCase {
  return { op, name: `[${a}] with [${b}]`, positive, build: (g) => void g.output(f(x(g, a, 'a'), x(g, b, 'b')), 'y') };
}

function convCase(name: string, xs: Shape, ws: number[], attrs: ConvAttrs, bias = true, bind?: Record<string, number>): GradCase {
  return {
    op: 'Conv',
    name,
    bind,
    build: (g) => void g.output(conv(x(g, xs), weight(g, 'w', ws), bias ? weight(g, 'b', [ws[0]]) : undefined, attrs), 'y'),
  };
}

function convTransposeCase(name: string, xs: Shape, ws: number[], attrs: ConvTransposeAttrs): GradCase {
  const groups = attrs.group ?? 1;
  return { op: 'ConvTranspose', name, build: (g) => void g.output(convTranspose(x(g, xs), weight(g, 'w', ws), weight(g, 'b', [ws[1] * groups]), attrs), 'y') };
}

/** A UNet block at small scale: GroupNorm, SiLU, stride-2 conv, self-attention, nearest upsample, skip concat. */
function unetBlock(g: Graph): void {
  const input = x(g, ['batch', 8, 8, 8]);
  const h0 = conv(silu(groupNorm(input, 4, weight(g, 'gn0.weight', [8]), weight(g, 'gn0.bias', [8]))), weight(g, 'conv0.weight', [8, 8, 3, 3], 0.2), weight(g, 'conv0.bias', [8]), { pads: [1, 1, 1, 1] });
  const down = conv(h0, weight(g, 'down.weight', [16, 8, 3, 3], 0.2), weight(g, 'down.bias', [16]), { strides: [2, 2], pads: [1, 1, 1, 1] }); // [B,16,4,4]
  // self-attention over the 16 positions, 2 heads of 8 channels
  const normed = groupNorm(down, 4, weight(g, 'gn1.weight', [16]), weight(g, 'gn1.bias', [16]));
  const qkv = conv(normed, weight(g, 'qkv.weight', [48, 16, 1, 1], 0.3), weight(g, 'qkv.bias', [48]));
  const heads = transpose(reshape(qkv, ['batch', 3, 2, 8, 16]), [1, 0, 2, 4, 3]); // [3, B, heads, 16, 8]
  const [q, k, v] = split(heads, [1, 1, 1], 0).map((t) => squeeze(t, [0]));
  const attended = reshape(transpose(scaledDotProductAttention(q, k, v), [0, 1, 3, 2]), ['batch', 16, 4, 4]);
  const attn = ew.add(down, conv(attended, weight(g, 'proj.weight', [16, 16, 1, 1], 0.3), weight(g, 'proj.bias', [16])));
  const up = resize(attn, { scales: [2, 2], mode: 'nearest' }); // [B,16,8,8]
  const merged = concat([up, h0], 1); // skip connection
  g.output(conv(silu(merged), weight(g, 'out.weight', [4, 24, 3, 3], 0.2), weight(g, 'out.bias', [4]), { pads: [1, 1, 1, 1] }), 'y');
}

function gaussianReadoutCase(training: boolean) {
  return (g: Graph) => {
    const p = new Parameters(g, undefined, 5);
    const features = x(g, ['batch', 3, 5, 6], 'features');
    const noise = training ? x(g, ['batch', 4, 2], 'noise') : undefined;
    g.output(gaussianReadout(features, p, { neurons: 4, initSigma: 0.3 }, { noise }), 'rates');
  };
}

function coreWithReadout(training: boolean, select?: readonly number[]) {
  return (g: Graph) => {
    const p = new Parameters(g, undefined, 3);
    // selected rows are constants here, so the batch is their number
    const image = x(g, [select ? select.length : 'batch', 1, 16, 16], 'image');
    const core = dataDrivenCore(image, p, { inputChannels: 1, channels: 8, layers: 3, inputKernel: 5, hiddenKernel: 3, batchNormEps: 1e-5 }, { training });
    const rows = select && g.constant(int64([select.length], select), 'neuron');
    g.output(attentionReadout(core.features, p, { neurons: 3, keyDim: 4 }, { select: rows }), 'rates');
  };
}

export const GRAD_CASES: GradCase[] = [
  convCase('3x3 pad 1', [2, 3, 7, 7], [4, 3, 3, 3], { pads: [1, 1, 1, 1] }),
  convCase('stride 2, asymmetric pads, 3x2 kernel', [1, 2, 8, 7], [3, 2, 3, 2], { strides: [2, 2], pads: [1, 0, 0, 1] }),
  convCase('dilation 2', [1, 2, 9, 9], [2, 2, 3, 3], { dilations: [2, 2], pads: [2, 2, 2, 2] }, false),
  convCase('groups 2, stride 2', [2, 4, 6, 6], [6, 2, 3, 3], { group: 2, strides: [2, 2], pads: [1, 1, 1, 1] }),
  convCase('depthwise 5x5, symbolic batch', ['batch', 3, 6, 6], [3, 1, 5, 5], { group: 3, pads: [2, 2, 2, 2] }, false, { batch: 2 }),
  convCase('1x1 pointwise (weight gradient as a matrix product)', ['batch', 5, 4, 3], [6, 5, 1, 1], {}, true, { batch: 2 }),
  convCase('stride 3, SAME_UPPER', [1, 2, 8, 8], [2, 2, 3, 3], { strides: [3, 3], auto_pad: 'SAME_UPPER' }),
  convTransposeCase('stride 2, pads 1, output_padding 1', [1, 3, 4, 4], [3, 2, 3, 3], { strides: [2, 2], pads: [1, 1, 1, 1], output_padding: [1, 1] }),
  convTransposeCase('groups 2, dilation 2', [2, 4, 3, 3], [4, 1, 2, 2], { group: 2, dilations: [2, 2] }),
  binaryCase('Add', ew.add, [2, 3, 4], [3, 1]),
  binaryCase('Sub', ew.sub, [3, 1], [2, 3, 4]),
  binaryCase('Mul', ew.mul, [2, 1, 4], [3, 1]),
  binaryCase('Div', ew.div, [2, 3, 4], [4], ['b']),
  binaryCase('Pow', ew.pow, [2, 3], [2, 1], ['a']),
  { op: 'Pow', name: 'constant exponent 3', build: (g) => void g.output(ew.pow(x(g, [2, 3]), 3), 'y') },
  binaryCase('MatMul', matmul, [2, 3, 4], [4, 5]),
  binaryCase('MatMul', matmul, [2, 1, 3, 4], [3, 4, 2]),
  binaryCase('Einsum', (a, b) => einsum('bhid,bhjd->bhij', a, b), [2, 2, 3, 4], [2, 2, 5, 4]),
  binaryCase('Einsum', (a, b) => einsum('bhij, bhjd -> bhid', a, b), [1, 2, 3, 5], [1, 2, 5, 4]),
  { op: 'Einsum', name: 'bchw,nc->bnhw readout, symbolic batch', bind: { batch: 2 }, build: (g) => void g.output(einsum('bchw,nc->bnhw', x(g, ['batch', 3, 2, 4]), weight(g, 'w', [5, 3])), 'y') },
  { op: 'Einsum', name: 'nchw,nhw->nc (spatial mask), symbolic batch', bind: { batch: 2 }, build: (g) => void g.output(einsum('nchw,nhw->nc', x(g, ['batch', 3, 2, 4], 'a'), x(g, ['batch', 2, 4], 'b')), 'y') },
  binaryCase('Einsum', (a, b) => einsum('ij,jk', a, b), [3, 4], [4, 2]),
  binaryCase('Einsum', (a, b) => einsum('ij,k->ik', a, b), [3, 4], [2]),
  binaryCase('Einsum', (a, b) => einsum('...ij,...jk->...ik', a, b), [2, 3, 4], [2, 4, 2]),
  { op: 'Einsum', name: 'one operand: ijk->ki (sum over j, transpose)', build: (g) => void g.output(einsum('ijk->ki', x(g, [2, 3, 4])), 'y') },
  { op: 'Einsum', name: 'one operand, implicit: ba (transpose)', build: (g) => void g.output(einsum('ba', x(g, [2, 3])), 'y') },
  { op: 'Gemm', name: 'transA, transB, alpha, beta, C [n]', build: (g) => void g.output(gemm(x(g, [4, 3], 'a'), x(g, [5, 4], 'b'), x(g, [5], 'c'), { transA: 1, transB: 1, alpha: 0.7, beta: 1.3 }), 'y') },
  { op: 'Gemm', name: 'plain, C [m, 1]', build: (g) => void g.output(gemm(x(g, [3, 4], 'a'), x(g, [4, 5], 'b'), x(g, [3, 1], 'c')), 'y') },
  unaryCase('Relu', ew.relu),
  unaryCase('Elu', (v) => ew.elu(v, 0.7)),
  unaryCase('Sigmoid', ew.sigmoid),
  unaryCase('Tanh', ew.tanh),
  unaryCase('Softplus', ew.softplus),
  unaryCase('Exp', ew.exp),
  unaryCase('Log', ew.log, true),
  unaryCase('Sqrt', ew.sqrt, true),
  unaryCase('Abs', ew.abs),
  unaryCase('Neg', ew.neg),
  unaryCase('Sin', (v) => ew.sin(ew.mul(v, 3))),
  unaryCase('Cos', (v) => ew.cos(ew.mul(v, 3))),
  unaryCase('Reciprocal', ew.reciprocal, true),
  unaryCase('Identity', (v) => ew.mul(ew.identity(v), 2)),
  unaryCase('Clip', (v) => ew.clip(v, -0.4, 0.5)),
  { op: 'Clip', name: 'lower bound only', build: (g) => void g.output(ew.clip(x(g, [2, 3, 4]), -0.3), 'y') },
  unaryCase('LeakyRelu', (v) => ew.leakyRelu(v, 0.1)),
  unaryCase('Erf', (v) => ew.erf(ew.mul(v, 2))),
  unaryCase('HardSigmoid', (v) => ew.hardSigmoid(ew.mul(v, 4), 0.3, 0.4)),
  unaryCase('HardSwish', (v) => ew.hardSwish(ew.mul(v, 5))),
  unaryCase('Dropout', (v) => ew.mul(ew.dropout(v), 2)),
  binaryCase('Max', max, [2, 3, 4], [3, 1]),
  binaryCase('Min', min, [4], [2, 3, 4]),
  { op: 'Max', name: 'three inputs, symbolic batch', bind: { batch: 2 }, build: (g) => void g.output(max(x(g, ['batch', 3], 'a'), x(g, [3], 'b'), x(g, ['batch', 1], 'c')), 'y') },
  { op: 'Min', name: 'with a constant', build: (g) => void g.output(min(x(g, [2, 3]), 0.2), 'y') },
  { op: 'Sum', name: 'three inputs, broadcast', build: (g) => void g.output(sum(x(g, [2, 3, 4], 'a'), x(g, [3, 1], 'b'), x(g, [4], 'c')), 'y') },
  { op: 'Softmax', name: 'axis 1 of [2,5,3]', build: (g) => void g.output(softmax(x(g, [2, 5, 3]), 1), 'y') },
  { op: 'ReduceSum', name: 'axis 1, keepdims 0', build: (g) => void g.output(reduceSum(x(g, [2, 3, 4]), [1], false), 'y') },
  { op: 'ReduceMean', name: 'axes [0,2] over symbolic batch', bind: { batch: 3 }, build: (g) => void g.output(reduceMean(x(g, ['batch', 3, 4]), [0, 2], true), 'y') },
  { op: 'ReduceMax', name: 'axis 2, keepdims 0', build: (g) => void g.output(reduceMax(x(g, [2, 3, 4]), [2], false), 'y') },
  { op: 'Reshape', name: '[2,3,4] to [6,-1]', build: (g) => void g.output(reshape(x(g, [2, 3, 4]), [6, -1]), 'y') },
  { op: 'Reshape', name: 'symbolic batch [b,3,4] to [b,12]', bind: { batch: 2 }, build: (g) => void g.output(reshape(x(g, ['batch', 3, 4]), [0, -1]), 'y') },
  { op: 'Flatten', name: 'axis 2', build: (g) => void g.output(flatten(x(g, [2, 3, 2, 2]), 2), 'y') },
  { op: 'Transpose', name: 'perm [2,0,1]', build: (g) => void g.output(transpose(x(g, [2, 3, 4]), [2, 0, 1]), 'y') },
  { op: 'Concat', name: 'three inputs on axis 1', build: (g) => void g.output(concat([x(g, [2, 1, 3], 'a'), x(g, [2, 2, 3], 'b'), x(g, [2, 3, 3], 'c')], 1), 'y') },
  {
    op: 'Split',
    name: 'three parts, two used',
    build: (g) => {
      const [a, , c] = split(x(g, [2, 6, 2]), [1, 2, 3], 1);
      g.output(a, 'a');
      g.output(c, 'c');
    },
  },
  { op: 'Slice', name: 'two axes, negative indices', build: (g) => void g.output(slice(x(g, [3, 5, 4]), [1, -3], [3, 100], [0, 1]), 'y') },
  { op: 'Pad', name: 'constant, negative and positive', build: (g) => void g.output(pad(x(g, [2, 3, 4]), [0, 1, -1, 1, 2, 0], 'constant', 0.5), 'y') },
  { op: 'Pad', name: 'reflect', build: (g) => void g.output(pad(x(g, [1, 2, 4, 5]), [0, 0, 2, 1, 0, 0, 3, 2], 'reflect'), 'y') },
  { op: 'Pad', name: 'edge', build: (g) => void g.output(pad(x(g, [1, 2, 4, 5]), [0, 0, 1, 3, 0, 0, 2, 1], 'edge'), 'y') },
  { op: 'Gather', name: 'axis 1, repeated and negative indices', build: (g) => void g.output(gather(x(g, [2, 4, 3]), [0, 2, -1, 2], 1), 'y') },
  {
    op: 'Where',
    name: 'broadcast condition',
    build: (g) => {
      const cond = ew.greater(g.constant(float32([3, 1], [0.5, -0.5, 1])), g.scalar(0));
      g.output(ew.where(cond, x(g, [2, 3, 4], 'a'), x(g, [4], 'b')), 'y');
    },
  },
  { op: 'Expand', name: '[3,1] to [2,3,4]', build: (g) => void g.output(expand(x(g, [3, 1]), g.ints([2, 3, 4])), 'y') },
  { op: 'Unsqueeze', name: 'axes [0,3]', build: (g) => void g.output(unsqueeze(x(g, [2, 3]), [0, 3]), 'y') },
  { op: 'Squeeze', name: 'axes [1]', build: (g) => void g.output(ew.mul(squeeze(x(g, [2, 1, 3]), [1]), 3), 'y') },
  { op: 'AveragePool', name: '3x3 stride 2 pad 1, count_include_pad 0', build: (g) => void g.output(averagePool(x(g, [1, 2, 7, 6]), { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }), 'y') },
  { op: 'AveragePool', name: '2x2 stride 2, count_include_pad 1', build: (g) => void g.output(averagePool(x(g, [2, 2, 6, 6]), { kernel_shape: [2, 2], strides: [2, 2], pads: [0, 0, 1, 1], count_include_pad: 1 }), 'y') },
  { op: 'MaxPool', name: '3x3 stride 2 pad 1 (overlapping windows), symbolic batch', bind: { batch: 2 }, build: (g) => void g.output(maxPool(x(g, ['batch', 2, 7, 6]), { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }), 'y') },
  { op: 'MaxPool', name: 'ceil_mode, 2x2 stride 2 pad 1 on 5x5 (last window dropped)', build: (g) => void g.output(maxPool(x(g, [1, 2, 5, 5]), { kernel_shape: [2, 2], strides: [2, 2], pads: [1, 1, 1, 1], ceil_mode: 1 }), 'y') },
  { op: 'MaxPool', name: 'ceil_mode, 3x2 kernel stride 2, dilations [1,2] on 6x7', build: (g) => void g.output(maxPool(x(g, [2, 1, 6, 7]), { kernel_shape: [3, 2], strides: [2, 2], dilations: [1, 2], ceil_mode: 1 }), 'y') },
  { op: 'MaxPool', name: '2x2 stride 1 (elements in up to four windows), 8 channels', build: (g) => void g.output(maxPool(x(g, [1, 8, 4, 4]), { kernel_shape: [2, 2] }), 'y') },
  { op: 'GlobalAveragePool', name: 'symbolic batch [b,3,4,5]', bind: { batch: 2 }, build: (g) => void g.output(globalAveragePool(x(g, ['batch', 3, 4, 5])), 'y') },
  { op: 'GlobalMaxPool', name: '[2,3,4,5]', build: (g) => void g.output(globalMaxPool(x(g, [2, 3, 4, 5])), 'y') },
  { op: 'Resize', name: 'nearest x2', build: (g) => void g.output(resize(x(g, [1, 2, 3, 4]), { scales: [2, 2], mode: 'nearest' }), 'y') },
  { op: 'Resize', name: 'nearest 7x5 to 3x8, asymmetric floor', build: (g) => void g.output(resize(x(g, [1, 1, 7, 5]), { size: [3, 8], mode: 'nearest', coordinateTransform: 'asymmetric', nearestMode: 'floor' }), 'y') },
  { op: 'Resize', name: 'linear, align_corners false, 6x6 to 4x9', build: (g) => void g.output(resize(x(g, [1, 2, 6, 6]), { size: [4, 9], mode: 'linear', coordinateTransform: 'half_pixel' }), 'y') },
  { op: 'Resize', name: 'linear, align_corners true, 5x4 to 8x3', bind: { batch: 2 }, build: (g) => void g.output(resize(x(g, ['batch', 1, 5, 4]), { size: [8, 3], mode: 'linear', coordinateTransform: 'align_corners' }), 'y') },
  {
    op: 'Resize',
    name: 'as PyTorch exports bilinear: linear, pytorch_half_pixel, scales [1,1,2,2], empty roi',
    build: (g) => {
      const node = g.node('Resize', [x(g, [1, 2, 3, 4]), g.constant(float32([0])), g.constant(float32([4], [1, 1, 2, 2]))], { mode: 'linear', coordinate_transformation_mode: 'pytorch_half_pixel' });
      g.output(node[0], 'y');
    },
  },
  {
    op: 'Resize',
    name: 'as PyTorch exports nearest: asymmetric, floor, scales [1,1,2,3], symbolic batch',
    bind: { batch: 2 },
    build: (g) => {
      const node = g.node('Resize', [x(g, ['batch', 2, 3, 3]), g.constant(float32([0])), g.constant(float32([4], [1, 1, 2, 3]))], { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' });
      g.output(node[0], 'y');
    },
  },
  { op: 'Resize', name: 'linear, half_pixel, downscale 0.5', build: (g) => void g.output(resize(x(g, [1, 1, 6, 8]), { scales: [0.5, 0.5], mode: 'linear', coordinateTransform: 'half_pixel' }), 'y') },
  { op: 'Softmax', name: 'axis -1 of symbolic [b,3,4]', bind: { batch: 2 }, build: (g) => void g.output(softmax(x(g, ['batch', 3, 4]), -1), 'y') },
  {
    op: 'Flatten',
    name: 'axes 0 and -1 of symbolic [b,3,2]',
    bind: { batch: 2 },
    build: (g) => {
      g.output(flatten(x(g, ['batch', 3, 2], 'a'), 0), 'y0');
      g.output(flatten(x(g, ['batch', 3, 2], 'b'), -1), 'y1');
    },
  },
  {
    op: 'BatchNorm',
    name: 'training (batch statistics), symbolic batch',
    bind: { batch: 3 },
    build: (g) => {
      const bn = batchNorm(x(g, ['batch', 2, 3, 3]), { gamma: weight(g, 'gamma', [2]), beta: weight(g, 'beta', [2]), runningMean: g.constant(float32([2])), runningVar: g.constant(float32([2], [1, 1])) }, { training: true });
      g.output(bn.y, 'y');
    },
  },
  {
    op: 'BatchNorm',
    name: 'inference (running statistics)',
    build: (g) => {
      const bn = batchNorm(x(g, [2, 2, 3, 3]), { gamma: weight(g, 'gamma', [2]), beta: weight(g, 'beta', [2]), runningMean: weight(g, 'mean', [2]), runningVar: g.constant(float32([2], [0.5, 2])) }, { training: false });
      g.output(bn.y, 'y');
    },
  },
  {
    op: 'BatchNormalization',
    name: '[2,3,4,4], gradients to X, scale and B',
    build: (g) => {
      const p = { scale: weight(g, 'scale', [3]), bias: weight(g, 'bias', [3]), mean: g.constant(float32([3], [0.1, -0.2, 0.3])), variance: g.constant(float32([3], [0.5, 1.5, 2])) };
      g.output(batchNormalization(x(g, [2, 3, 4, 4]), p, 1e-3), 'y');
    },
  },
  {
    op: 'BatchNormalization',
    name: 'symbolic batch [b,3,5], gradients to the statistics too',
    bind: { batch: 2 },
    build: (g) => {
      const p = { scale: weight(g, 'scale', [3]), bias: weight(g, 'bias', [3]), mean: weight(g, 'mean', [3]), variance: g.weight('variance', float32([3], [0.7, 1.1, 2.5])) };
      g.output(batchNormalization(x(g, ['batch', 3, 5]), p), 'y');
    },
  },
  { op: 'BatchNormalization', name: '[4,3] (no spatial axes)', build: (g) => void g.output(batchNormalization(x(g, [4, 3]), { scale: weight(g, 'scale', [3]), bias: weight(g, 'bias', [3]), mean: weight(g, 'mean', [3]), variance: g.constant(float32([3], [1, 2, 3])) }), 'y') },
  { op: 'LayerNormalization', name: 'last axis of [2,3,5]', build: (g) => void g.output(layerNormalization(x(g, [2, 3, 5]), weight(g, 'scale', [5]), weight(g, 'bias', [5])), 'y') },
  { op: 'LayerNormalization', name: 'axis 1 of symbolic [b,3,4], no bias, epsilon 1e-3', bind: { batch: 2 }, build: (g) => void g.output(layerNormalization(x(g, ['batch', 3, 4]), weight(g, 'scale', [3, 4]), undefined, { axis: 1, epsilon: 1e-3 }), 'y') },
  { op: 'LayerNormalization', name: 'axis -2 of [2,3,4]', build: (g) => void g.output(layerNormalization(x(g, [2, 3, 4]), weight(g, 'scale', [3, 4]), weight(g, 'bias', [3, 4]), { axis: -2 }), 'y') },
  { op: 'LayerNormalization', name: 'GroupNorm form: [b,2,18] over axis 2', bind: { batch: 2 }, build: (g) => void g.output(layerNormalization(x(g, ['batch', 2, 18]), weight(g, 'scale', [18]), undefined, { axis: 2 }), 'y') },
  // the SiLU rule of Mul (x * sigmoid(x) differentiated as a whole), either operand order, with
  // the sigmoid also read by another node so that both paths into x add up
  { op: 'Mul', name: 'SiLU, sigmoid(x) * x, the sigmoid read twice', build: (g) => { const v = x(g, [2, 3, 4]); const s = ew.sigmoid(v); g.output(ew.add(ew.mul(s, v), ew.mul(ew.mul(v, s), s)), 'y'); } },
  // Y and InvStdDev of a unit-scale node reused by its gradient (group normalization's form)
  { op: 'LayerNormalization', name: 'unit constant scale, no bias, with statistics, [2,3,6]', build: (g) => void g.output(ew.mul(layerNormalizationWithStatistics(x(g, [2, 3, 6]), g.constant(float32([6], new Float32Array(6).fill(1)), 'ones'), undefined)[0], weight(g, 'w', [2, 3, 6])), 'y') },
  { op: 'GroupNorm', name: '2 groups of [2,4,3,3]', build: (g) => void g.output(groupNorm(x(g, [2, 4, 3, 3]), 2, weight(g, 'gamma', [4]), weight(g, 'beta', [4])), 'y') },
  { op: 'LayerNorm', name: 'last axis of [2,3,5]', build: (g) => void g.output(layerNorm(x(g, [2, 3, 5]), weight(g, 'gamma', [5]), weight(g, 'beta', [5])), 'y') },
  { op: 'model', name: 'Gaussian readout (bilinear sampling at learned positions)', bind: { batch: 2 }, build: gaussianReadoutCase(false) },
  { op: 'model', name: 'Gaussian readout in training (positions mu + sigma * noise)', bind: { batch: 2 }, build: gaussianReadoutCase(true) },
  { op: 'model', name: 'data-driven core + attention readout (inference)', bind: { batch: 2 }, directions: 6, build: coreWithReadout(false) },
  { op: 'model', name: 'data-driven core + attention readout (training batch norm)', bind: { batch: 3 }, directions: 6, build: coreWithReadout(true) },
  { op: 'model', name: 'data-driven core + attention readout of one neuron per image (synthesis)', bind: { batch: 2 }, directions: 6, build: coreWithReadout(false, [2, 0]) },
  { op: 'model', name: 'UNet block: GroupNorm, SiLU, stride-2 conv, self-attention, nearest upsample, skip concat', bind: { batch: 2 }, directions: 6, build: unetBlock },
];

/** The operators the engine promises gradients for (issue: engine foundation). */
export const REQUIRED_GRADIENT_OPS = [
  'Conv', 'ConvTranspose', 'Add', 'Sub', 'Mul', 'Div', 'Pow', 'MatMul', 'Gemm', 'Relu', 'Elu', 'Sigmoid', 'Tanh', 'Softplus', 'Exp', 'Log', 'Sqrt', 'Abs',
  'Neg', 'Clip', 'Sin', 'Cos', 'Softmax', 'ReduceSum', 'ReduceMean', 'ReduceMax', 'Reshape', 'Flatten', 'Transpose', 'Concat', 'Split', 'Slice', 'Pad',
  'Gather', 'Where', 'Expand', 'Unsqueeze', 'Squeeze', 'Identity', 'AveragePool', 'Resize', 'BatchNorm', 'GroupNorm', 'LayerNorm',
];
