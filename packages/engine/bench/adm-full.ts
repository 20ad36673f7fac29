/**
 * `npm run bench:adm`: the full ADM 256x256 unconditional prior (552.8M weights) on this machine:
 * loading its state_dict, building the graph, creating an onnxruntime session (weights as external
 * data: the model is past protobuf's 2 GB), one forward pass and, with --gradient, one
 * input-gradient of eps (EGG through the UNet). Times and resident memory after each stage.
 *
 *   npm run bench:adm -- --checkpoint 256x256_diffusion_uncond.safetensors   # the real weights
 *   npm run bench:adm                                 # random weights, through a temporary file
 *
 * Options: --gradient, --device cpu|webgpu|cuda (default EXCITE_DEVICE), --batch N, --no-run
 * (session only), --json. With random weights a float32 safetensors file of 2.2 GB is written to
 * the temporary folder and read back through loadAdmCheckpoint (the same path as a checkpoint).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeSafetensors } from '../src/data/safetensors.ts';
import { loadAdmCheckpoint } from '../src/diffusion/adm.ts';
import { ADM_256_UNCONDITIONAL, unetGraph } from '../src/models/unet.ts';
import { appendBackward } from '../src/onnx/autodiff.ts';
import { type NdArray, float32 } from '../src/onnx/ndarray.ts';
import { Rng } from '../src/random.ts';
import { parseDevice, deviceFromEnv } from '../src/runtime/device.ts';
import { createSession } from '../src/runtime/session.ts';

const args = process.argv.slice(2);
const option = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const json = args.includes('--json');
const log = (line: string) => (json ? console.error(line) : console.log(line));
const gib = (bytes: number) => bytes / 2 ** 30;

const stages: { stage: string; seconds: number; rss_gib: number }[] = [];
async function stage<T>(name: string, fn: () => Promise<T> | T): Promise<T> {
  const start = performance.now();
  const result = await fn();
  const entry = { stage: name, seconds: (performance.now() - start) / 1000, rss_gib: gib(process.memoryUsage().rss) };
  stages.push(entry);
  log(`${name.padEnd(44)}${entry.seconds.toFixed(1).padStart(8)} s   RSS ${entry.rss_gib.toFixed(2)} GiB`);
  return result;
}

async function main(): Promise<void> {
  const cfg = ADM_256_UNCONDITIONAL;
  const device = option('--device') ? parseDevice(option('--device')) : deviceFromEnv();
  const batch = Number(option('--batch') ?? 1);
  const gradient = args.includes('--gradient');
  const given = option('--checkpoint');
  const tmp = given ? undefined : mkdtempSync(path.join(os.tmpdir(), 'excite-adm-full-'));
  log(`ADM 256x256 unconditional on ${device}: ${os.cpus().length} cores, ${gib(os.totalmem()).toFixed(0)} GiB, node ${process.version}`);
  try {
    const file = given ?? path.join(tmp!, 'random.safetensors');
    if (!given) {
      await stage('random weights, written as safetensors (F32)', async () => {
        const { graph } = unetGraph(cfg, { seed: 0 });
        await writeSafetensors(file, new Map([...graph.weights].map(([name, w]) => [name, w.data!])));
      });
    }
    const session = await (async () => {
      const weights = await stage('loadAdmCheckpoint', () => loadAdmCheckpoint(file, cfg));
      if (tmp) rmSync(tmp, { recursive: true, force: true });
      const graph = await stage(`graph${gradient ? ' with the input-gradient of eps' : ''}`, () => {
        const g = unetGraph(cfg, { weights }).graph;
        if (gradient) appendBackward(g, { outputs: ['eps'], wrt: ['x'] });
        return g;
      });
      return stage('session (weights as external data)', () => createSession(graph, { weights: 'external' }, { device }));
    })();
    // onnxruntime holds its own copy now: the 2.2 GB of JavaScript arrays can go (node --expose-gc)
    await stage('JavaScript weights released', () => (globalThis as { gc?: () => void }).gc?.());
    if (!args.includes('--no-run')) {
      const rng = new Rng(1);
      const shape = [batch, 3, 256, 256];
      const feeds: Record<string, NdArray> = { x: float32(shape, rng.normals(batch * 3 * 256 * 256)), t: float32([batch], new Array(batch).fill(500)) };
      if (gradient) feeds.eps_seed = float32(shape, rng.normals(batch * 3 * 256 * 256));
      await stage(`first run, batch ${batch}`, () => session.run(feeds));
      await stage(`second run, batch ${batch}`, () => session.run(feeds));
    }
    await session.release();
    const peak = gib(process.resourceUsage().maxRSS * 1024);
    log(`peak RSS ${peak.toFixed(2)} GiB`);
    if (json) console.log(JSON.stringify({ device, batch, gradient, checkpoint: given ?? 'random', cores: os.cpus().length, stages, peak_rss_gib: peak }));
  } finally {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
