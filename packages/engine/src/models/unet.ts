/**
 * The diffusion UNet of ADM (Dhariwal & Nichol 2021; openai/guided-diffusion, unet.py UNetModel)
 * over the graph builder, for the diffusion prior. Weights carry the names and shapes of
 * UNetModel's PyTorch state_dict (`time_embed.0.weight`, `input_blocks.1.0.in_layers.0.weight`,
 * `middle_block.1.qkv.weight` [3C, C, 1], `out.2.weight`, ...), so an ADM checkpoint maps onto it
 * name by name; 1-D convolutions and linear layers keep PyTorch's layouts and are reshaped inside
 * the graph (constant-folded by onnxruntime when the weights are initializers).
 *
 * Inputs: `x` [batch, C, H, W] and `t` [batch] float32 (original timestep indices, the values ADM's
 * network receives). Outputs: `eps` [batch, C, H, W] and, with learned sigma, `v` [batch, C, H, W]:
 * the last convolution's 2C channels (ADM's one output) are split in the graph so that the
 * gradient of an energy of x0 needs a seed for `eps` only.
 *
 * Precision 'float16' follows guided-diffusion's use_fp16 (what the paper sampled with): the
 * convolutions of the input, middle and output blocks compute in float16 (their float32 weights
 * are cast in the graph, a cast onnxruntime folds when it creates the session), GroupNorm runs in
 * float32 (GroupNorm32), the timestep embedding and its linear layers stay float32, attention
 * scales q and k by ch^-1/4 each before their product and takes the softmax in float32, and the
 * output layers run in float32. Inputs and outputs stay float32 either way.
 */
import { silu } from '../nn/activation.ts';
import { scaledDotProductAttention } from '../nn/attention.ts';
import { groupNorm } from '../nn/normalization.ts';
import { timestepEmbedding } from '../nn/timestep-embedding.ts';
import { Graph, type Value } from '../onnx/graph.ts';
import type { NdArray } from '../onnx/ndarray.ts';
import { averagePool } from '../onnx/ops/average-pool.ts';
import { concat, split } from '../onnx/ops/concat-split.ts';
import { conv } from '../onnx/ops/conv.ts';
import { add, cast, mul } from '../onnx/ops/elementwise.ts';
import { gemm, matmul } from '../onnx/ops/matmul.ts';
import { reshape, unsqueeze } from '../onnx/ops/reshape.ts';
import { resize } from '../onnx/ops/resize.ts';
import { softmax } from '../onnx/ops/softmax.ts';
import { transposeLast2 } from '../onnx/ops/transpose.ts';
import { size } from '../onnx/shape.ts';
import { type Init, Parameters, constant } from './parameters.ts';

/** UNetModel's arguments (inference: no dropout, no class conditioning, no fp16). */
export interface UNetConfig {
  imageSize: number;
  inChannels: number;
  modelChannels: number;
  channelMult: readonly number[];
  numResBlocks: number;
  /** image sizes (pixels) at which res blocks are followed by attention, as ADM's scripts take them ("32,16,8") */
  attentionResolutions: readonly number[];
  /** heads per attention layer, unless numHeadChannels fixes the channels per head */
  numHeads: number;
  /** channels per head; -1 to use numHeads */
  numHeadChannels: number;
  /** heads in the output (upsampling) half; -1 for numHeads */
  numHeadsUpsample: number;
  /** FiLM: the timestep embedding scales and shifts the normalized activations */
  useScaleShiftNorm: boolean;
  /** res blocks with built-in up/downsampling instead of Upsample/Downsample layers */
  resblockUpdown: boolean;
  /** Upsample/Downsample with a learned 3x3 convolution (else nearest / 2x2 average pool only) */
  convResample: boolean;
  /** split heads before q, k, v (ADM's QKVAttention) instead of the legacy order */
  useNewAttentionOrder: boolean;
  /** predict the variance interpolation v too: 2C output channels */
  learnSigma: boolean;
  /** GroupNorm groups (ADM: 32) */
  normGroups: number;
}

