import { createHash } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { appendBackward } from '../onnx/autodiff.ts';
import { evaluate } from '../onnx/evaluate.ts';
import { type GradCase, gradcheck } from '../gradcheck/gradcheck.ts';
import { Graph } from '../onnx/graph.ts';
import { type NdArray, float32, toNumbers } from '../onnx/ndarray.ts';
import { Rng } from '../random.ts';
import { createSession } from '../runtime/session.ts';
import { Parameters } from './parameters.ts';
import { ADM_256_UNCONDITIONAL, SMALL_UNET, type UNetConfig, unet, unetGraph } from './unet.ts';

// this suite's time limit: full UNet forward and backward passes: about 20 s a test
vi.setConfig({ testTimeout: 180_000 });

/** 8x8, two levels, attention at 4x4 and in the middle: ADM's defaults for the paper's prior (FiLM, res-block resampling, learned sigma, legacy attention order). */
const TINY: UNetConfig = { ...SMALL_UNET, imageSize: 8, inChannels: 2, modelChannels: 8, channelMult: [1, 2], attentionResolutions: [4], numHeadChannels: 4, normGroups: 4 };
/** the other settings: conv resampling, added embedding, one output, new attention order by head count */
const TINY_PLAIN: UNetConfig = { ...TINY, resblockUpdown: false, useScaleShiftNorm: false, learnSigma: false, useNewAttentionOrder: true, numHeadChannels: -1, numHeads: 2 };

