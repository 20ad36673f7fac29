/**
 * `npm run check:adm`: excite's ADM UNet against the original code. openai/guided-diffusion's
 * UNetModel (run by bench/adm_reference.py on Debian's python3-torch, CPU) gets seeded random
 * weights in a reduced configuration with the block types of the paper's ADM 256x256 prior
 * (attention with 64-channel heads, scale-shift norm, res-block up/down, learned sigma,
 * GroupNorm(32)); its state_dict goes through loadAdmCheckpoint into our graph, which runs on
 * onnxruntime (CPU, weights as external data as for the full model). Compared at three timesteps:
 * eps, v, and the input-gradients of fixed random projections of eps and of v. The error of each
 * is max |ours - original| / max |original| over the batch; above 1e-3 the check fails (exit 1).
 *
 * guided-diffusion's source is kept in .cache (never committed; guided-diffusion.ts says where it
 * comes from). `--json` prints one JSON document; `--out DIR` keeps the weights and reference outputs.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { readSafetensors } from '../src/data/safetensors.ts';
import { loadAdmCheckpoint } from '../src/diffusion/adm.ts';
import { ADM_256_UNCONDITIONAL, type UNetConfig, unetGraph } from '../src/models/unet.ts';
import { appendBackward } from '../src/onnx/autodiff.ts';
import { type NdArray, float32, toNumbers } from '../src/onnx/ndarray.ts';
import { createSession } from '../src/runtime/session.ts';
import { relativeError as relativeValues } from './measure.ts';
import { GUIDED_DIFFUSION_DIR, guidedDiffusionSource, isCheckout, offlineSource } from './guided-diffusion.ts';

export { GUIDED_DIFFUSION_COMMIT, GUIDED_DIFFUSION_DIR, guidedDiffusionSource, offlineSource } from './guided-diffusion.ts';

/** 32x32 RGB, levels at 32, 16 and 8 pixels (64, 128, 128 channels), attention at 16 and 8 and in the middle: 2 heads of 64 channels. */
export const REFERENCE_UNET: UNetConfig = {
  ...ADM_256_UNCONDITIONAL,
  imageSize: 32,
  modelChannels: 64,
  channelMult: [1, 2, 2],
  attentionResolutions: [16, 8],
};
export const REFERENCE_TIMESTEPS = [10, 500, 990] as const;
export const TOLERANCE = 1e-3;

const PYTHON = process.env.EXCITE_TORCH_PYTHON ?? '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('./adm_reference.py', import.meta.url));

/** Why the reference check cannot run here without the network, or undefined when it can. */
export function referenceUnavailable(): string | undefined {
  try {
    execFileSync(PYTHON, ['-c', 'import torch, numpy'], { stdio: 'ignore' });
  } catch {
    return `${PYTHON} cannot import torch and numpy (Debian: apt install python3-torch; or set EXCITE_TORCH_PYTHON)`;
  }
  const env = process.env.EXCITE_GUIDED_DIFFUSION;
  if (env && !isCheckout(env)) return `EXCITE_GUIDED_DIFFUSION=${env} is not a guided-diffusion checkout (no guided_diffusion/unet.py)`;
  if (!offlineSource()) return `guided-diffusion's source is not available offline (no ${GUIDED_DIFFUSION_DIR}, no local mirror); \`npm run check:adm\` clones it`;
  return undefined;
}

export interface TimestepErrors {
  timestep: number;
  eps: number;
  v: number;
  x_grad_eps: number;
  x_grad_v: number;
}

export interface AdmReferenceReport {
  passed: boolean;
  tolerance: number;
  /** the largest of all errors */
  max_error: number;
  rows: TimestepErrors[];
  config: UNetConfig;
  parameters: number;
  batch: number;
  torch: string;
  guided_diffusion: string;
  seconds: { reference: number; ours: number };
}

/** max |got - expected| / max |expected|. */
export function relativeError(got: NdArray, expected: NdArray): number {
  return relativeValues(toNumbers(got), toNumbers(expected));
}

export interface AdmReferenceOptions {
  /** where the weights and reference outputs go (default: a temporary folder, removed after) */
  outDir?: string;
  config?: UNetConfig;
  timesteps?: readonly number[];
  batch?: number;
  seed?: number;
  /** may clone guided-diffusion from GitHub when no local copy exists */
  allowClone?: boolean;
  log?: (line: string) => void;
}