/**
 * ADM 256x256 unconditional (the paper's prior, docs/synthesis.md): about 550M parameters, do not
 * instantiate lightly.
 */
export const ADM_256_UNCONDITIONAL: UNetConfig = {
  imageSize: 256,
  inChannels: 3,
  modelChannels: 256,
  channelMult: [1, 1, 2, 2, 4, 4],
  numResBlocks: 2,
  attentionResolutions: [32, 16, 8],
  numHeads: 4,
  numHeadChannels: 64,
  numHeadsUpsample: -1,
  useScaleShiftNorm: true,
  resblockUpdown: true,
  convResample: true,
  useNewAttentionOrder: false,
  learnSigma: true,
  normGroups: 32,
};

/** A small grayscale prior (64x64, 32-64 channels, attention at 16 and 8) that runs fast on the CPU. */
export const SMALL_UNET: UNetConfig = {
  imageSize: 64,
  inChannels: 1,
  modelChannels: 32,
  channelMult: [1, 2, 2, 2],
  numResBlocks: 1,
  attentionResolutions: [16, 8],
  numHeads: 1,
  numHeadChannels: 32,
  numHeadsUpsample: -1,
  useScaleShiftNorm: true,
  resblockUpdown: true,
  convResample: true,
  useNewAttentionOrder: false,
  learnSigma: true,
  normGroups: 8,
};

/** Where the UNet's convolutions compute (see the file comment). */
export type UNetPrecision = 'float32' | 'float16';

export interface UNetInitOptions {
  /**
   * Zero the layers ADM wraps in zero_module (each res block's last conv, attention's proj_out,
   * the output conv), as for training from scratch; a fresh model then predicts eps = 0. Off by
   * default, so random-weight models compute something non-trivial.
   */
  zeroModules?: boolean;
  /** 'float16': guided-diffusion's use_fp16 (default 'float32') */
  precision?: UNetPrecision;
}

export interface UNetOutputs {
  eps: Value;
  /** ADM's variance channels (learned sigma only) */
  v?: Value;
}

/** PyTorch's default for Conv and Linear weights and biases: U(-1/sqrt(fan_in), 1/sqrt(fan_in)). */
const fanInUniform =
  (fanIn: number): Init =>
  (shape, rng) =>
    rng.uniforms(size(shape), -1 / Math.sqrt(fanIn), 1 / Math.sqrt(fanIn));

/** What the block builders share: the parameters, the architecture and the timestep embedding. */
interface Context {
  p: Parameters;
  cfg: UNetConfig;
  /** zero-initialize the zero_module layers */
  zero: boolean;
  /** SiLU of the timestep embedding: every res block's emb_layers begins with it */
  embActivated: Value;
  embDim: number;
  /** the blocks' activations and convolutions: float32, or float16 (use_fp16) */
  dtype: 'float32' | 'float16';
}

/** A float32 value in `dtype` (no node when it already is). */
const as = (v: Value, dtype: Value['dtype']): Value => (v.dtype === dtype ? v : cast(v, dtype));

/** conv_nd(2, cin, cout, k, padding=(k-1)/2): weight [cout, cin, k, k], bias [cout]. */
function conv2d(p: Parameters, h: Value, name: string, cin: number, cout: number, k: number, o: { stride?: number; zero?: boolean } = {}): Value {
  const init = o.zero ? constant(0) : fanInUniform(cin * k * k);
  const pad = (k - 1) / 2;
  const s = o.stride ?? 1;
  const w = as(p.weight(`${name}.weight`, [cout, cin, k, k], init), h.dtype);
  return conv(h, w, as(p.weight(`${name}.bias`, [cout], init), h.dtype), { pads: [pad, pad, pad, pad], strides: [s, s] });
}

/** conv_nd(1, cin, cout, 1) on [B, cin, T]: weight [cout, cin, 1] used as a [cout, cin] matrix. */
function conv1x1(p: Parameters, h: Value, name: string, cin: number, cout: number, zero = false): Value {
  const init = zero ? constant(0) : fanInUniform(cin);
  const w = as(p.weight(`${name}.weight`, [cout, cin, 1], init), h.dtype);
  const b = as(p.weight(`${name}.bias`, [cout], init), h.dtype);
  return add(matmul(reshape(w, [cout, cin]), h), reshape(b, [cout, 1]));
}