function maxRelErr(got: NdArray, expected: ArrayLike<number>): number {
  const g = toNumbers(got);
  let err = 0;
  let scale = 0;
  for (let i = 0; i < g.length; i++) {
    err = Math.max(err, Math.abs(g[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return err / scale;
}

const noise = (shape: number[], seed: number) => float32(shape, new Rng(seed).normals(shape.reduce((a, b) => a * b, 1)));

describe('the small UNet preset (64x64 grayscale)', () => {
  const { graph } = unetGraph(SMALL_UNET, { seed: 1 });

  it('takes x [batch, 1, 64, 64] and t [batch], gives eps and v of x\'s shape', () => {
    expect(graph.inputs.map(String)).toEqual(['x: float32[batch, 1, 64, 64]', 't: float32[batch]']);
    expect(graph.outputs.map(String)).toEqual(['eps: float32[batch, 1, 64, 64]', 'v: float32[batch, 1, 64, 64]']);
    const params = [...graph.weights.values()].reduce((n, w) => n + w.data!.data.length, 0);
    expect(params).toBe(1_964_162); // what guided-diffusion's UNetModel counts for these arguments
  });

  it('names weights as guided-diffusion\'s state_dict, in PyTorch layouts', () => {
    const shape = (name: string) => graph.weights.get(name)?.shape;
    expect(shape('time_embed.0.weight')).toEqual([128, 32]);
    expect(shape('time_embed.2.bias')).toEqual([128]);
    expect(shape('input_blocks.0.0.weight')).toEqual([32, 1, 3, 3]);
    expect(shape('input_blocks.1.0.in_layers.0.weight')).toEqual([32]);
    expect(shape('input_blocks.1.0.emb_layers.1.weight')).toEqual([64, 128]); // FiLM: scale and shift
    expect(shape('input_blocks.2.0.out_layers.3.weight')).toEqual([32, 32, 3, 3]); // res block downsampling
    expect(shape('input_blocks.3.0.skip_connection.weight')).toEqual([64, 32, 1, 1]);
    expect(shape('input_blocks.5.1.qkv.weight')).toEqual([192, 64, 1]); // attention at 16x16
    expect(shape('middle_block.1.proj_out.weight')).toEqual([64, 64, 1]);
    expect(shape('output_blocks.3.2.in_layers.2.weight')).toEqual([64, 64, 3, 3]); // res block upsampling 16 -> 32
    expect(shape('out.2.weight')).toEqual([2, 32, 3, 3]); // eps and v
  });

  it('runs on onnxruntime with independent batch items', async () => {
    const session = await createSession(graph);
    try {
      const x = noise([2, 1, 64, 64], 2);
      const both = await session.run({ x, t: float32([2], [10, 900]) });
      for (const name of ['eps', 'v']) expect(toNumbers(both[name]).every(Number.isFinite)).toBe(true);
      const first = await session.run({ x: float32([1, 1, 64, 64], x.data.subarray(0, 4096)), t: float32([1], [10]) });
      expect(maxRelErr(first.eps, toNumbers(both.eps).subarray(0, 4096))).toBeLessThan(1e-5);
    } finally {
      await session.release();
    }
  });
});

describe('the ADM 256x256 unconditional preset', () => {
  /** Declares each weight with its shape but no data: the 550M-parameter model's names without its memory. */
  class ShapesOnly extends Parameters {
    override weight(name: string, shape: readonly number[]) {
      return this.graph.weight(name, { dtype: 'float32', shape: [...shape], data: new Float32Array(0) });
    }
  }

  it('declares exactly the state_dict of guided-diffusion\'s 256x256_diffusion_uncond model', () => {
    const g = new Graph('adm');
    const cfg = ADM_256_UNCONDITIONAL;
    const x = g.input('x', 'float32', ['batch', 3, 256, 256]);
    const { eps, v } = unet(x, g.input('t', 'float32', ['batch']), new ShapesOnly(g), cfg);
    expect([eps.shape, v?.shape]).toEqual([x.shape, x.shape]);
    const weights = [...g.weights.values()];
    expect(weights).toHaveLength(566);
    expect(weights.reduce((n, w) => n + w.shape.reduce<number>((a, d) => a * (d as number), 1), 0)).toBe(552_814_086);
    // sha256 of "name:shape" lines in state_dict order, from UNetModel(...).state_dict() in PyTorch
    const listing = weights.map((w) => `${w.name}:${w.shape.join(',')}`).join('\n');
    expect(createHash('sha256').update(listing).digest('hex')).toBe('8ca1d3c546a65f4ed8dc43d7ce635150c2a198554cce0ba84b4cff3f1e7cdb6e');
  });
});

function tinyCase(name: string, cfg: UNetConfig, wrt: string[]): GradCase {
  return {
    op: 'model',
    name,
    bind: { batch: 2 },
    directions: 4,
    wrt: ['x', ...wrt],
    build: (g) => {
      const x = g.input('x', 'float32', ['batch', cfg.inChannels, cfg.imageSize, cfg.imageSize]);
      const { eps, v } = unet(x, g.input('t', 'float32', ['batch']), new Parameters(g, undefined, 4), cfg);
      g.output(eps, 'eps');
      if (v) g.output(v, 'v');
    },
  };
}

describe('tiny UNets: gradients and onnxruntime against the float64 reference', () => {
  const cases = [
    tinyCase('UNet: FiLM, res-block resampling, learned sigma, legacy attention', TINY, [
      'time_embed.0.weight',
      'input_blocks.2.0.in_layers.2.weight',
      'input_blocks.3.1.qkv.weight',
      'middle_block.1.proj_out.weight',
      'output_blocks.1.2.emb_layers.1.weight',
      'out.2.weight',
    ]),
    tinyCase('UNet: conv resampling, added embedding, new attention order', TINY_PLAIN, [
      'input_blocks.2.0.op.weight',
      'middle_block.1.qkv.weight',
      'output_blocks.1.2.conv.weight',
      'out.0.weight',
    ]),
  ];
  for (const c of cases) {
    it(`backward matches finite differences: ${c.name}`, async () => {
      const r = await gradcheck(c);
      expect(r.checks).toBe(4 * c.wrt!.length);
      expect(r.rel_err).toBeLessThanOrEqual(1e-3);
      expect(r.ort_err).toBeLessThanOrEqual(1e-4);
    });
  }

  for (const [name, cfg] of [['TINY', TINY], ['TINY_PLAIN', TINY_PLAIN]] as const) {
    it(`forward on onnxruntime equals the reference evaluator at diffusion timesteps: ${name}`, async () => {
      const { graph } = unetGraph(cfg, { seed: 8 });
      const feeds = { x: noise([2, cfg.inChannels, 8, 8], 3), t: float32([2], [3, 742]) };
      const reference = evaluate(graph, feeds);
      const session = await createSession(graph);
      try {
        const got = await session.run(feeds);
        for (const output of graph.outputs) expect(maxRelErr(got[output.name], reference[output.name].data)).toBeLessThan(1e-5);
      } finally {
        await session.release();
      }
    });
  }

  it('differentiates eps alone with respect to x (EGG through the UNet): one seed, v left out', async () => {
    const { graph } = unetGraph(TINY, { seed: 9 });
    const { seeds, grads } = appendBackward(graph, { outputs: ['eps'], wrt: ['x'] });
    expect(seeds.map((s) => s.name)).toEqual(['eps_seed']);
    const feeds = { x: noise([2, 2, 8, 8], 6), t: float32([2], [61, 999]), eps_seed: noise([2, 2, 8, 8], 7) };
    const reference = evaluate(graph, feeds, [grads[0].name]);
    const session = await createSession(graph);
    try {
      const got = await session.run(feeds, ['x_grad']);
      expect(maxRelErr(got.x_grad, reference.x_grad.data)).toBeLessThan(1e-4);
    } finally {
      await session.release();
    }
  });

  it('zero-initializes ADM\'s zero modules on request: a fresh model predicts eps = 0', async () => {
    const { graph } = unetGraph(TINY, { zeroModules: true });
    const out = evaluate(graph, { x: noise([1, 2, 8, 8], 5), t: float32([1], [500]) });
    expect(Array.from(out.eps.data).every((v) => v === 0)).toBe(true);
    expect(Array.from(toNumbers(graph.weights.get('middle_block.1.proj_out.weight')!.data!)).every((v) => v === 0)).toBe(true);
  });
});

describe('float16 as guided-diffusion\'s use_fp16', () => {
  // 16x16 RGB with 32 channels: large enough for float16 rounding to show, small enough for the CPU
  const HALF: UNetConfig = { ...SMALL_UNET, imageSize: 16, inChannels: 3, modelChannels: 32, channelMult: [1, 2], attentionResolutions: [8], numHeadChannels: 16, normGroups: 8 };

  it('computes the blocks\' convolutions in float16 and keeps GroupNorm, the embedding, the softmax and the output layers in float32', () => {
    const { graph } = unetGraph(HALF, { seed: 1, precision: 'float16' });
    const typeOf = (opType: string, name: RegExp) => graph.nodes.filter((n) => n.opType === opType && name.test(n.name)).map((n) => n.outputs[0].dtype);
    expect(new Set(typeOf('Conv', /^(input_blocks|middle_block|output_blocks)/))).toEqual(new Set(['float16']));
    expect(typeOf('Conv', /^out\//)).toEqual(['float32']);
    expect(new Set(typeOf('LayerNormalization', /./))).toEqual(new Set(['float32'])); // GroupNorm
    expect(new Set(typeOf('Softmax', /./))).toEqual(new Set(['float32']));
    expect(new Set(typeOf('Gemm', /./))).toEqual(new Set(['float32']));
    expect(graph.inputs.map((v) => v.dtype)).toEqual(['float32', 'float32']);
    expect(graph.outputs.map((v) => v.dtype)).toEqual(['float32', 'float32']);
  });

  it('matches float32 within float16\'s precision: eps, v and the input-gradient of eps at three timesteps', async () => {
    const build = (precision: 'float32' | 'float16') => {
      const { graph } = unetGraph(HALF, { seed: 1, precision });
      appendBackward(graph, { outputs: ['eps'], wrt: ['x'] });
      return createSession(graph);
    };
    const [full, half] = await Promise.all([build('float32'), build('float16')]);
    try {
      for (const [i, t] of [10, 500, 990].entries()) {
        const feeds = { x: noise([2, 3, 16, 16], 20 + i), t: float32([2], [t, t]), eps_seed: noise([2, 3, 16, 16], 30 + i) };
        const a = await full.run(feeds, ['eps', 'v', 'x_grad']);
        const b = await half.run(feeds, ['eps', 'v', 'x_grad']);
        for (const name of ['eps', 'v', 'x_grad']) {
          const err = maxRelErr(b[name], toNumbers(a[name]));
          // float16 has 11 significant bits (2^-11 = 4.9e-4 per rounding); a zero error would mean no float16 at all
          expect(err, `${name} at t=${t}`).toBeLessThan(1e-2);
          expect(err, `${name} at t=${t}`).toBeGreaterThan(1e-5);
        }
      }
    } finally {
      await Promise.all([full.release(), half.release()]);
    }
  });
});
