import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REFERENCE_TIMESTEPS, TOLERANCE, referenceUnavailable, runAdmReferenceCheck } from '../../bench/adm-reference.ts';
import { encodeSafetensors } from '../data/safetensors.ts';
import { ADM_256_UNCONDITIONAL, SMALL_UNET, type UNetConfig, unetGraph, unetWeightShapes } from '../models/unet.ts';
import { type NdArray, fromNumbers, toNumbers } from '../onnx/ndarray.ts';
import { size } from '../onnx/shape.ts';
import { admPriorMeta, loadAdmCheckpoint, loadAdmPrior } from './adm.ts';
import { priorGraph, priorSchedule } from './prior.ts';

/** 8x8, two levels, attention at 4x4: the ADM-256 settings at toy size. */
const TINY: UNetConfig = { ...SMALL_UNET, imageSize: 8, inChannels: 2, modelChannels: 8, channelMult: [1, 2], attentionResolutions: [4], numHeadChannels: 4, normGroups: 4 };

const dir = mkdtempSync(path.join(tmpdir(), 'excite-adm-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A state_dict as guided-diffusion names it: our random UNet's weights. */
function stateDict(cfg: UNetConfig, seed = 3): Map<string, NdArray> {
  const { graph } = unetGraph(cfg, { seed });
  return new Map([...graph.weights].map(([name, w]) => [name, w.data!]));
}

function writeFile(name: string, bytes: Uint8Array): string {
  const file = path.join(dir, name);
  writeFileSync(file, bytes);
  return file;
}

/** bfloat16 safetensors by hand (our writer never writes BF16): the upper half of each float32. */
function bf16Safetensors(tensors: ReadonlyMap<string, NdArray>): Uint8Array {
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const [name, t] of tensors) {
    header[name] = { dtype: 'BF16', shape: t.shape, data_offsets: [offset, offset + 2 * size(t.shape)] };
    offset += 2 * size(t.shape);
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const t of tensors.values()) {
    const bits = new Uint32Array(Float32Array.from(t.data as Float32Array).buffer);
    for (const b of bits) {
      view.setUint16(at, b >>> 16, true);
      at += 2;
    }
  }
  return out;
}

describe('the ADM state_dict', () => {
  it('lists the 566 tensors (552,814,086 weights) of 256x256_diffusion_uncond.pt without allocating them', () => {
    const shapes = unetWeightShapes(ADM_256_UNCONDITIONAL);
    expect(shapes.size).toBe(566);
    expect([...shapes.values()].reduce((n, s) => n + size(s), 0)).toBe(552_814_086);
    expect([...shapes.keys()].slice(0, 2)).toEqual(['time_embed.0.weight', 'time_embed.0.bias']);
    expect(shapes.get('input_blocks.10.1.qkv.weight')).toEqual([1536, 512, 1]); // attention at 32x32: 8 heads of 64
    expect(shapes.get('out.2.weight')).toEqual([6, 256, 3, 3]); // eps and v for RGB
  });
});

describe('loadAdmCheckpoint', () => {
  const weights = stateDict(TINY);

  it('reads a float32 state_dict into weights for unetGraph, in state_dict order', async () => {
    const file = writeFile('f32.safetensors', encodeSafetensors(new Map([...weights].reverse())));
    const loaded = await loadAdmCheckpoint(file, TINY);
    expect([...loaded.keys()]).toEqual([...weights.keys()]);
    for (const [name, w] of weights) expect(loaded.get(name)!.data).toEqual(w.data);
    expect(unetGraph(TINY, { weights: loaded }).graph.outputs.map((o) => o.name)).toEqual(['eps', 'v']);
  });

  it('widens float16 and bfloat16 checkpoints to float32', async () => {
    const half = new Map([...weights].map(([name, w]) => [name, fromNumbers('float16', w.shape, w.data as Float32Array)]));
    const fromHalf = await loadAdmCheckpoint(writeFile('f16.safetensors', encodeSafetensors(half)), TINY);
    const fromBf16 = await loadAdmCheckpoint(writeFile('bf16.safetensors', bf16Safetensors(weights)), TINY);
    for (const [name, w] of weights) {
      expect(fromHalf.get(name)!.dtype).toBe('float32');
      expect(Array.from(fromHalf.get(name)!.data as Float32Array)).toEqual(Array.from(toNumbers(half.get(name)!)));
      const truncated = new Float32Array(new Uint32Array(Float32Array.from(w.data as Float32Array).buffer).map((b) => b & 0xffff0000).buffer);
      expect(fromBf16.get(name)!.data).toEqual(truncated);
    }
  });

  it('names the file and every missing, unexpected and mis-shaped tensor', async () => {
    const broken = new Map(weights);
    broken.delete('out.2.bias');
    broken.set('label_emb.weight', fromNumbers('float32', [10, 32], new Float32Array(320)));
    broken.set('input_blocks.0.0.weight', fromNumbers('float32', [8, 3, 3, 3], new Float32Array(216)));
    const file = writeFile('broken.safetensors', encodeSafetensors(broken));
    const error = await loadAdmCheckpoint(file, TINY).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    expect(message).toContain(file);
    expect(message).toContain('1 missing: out.2.bias');
    expect(message).toContain('1 unexpected: label_emb.weight');
    expect(message).toContain('1 mis-shaped: input_blocks.0.0.weight [8,3,3,3], expected [8,2,3,3]');
    expect(message).toContain('class-conditional');
  });

  it('points at a DataParallel "module." prefix and refuses integer tensors', async () => {
    const prefixed = new Map([...weights].map(([name, w]) => [`module.${name}`, w]));
    await expect(loadAdmCheckpoint(writeFile('prefixed.safetensors', encodeSafetensors(prefixed)), TINY)).rejects.toThrow(/"module\." prefix/);
    const integer = new Map(weights).set('out.2.bias', fromNumbers('int32', [4], [1, 2, 3, 4]));
    await expect(loadAdmCheckpoint(writeFile('int.safetensors', encodeSafetensors(integer)), TINY)).rejects.toThrow(/"out.2.bias" is int32/);
  });

  it('says when the file is absent', async () => {
    await expect(loadAdmCheckpoint(path.join(dir, 'nowhere.safetensors'), TINY)).rejects.toThrow(/nowhere\.safetensors: cannot read/);
  });
});

describe('an ADM checkpoint as a prior', () => {
  it('carries ADM\'s pixel mapping and DDPM process with learned-range variance', async () => {
    const file = writeFile('prior.safetensors', encodeSafetensors(stateDict(TINY)));
    const prior = await loadAdmPrior(file, TINY);
    expect(prior.meta).toMatchObject({ kind: 'prior', image: { size: 8, channels: 2, range: [-1, 1], mapping: 'x = p / 127.5 - 1' } });
    expect(prior.meta.diffusion).toEqual({ schedule: 'linear', betaStart: 1e-4, betaEnd: 0.02, trainSteps: 1000, prediction: 'eps', variance: 'learned-range' });
    expect(priorSchedule(prior, 100).timesteps.slice(0, 7)).toEqual([0, 10, 20, 30, 40, 50, 61]);
    expect(priorGraph(prior).outputs.map((o) => o.name)).toEqual(['eps', 'v']);
    expect(admPriorMeta().name).toBe('ADM 256x256 unconditional (openai/guided-diffusion)');
    expect(admPriorMeta().architecture.unet).toBe(ADM_256_UNCONDITIONAL);
  });
});

const unavailable = referenceUnavailable();
if (unavailable) console.warn(`ADM reference check skipped: ${unavailable}`);

describe.runIf(!unavailable)('against the original code (guided-diffusion on PyTorch, random weights)', () => {
  it(`matches eps, v and their input-gradients within ${TOLERANCE} at timesteps ${REFERENCE_TIMESTEPS.join(', ')}`, async () => {
    const report = await runAdmReferenceCheck();
    expect(report.rows.map((r) => r.timestep)).toEqual([...REFERENCE_TIMESTEPS]);
    for (const row of report.rows) {
      for (const error of [row.eps, row.v, row.x_grad_eps, row.x_grad_v]) expect(error).toBeLessThanOrEqual(TOLERANCE);
    }
    expect(report.passed).toBe(true);
  });
});