/** nn.Linear: weight [out, in], y = x W^T + b. */
function linear(p: Parameters, h: Value, name: string, fin: number, fout: number): Value {
  const init = fanInUniform(fin);
  return gemm(h, p.weight(`${name}.weight`, [fout, fin], init), p.weight(`${name}.bias`, [fout], init), { transB: 1 });
}

/** GroupNorm32 (eps 1e-5, affine), with the configured number of groups: in float32, back to h's type. */
function norm(c: Context, h: Value, name: string, channels: number): Value {
  const y = groupNorm(as(h, 'float32'), c.cfg.normGroups, c.p.weight(`${name}.weight`, [channels], constant(1)), c.p.weight(`${name}.bias`, [channels], constant(0)), 1e-5);
  return as(y, h.dtype);
}

/** Parameter-free resampling: nearest x2 (PyTorch's floor indexing) or 2x2 average pooling. */
function resample(h: Value, direction: 'up' | 'down'): Value {
  return direction === 'up'
    ? resize(h, { scales: [2, 2], mode: 'nearest', coordinateTransform: 'asymmetric', nearestMode: 'floor' })
    : averagePool(h, { kernel_shape: [2, 2], strides: [2, 2] });
}

/** ADM's ResBlock: GroupNorm-SiLU-conv, timestep conditioning (added, or FiLM), GroupNorm-SiLU-conv, skip. */
function resBlock(c: Context, x: Value, name: string, cin: number, cout: number, updown?: 'up' | 'down'): Value {
  return x.graph.scope(name, () => {
    let skip = x;
    let h = silu(norm(c, x, `${name}.in_layers.0`, cin));
    if (updown) {
      // up/down happens between the activation and the first conv, on both paths
      h = resample(h, updown);
      skip = resample(skip, updown);
    }
    h = conv2d(c.p, h, `${name}.in_layers.2`, cin, cout, 3);
    const film = c.cfg.useScaleShiftNorm;
    // emb_layers is a Linear: float32, its output in the blocks' type
    const embOut = as(unsqueeze(linear(c.p, c.embActivated, `${name}.emb_layers.1`, c.embDim, film ? 2 * cout : cout), [2, 3]), c.dtype);
    if (film) {
      const [scale, shift] = split(embOut, [cout, cout], 1);
      h = add(mul(norm(c, h, `${name}.out_layers.0`, cout), add(scale, 1)), shift);
    } else {
      h = norm(c, add(h, embOut), `${name}.out_layers.0`, cout);
    }
    h = conv2d(c.p, silu(h), `${name}.out_layers.3`, cout, cout, 3, { zero: c.zero });
    if (cout !== cin) skip = conv2d(c.p, skip, `${name}.skip_connection`, cin, cout, 1);
    return add(skip, h);
  });
}

/**
 * ADM's AttentionBlock: self-attention over the H*W positions. The 1-D conv qkv gives [B, 3C, T];
 * the legacy order (QKVAttentionLegacy, ADM's default and its checkpoints') reads it per head as
 * [heads, 3 * ch] (q, k, v of head 0, then of head 1, ...); the new order (QKVAttention) as
 * [3, heads * ch]. Logits are q.k / sqrt(ch), ch = channels per head.
 */
function attentionBlock(c: Context, x: Value, name: string, channels: number, heads: number): Value {
  return x.graph.scope(name, () => {
    const [, C, H, W] = x.shape as [unknown, number, number, number];
    const T = H * W;
    const ch = channels / heads;
    if (!Number.isInteger(ch)) throw new Error(`${name}: ${channels} channels do not split into ${heads} heads`);
    const flat = reshape(x, [0, C, T]);
    const qkv = conv1x1(c.p, reshape(norm(c, x, `${name}.norm`, C), [0, C, T]), `${name}.qkv`, C, 3 * C);
    const [q, k, v] = c.cfg.useNewAttentionOrder
      ? split(qkv, [C, C, C], 1).map((part) => reshape(part, [0, heads, ch, T]))
      : split(reshape(qkv, [0, heads, 3 * ch, T]), [ch, ch, ch], 2);
    // [B, heads, ch, T] -> positions first for attention, back after; heads concatenate head-major
    const attended = transposeLast2(attention(transposeLast2(q), transposeLast2(k), transposeLast2(v)));
    const h = conv1x1(c.p, reshape(attended, [0, C, T]), `${name}.proj_out`, C, C, c.zero);
    return reshape(add(flat, h), [0, C, H, W]);
  });
}

