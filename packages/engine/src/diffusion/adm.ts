/**
 * The paper's prior (docs/synthesis.md): OpenAI's ADM 256x256 unconditional model
 * (openai/guided-diffusion, `256x256_diffusion_uncond.pt`) from its PyTorch state_dict saved as
 * safetensors. models/unet.ts names and shapes its weights as UNetModel's state_dict does, so the
 * checkpoint maps onto the graph name by name; this file checks a file against that list, widens
 * half-precision tensors to float32 and describes the result as a prior (diffusion/prior.ts).
 *
 * Size: 552.8M weights, 2.21 GB as float32. That is past two limits: Node's readFile (2 GiB), so
 * readSafetensors reads in chunks, and protobuf's 2 GB per model, so sessions get the weights as
 * external data (runtime/external-weights.ts), not baked into the model bytes.
 *
 * The released checkpoint holds float32 weights; the paper sampled with `--use_fp16 True`, which
 * runs the convolutions of the torso in float16. Our graph computes in float32 throughout.
 */
import { basename, dirname, resolve } from 'node:path';
import { DataFileError } from '../data/errors.ts';
import { readSafetensors } from '../data/safetensors.ts';
import { ADM_256_UNCONDITIONAL, type UNetConfig, unetWeightShapes } from '../models/unet.ts';
import { type NdArray, float32, halfToFloat } from '../onnx/ndarray.ts';
import { PIXELS_TO_PRIOR, PRIOR_FORMAT, type Prior, type PriorMeta, defaultDiffusion } from './prior.ts';

/** All 65536 float16 values as float32: widening by lookup is exact and about 30x faster than decoding each. */
let halfTable: Float32Array | undefined;
function widenHalf(h: Uint16Array): Float32Array {
  if (!halfTable) {
    halfTable = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) halfTable[i] = halfToFloat(i);
  }
  const out = new Float32Array(h.length);
  for (let i = 0; i < h.length; i++) out[i] = halfTable[h[i]];
  return out;
}

/** float32 copies of float16 and float64 tensors (BF16 is already read as float32); others refused. */
function toFloat32(name: string, a: NdArray, file: string): NdArray {
  switch (a.dtype) {
    case 'float32':
      return a;
    case 'float16':
      return float32(a.shape, widenHalf(a.data as Uint16Array));
    case 'float64':
      return float32(a.shape, a.data as Float64Array);
    default:
      throw new DataFileError(file, `tensor "${name}" is ${a.dtype}; UNet weights are floating point (F32, F16 or BF16)`);
  }
}

function listed(items: readonly string[], limit = 8): string {
  const shown = items.slice(0, limit).join(', ');
  return items.length > limit ? `${shown}, and ${items.length - limit} more` : shown;
}

/** Why a state_dict does not fit, in one sentence per kind of problem, with hints for known mix-ups. */
function mismatch(expected: ReadonlyMap<string, readonly number[]>, tensors: ReadonlyMap<string, NdArray>): string | undefined {
  const missing = [...expected.keys()].filter((n) => !tensors.has(n));
  const unexpected = [...tensors.keys()].filter((n) => !expected.has(n));
  const misshapen = [...expected]
    .filter(([n, shape]) => {
      const t = tensors.get(n);
      return t && (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i]));
    })
    .map(([n, shape]) => `${n} [${tensors.get(n)!.shape}], expected [${shape}]`);
  if (!missing.length && !unexpected.length && !misshapen.length) return undefined;
  const parts: string[] = [];
  if (missing.length) parts.push(`${missing.length} missing: ${listed(missing)}`);
  if (unexpected.length) parts.push(`${unexpected.length} unexpected: ${listed(unexpected)}`);
  if (misshapen.length) parts.push(`${misshapen.length} mis-shaped: ${listed(misshapen, 4)}`);
  const hints: string[] = [];
  if (unexpected.length && unexpected.every((n) => n.startsWith('module.'))) hints.push('the names carry a "module." prefix (a DataParallel wrapper): strip it when converting');
  if (unexpected.includes('label_emb.weight')) hints.push('label_emb.weight belongs to a class-conditional model (256x256_diffusion.pt); the paper used the unconditional 256x256_diffusion_uncond.pt');
  return `${parts.join('; ')}${hints.length ? ` (${hints.join('; ')})` : ''}`;
}

function describeConfig(c: UNetConfig): string {
  return `${c.inChannels}x${c.imageSize}x${c.imageSize}, ${c.modelChannels} channels x [${c.channelMult}], ${c.numResBlocks} res blocks, attention at [${c.attentionResolutions}]${c.learnSigma ? ', learned sigma' : ''}`;
}

/**
 * Reads a guided-diffusion UNetModel state_dict from a safetensors file (F32, F16 or BF16) and
 * returns float32 weights for unetGraph(config, { weights }), in state_dict order. Every tensor the
 * config needs must be there with its shape, and nothing else: the error names the file and the
 * missing, unexpected and mis-shaped tensors. Memory: about twice the file's float32 size at peak.
 */
export async function loadAdmCheckpoint(file: string, config: UNetConfig = ADM_256_UNCONDITIONAL): Promise<Map<string, NdArray>> {
  const expected = unetWeightShapes(config);
  const { tensors } = await readSafetensors(file);
  const problem = mismatch(expected, tensors);
  if (problem) throw new DataFileError(file, `is not the state_dict of guided-diffusion's UNetModel for ${describeConfig(config)}: ${problem}`);
  const weights = new Map<string, NdArray>();
  for (const name of expected.keys()) {
    weights.set(name, toFloat32(name, tensors.get(name)!, file));
    tensors.delete(name); // let a widened half-precision original go as soon as it is copied
  }
  return weights;
}

/** model.json's description of an ADM checkpoint as a prior: ADM's pixel mapping and DDPM process. */
export function admPriorMeta(config: UNetConfig = ADM_256_UNCONDITIONAL, checkpoint?: string): PriorMeta {
  return {
    kind: 'prior',
    format: PRIOR_FORMAT,
    name: config === ADM_256_UNCONDITIONAL ? 'ADM 256x256 unconditional (openai/guided-diffusion)' : `ADM UNet ${describeConfig(config)}`,
    architecture: { type: 'adm-unet', unet: config },
    // guided-diffusion's image_datasets.py: x = p / 127.5 - 1, and samples back with (x + 1) * 127.5
    image: { size: config.imageSize, channels: config.inChannels, ...PIXELS_TO_PRIOR },
    // linear betas 1e-4..0.02, T = 1000, eps prediction, learned-range variance with learnSigma
    diffusion: defaultDiffusion(config),
    training: {
      source: 'openai/guided-diffusion, trained by OpenAI on ImageNet 256x256 (Dhariwal & Nichol 2021)',
      ...(checkpoint ? { checkpoint: basename(checkpoint) } : {}),
    },
  };
}

/**
 * An ADM checkpoint as a prior, for priorGraph and priorSchedule (diffusion/prior.ts). Its weights
 * are past protobuf's 2 GB: createSession passes them as external data by itself
 * (runtime/external-weights.ts).
 */
export async function loadAdmPrior(file: string, config: UNetConfig = ADM_256_UNCONDITIONAL): Promise<Prior> {
  const weights = await loadAdmCheckpoint(file, config);
  return { dir: dirname(resolve(file)), meta: admPriorMeta(config, file), config, weights };
}