/** Runs the original code and ours on the same weights and inputs; errors per timestep. */
export async function runAdmReferenceCheck(options: AdmReferenceOptions = {}): Promise<AdmReferenceReport> {
  const config = options.config ?? REFERENCE_UNET;
  if (!config.learnSigma) throw new Error('the reference check compares eps and v: the config needs learnSigma');
  const timesteps = options.timesteps ?? REFERENCE_TIMESTEPS;
  const batch = options.batch ?? 2;
  const log = options.log ?? (() => undefined);
  const source = guidedDiffusionSource({ allowClone: options.allowClone });
  const dir = options.outDir ?? mkdtempSync(path.join(os.tmpdir(), 'excite-adm-reference-'));
  mkdirSync(dir, { recursive: true });
  try {
    const specFile = path.join(dir, 'config.json');
    writeFileSync(specFile, JSON.stringify({ unet: config, timesteps, batch, seed: options.seed ?? 0 }));
    log(`original: guided-diffusion UNetModel from ${source}, ${PYTHON}, CPU`);
    let start = performance.now();
    let summary: { torch: string; parameters: number };
    try {
      summary = JSON.parse(execFileSync(PYTHON, [SCRIPT, source, specFile, dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }));
    } catch (e) {
      const err = e as { stderr?: string; message: string };
      throw new Error(`${path.basename(SCRIPT)} failed: ${(err.stderr || err.message).trim().split('\n').slice(-5).join('\n')}`);
    }
    const referenceSeconds = (performance.now() - start) / 1000;

    start = performance.now();
    const weights = await loadAdmCheckpoint(path.join(dir, 'weights.safetensors'), config);
    const { graph } = unetGraph(config, { weights });
    // one session for both input-gradients: a zero seed switches the other output off
    appendBackward(graph, { outputs: ['eps', 'v'], wrt: ['x'] });
    const session = await createSession(graph, { weights: 'external' }, { device: 'cpu' });
    const { tensors: ref } = await readSafetensors(path.join(dir, 'reference.safetensors'));
    const x = ref.get('x')!;
    const zero = float32(x.shape);
    const rows: TimestepErrors[] = [];
    try {
      for (const timestep of timesteps) {
        const t = float32([batch], new Array(batch).fill(timestep));
        const a = await session.run({ x, t, eps_seed: ref.get('eps_projection')!, v_seed: zero });
        const b = await session.run({ x, t, eps_seed: zero, v_seed: ref.get('v_projection')! }, ['x_grad']);
        const at = (name: string) => ref.get(`t${timestep}/${name}`)!;
        rows.push({
          timestep,
          eps: relativeError(a.eps, at('eps')),
          v: relativeError(a.v, at('v')),
          x_grad_eps: relativeError(a.x_grad, at('x_grad_eps')),
          x_grad_v: relativeError(b.x_grad, at('x_grad_v')),
        });
      }
    } finally {
      await session.release();
    }
    const maxError = Math.max(...rows.flatMap((r) => [r.eps, r.v, r.x_grad_eps, r.x_grad_v]));
    return {
      passed: maxError <= TOLERANCE,
      tolerance: TOLERANCE,
      max_error: maxError,
      rows,
      config,
      parameters: summary.parameters,
      batch,
      torch: summary.torch,
      guided_diffusion: source,
      seconds: { reference: referenceSeconds, ours: (performance.now() - start) / 1000 },
    };
  } finally {
    if (!options.outDir) rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const json = args.includes('--json');
  const outAt = args.indexOf('--out');
  const outDir = outAt >= 0 ? args[outAt + 1] : undefined;
  const log = (line: string) => (json ? console.error(line) : console.log(line));
  const r = await runAdmReferenceCheck({ outDir, allowClone: true, log });
  if (json) {
    console.log(JSON.stringify(r));
  } else {
    const c = r.config;
    log(`reduced ADM: ${c.inChannels}x${c.imageSize}x${c.imageSize}, ${c.modelChannels} channels x [${c.channelMult}], attention at [${c.attentionResolutions}] (${c.numHeadChannels}-channel heads), ${r.parameters.toLocaleString('en')} weights, batch ${r.batch}`);
    log(`PyTorch ${r.torch} (${r.seconds.reference.toFixed(1)} s); excite on onnxruntime CPU (${r.seconds.ours.toFixed(1)} s)`);
    log('max |ours - original| / max |original|:');
    log(`${'timestep'.padEnd(10)}${'eps'.padStart(10)}${'v'.padStart(10)}${'dx (eps)'.padStart(10)}${'dx (v)'.padStart(10)}`);
    for (const row of r.rows) log(`${String(row.timestep).padEnd(10)}${[row.eps, row.v, row.x_grad_eps, row.x_grad_v].map((e) => e.toExponential(1).padStart(10)).join('')}`);
    log(r.passed ? `passed: all within ${r.tolerance}` : `FAILED: ${r.max_error.toExponential(2)} > ${r.tolerance}`);
  }
  process.exitCode = r.passed ? 0 : 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exitCode = 1;
  });
}