/**
 * softmax(q k^T / sqrt(ch)) v over [.., T, ch] per head. In float16 as QKVAttentionLegacy: q and k
 * each scaled by ch^-1/4 before their product (no overflow), the softmax in float32.
 */
function attention(q: Value, k: Value, v: Value): Value {
  const ch = q.shape[q.rank - 1] as number;
  if (q.dtype === 'float32') return scaledDotProductAttention(q, k, v);
  const s = ch ** -0.25;
  const logits = matmul(mul(q, s), transposeLast2(mul(k, s)));
  return matmul(cast(softmax(cast(logits, 'float32'), -1), q.dtype), v);
}

/** Heads of an attention layer at `channels` (num_head_channels wins over a head count). */
function headsFor(cfg: UNetConfig, channels: number, upsampling: boolean): number {
  if (cfg.numHeadChannels !== -1) {
    if (channels % cfg.numHeadChannels !== 0) throw new Error(`${channels} channels are not divisible by ${cfg.numHeadChannels} channels per head`);
    return channels / cfg.numHeadChannels;
  }
  return upsampling && cfg.numHeadsUpsample !== -1 ? cfg.numHeadsUpsample : cfg.numHeads;
}

/** The UNet of x [B, C, H, W] at timesteps t [B] (see the file comment for names and layouts). */
export function unet(x: Value, t: Value, p: Parameters, cfg: UNetConfig, options: UNetInitOptions = {}): UNetOutputs {
  const g = x.graph;
  const [, C, H, W] = x.shape;
  if (C !== cfg.inChannels || H !== cfg.imageSize || W !== cfg.imageSize) {
    throw new Error(`the UNet expects x [batch, ${cfg.inChannels}, ${cfg.imageSize}, ${cfg.imageSize}], got [${x.shape}]`);
  }
  const levels = cfg.channelMult.length;
  if (cfg.imageSize % 2 ** (levels - 1) !== 0) throw new Error(`image size ${cfg.imageSize} does not halve ${levels - 1} times`);
  const mc = cfg.modelChannels;
  const embDim = 4 * mc;
  // ADM's scripts turn attention resolutions into downsampling factors ds = image_size // res
  const attentionDs = cfg.attentionResolutions.map((r) => Math.floor(cfg.imageSize / r));

  const emb = g.scope('time_embed', () => {
    const e = linear(p, timestepEmbedding(t, mc), 'time_embed.0', mc, embDim);
    return linear(p, silu(e), 'time_embed.2', embDim, embDim);
  });
  const dtype = options.precision ?? 'float32';
  const c: Context = { p, cfg, zero: options.zeroModules ?? false, embActivated: silu(emb), embDim, dtype };

  const ch0 = cfg.channelMult[0] * mc;
  let h = conv2d(p, as(x, dtype), 'input_blocks.0.0', cfg.inChannels, ch0, 3);
  const skips: { value: Value; channels: number }[] = [{ value: h, channels: ch0 }];
  let ch = ch0;
  let ds = 1;
  let block = 1;
  for (const [level, mult] of cfg.channelMult.entries()) {
    for (let r = 0; r < cfg.numResBlocks; r++) {
      const name = `input_blocks.${block++}`;
      h = resBlock(c, h, `${name}.0`, ch, mult * mc);
      ch = mult * mc;
      if (attentionDs.includes(ds)) h = attentionBlock(c, h, `${name}.1`, ch, headsFor(cfg, ch, false));
      skips.push({ value: h, channels: ch });
    }
    if (level !== levels - 1) {
      const name = `input_blocks.${block++}.0`;
      if (cfg.resblockUpdown) h = resBlock(c, h, name, ch, ch, 'down');
      else h = g.scope(name, () => (cfg.convResample ? conv2d(p, h, `${name}.op`, ch, ch, 3, { stride: 2 }) : resample(h, 'down')));
      skips.push({ value: h, channels: ch });
      ds *= 2;
    }
  }

  h = resBlock(c, h, 'middle_block.0', ch, ch);
  h = attentionBlock(c, h, 'middle_block.1', ch, headsFor(cfg, ch, false));
  h = resBlock(c, h, 'middle_block.2', ch, ch);

  block = 0;
  for (let level = levels - 1; level >= 0; level--) {
    const mult = cfg.channelMult[level];
    for (let i = 0; i <= cfg.numResBlocks; i++) {
      const name = `output_blocks.${block++}`;
      const skip = skips.pop()!;
      h = resBlock(c, concat([h, skip.value], 1), `${name}.0`, ch + skip.channels, mult * mc);
      ch = mult * mc;
      let layer = 1;
      if (attentionDs.includes(ds)) h = attentionBlock(c, h, `${name}.${layer++}`, ch, headsFor(cfg, ch, true));
      if (level > 0 && i === cfg.numResBlocks) {
        const up = `${name}.${layer}`;
        if (cfg.resblockUpdown) h = resBlock(c, h, up, ch, ch, 'up');
        else h = g.scope(up, () => (cfg.convResample ? conv2d(p, resample(h, 'up'), `${up}.conv`, ch, ch, 3) : resample(h, 'up')));
        ds /= 2;
      }
    }
  }

  const outChannels = cfg.learnSigma ? 2 * cfg.inChannels : cfg.inChannels;
  // the output layers are not converted by use_fp16: float32
  const out = g.scope('out', () => conv2d(p, silu(norm(c, as(h, 'float32'), 'out.0', ch)), 'out.2', ch0, outChannels, 3, { zero: c.zero }));
  if (!cfg.learnSigma) return { eps: out };
  const [eps, v] = split(out, [cfg.inChannels, cfg.inChannels], 1);
  return { eps, v };
}

export interface UNetGraphOptions extends UNetInitOptions {
  /** weights by state_dict name (e.g. a converted ADM checkpoint); random when absent */
  weights?: ReadonlyMap<string, NdArray>;
  /** seed of the random initialization */
  seed?: number;
}

/** A graph with inputs `x` [batch, C, H, W], `t` [batch] and outputs `eps` (and `v`). */
export function unetGraph(cfg: UNetConfig, options: UNetGraphOptions = {}): { graph: Graph; parameters: Parameters } {
  const graph = new Graph('unet');
  const parameters = new Parameters(graph, options.weights, options.seed ?? 0);
  const x = graph.input('x', 'float32', ['batch', cfg.inChannels, cfg.imageSize, cfg.imageSize]);
  const t = graph.input('t', 'float32', ['batch']);
  const { eps, v } = unet(x, t, parameters, cfg, options);
  graph.output(eps, 'eps');
  if (v) graph.output(v, 'v');
  return { graph, parameters };
}

/** Declares each weight with its shape and no data: the names of a 550M-parameter model without its memory. */
class ShapesOnly extends Parameters {
  override weight(name: string, shape: readonly number[]) {
    this.trainable.push(name);
    return this.graph.weight(name, { dtype: 'float32', shape: [...shape], data: new Float32Array(0) });
  }
}

/** The state_dict a UNet config needs, name -> shape, in UNetModel.state_dict() order (no weights allocated). */
export function unetWeightShapes(config: UNetConfig): Map<string, readonly number[]> {
  const g = new Graph('unet-shapes');
  const p = new ShapesOnly(g);
  unet(g.input('x', 'float32', ['batch', config.inChannels, config.imageSize, config.imageSize]), g.input('t', 'float32', ['batch']), p, config);
  return new Map(p.trainable.map((name) => [name, g.weights.get(name)!.shape as readonly number[]]));
}
