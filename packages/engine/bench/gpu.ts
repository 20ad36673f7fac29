/**
 * `npm run bench:gpu`: the EGG pipeline's operations on one device against PyTorch on the same
 * device in the same call: the UNet forward, its forward + input-gradient, one EGG step, a whole
 * EGG MEI, the same for EGG-x0, and a GA MEI, at batch 1 and a larger batch, for two priors:
 *   demo    the shipped demo prior (40x40 grayscale, 772k weights)
 *   adm256  ADM 256x256 unconditional, the paper's prior (552.8M weights, seeded random)
 * each with the paper-scale encoder (5-layer core, 96 channels, attention readout, 1000 neurons;
 * random weights) at the encoder size the prior's images are resized to (40 and 100 pixels).
 * PyTorch runs guided-diffusion's own UNetModel with the same weights and EGG, EGG-x0 and GA as
 * written in bench/gpu_reference.py; a probe on fixed inputs checks both compute the same function.
 *
 *   npm run bench:gpu                              # here: excite on EXCITE_DEVICE (cpu) vs PyTorch CPU
 *   npm run bench:gpu -- --device webgpu --precisions fp32,fp16 --torch-device cuda --torch-precisions fp32,fp16
 *   npm run bench:gpu:pack                         # .gpu/: this bench bundled for the GPU machine
 *
 * Options: --precisions fp32,fp16 (our UNet's; fp16 is guided-diffusion's use_fp16)
 *   --torch-precisions fp32,fp16 (PyTorch's; fp16 needs CUDA)  --torch-device cuda|cpu
 *   --priors demo,adm256  --batch-demo 16  --batch-adm256 4  --steps 100 (K)
 *   --repeats 3 (timed repeats of the short operations; a step's time is the median over that many
 *   steps)  --budget 60 (seconds: a whole MEI estimated longer than this is projected as K times
 *   its step time, marked "~", not run)  --adm-batches 1 (only these batches for adm256)
 *   --ops forward,gradient,egg,egg-x0,ga  --no-torch  --out FILE.json (results, rewritten after
 *   every prior)  --threads N.
 * Memory: adm256 needs about 16 GiB of host memory on the CPU (one session at a time).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ort from 'onnxruntime-node';
import { writeSafetensors } from '../src/data/safetensors.ts';
import { median } from '../src/evaluate/correlation.ts';
import { loadPrior } from '../src/diffusion/prior.ts';
import { EGG_DEFAULTS } from '../src/synthesis/egg.ts';
import { GA_DEFAULTS } from '../src/synthesis/ga.ts';
import { ADM_256_UNCONDITIONAL, type UNetPrecision, unetGraph } from '../src/models/unet.ts';
import { appendBackward } from '../src/onnx/autodiff.ts';
import { type NdArray, float32 } from '../src/onnx/ndarray.ts';
import { Rng } from '../src/random.ts';
import { type Device, deviceFromEnv, parseDevice } from '../src/runtime/device.ts';
import { SessionCache, type SessionOptions, createSession } from '../src/runtime/session.ts';
import { eggMei, eggX0Mei } from '../src/synthesis/egg.ts';
import { gaMei } from '../src/synthesis/ga.ts';
import type { SynthesisEncoder } from '../src/synthesis/synthesis-encoder.ts';
import { type SynthesisPrior, samplingSchedule, synthesisPrior } from '../src/synthesis/synthesis-prior.ts';
import type { SynthesisResult } from '../src/synthesis/synthesis-result.ts';
import { guidedDiffusionSource } from './guided-diffusion.ts';
import { medianMs, relativeError } from './measure.ts';
import { exportForTorch, paperEncoder } from './paper-encoder.ts';
import { TORCH_PYTHON, flag, list, log, option } from './bench-args.ts';


const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = process.env.EXCITE_ROOT ?? path.resolve(HERE, '../../..');
const PYTHON = TORCH_PYTHON;
const device: Device = option('--device') ? parseDevice(option('--device')) : deviceFromEnv();
const threads = option('--threads') ? Number(option('--threads')) : undefined;
const session: SessionOptions = { device, threads };
const K = Number(option('--steps', String(EGG_DEFAULTS.steps)));
const REPEATS = Number(option('--repeats', '3'));
const BUDGET_S = Number(option('--budget', '60'));
const GA_STEPS = GA_DEFAULTS.steps;
const OPS = new Set(list('--ops', 'forward,gradient,egg,egg-x0,ga'));
const OUT = option('--out');
/** our UNet's precisions: fp32, and fp16 (guided-diffusion's use_fp16) */
const PRECISIONS = list('--precisions', 'fp32');
const PRECISION: Record<string, UNetPrecision> = { fp32: 'float32', fp16: 'float16' };
for (const p of PRECISIONS) if (!PRECISION[p]) throw new Error(`--precisions: "${p}" is not fp32 or fp16`);

type Row = Record<string, number>;
interface Side {
  /** per batch ("b1", "b16"): operation -> ms (steps, passes) or s per image (whole MEIs) */
  results: Record<string, Row>;
  projected: Record<string, string[]>;
  /** operation -> why it failed */
  errors?: Record<string, string>;
}

/** our outputs on the probe inputs (absent where the operation failed) */
interface Probe {
  eps?: Float32Array;
  v?: Float32Array;
  rates?: Float32Array;
}

interface Case {
  name: string;
  prior: SynthesisPrior;
  encoderSize: number;
  batches: number[];
}

/**
 * One method's step and whole-MEI time: a run of repeats + 1 steps gives the step time (the
 * intervals between its progress events; the first step also compiles), then, if K steps fit in
 * the budget, a whole run on the compiled sessions.
 */
async function methodTimes(
  run: (steps: number, onStep: () => void) => Promise<SynthesisResult>,
  fullSteps: number,
  batch: number,
): Promise<{ step_ms: number; mei_s: number; projected: boolean; compile_s: number }> {
  const stamps: number[] = [];
  const start = performance.now();
  await run(REPEATS + 1, () => void stamps.push(performance.now()));
  const intervals = stamps.slice(1).map((t, i) => t - stamps[i]);
  const step = median(intervals);
  const compile = (stamps[0] - start - step) / 1000;
  const estimate = (step * fullSteps) / 1000;
  if (estimate > BUDGET_S) return { step_ms: step, mei_s: estimate / batch, projected: true, compile_s: compile };
  const t = performance.now();
  await run(fullSteps, () => undefined);
  return { step_ms: step, mei_s: (performance.now() - t) / 1000 / batch, projected: false, compile_s: compile };
}

async function ourSide(c: Case, probe: { x: NdArray; t: number; image: NdArray }, precision: UNetPrecision): Promise<Side & { probe: Probe; errors: Record<string, string>; compile_s: Row }> {
  const { prior } = c;
  const tag = `${c.name} ${precision === 'float16' ? 'fp16' : 'fp32'}`;
  const cfg = prior.unet;
  const shape = (b: number) => [b, prior.channels, prior.imageSize, prior.imageSize];
  const rng = new Rng(3);
  const results: Side['results'] = {};
  const projected: Side['projected'] = {};
  const compile: Row = {};
  const row = (b: number) => (results[`b${b}`] ??= {});
  const timed = async <T>(name: string, fn: () => Promise<T>) => {
    const t = performance.now();
    const r = await fn();
    compile[name] = (performance.now() - t) / 1000;
    return r;
  };

  // one failing operation (a device out of memory, a kernel missing) is reported, the rest still run
  const errors: Record<string, string> = {};
  const attempt = async (name: string, fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (e) {
      errors[name] = ((e as Error).message ?? String(e)).split('\n')[0];
      log(`  excite ${tag} ${name} failed: ${errors[name]}`);
    }
  };

  const out: Probe = {};
  await attempt('unet_forward', async () => {
    const forward = await timed('unet_forward', () => createSession(unetGraph(cfg, { weights: prior.weights, precision }).graph, {}, session));
    const p = await forward.run({ x: probe.x, t: float32([probe.x.shape[0]], new Array(probe.x.shape[0]).fill(probe.t)) });
    out.eps = p.eps.data as Float32Array;
    out.v = p.v?.data as Float32Array | undefined;
    if (OPS.has('forward')) {
      for (const b of c.batches) {
        const feeds = { x: float32(shape(b), rng.normals(shape(b).reduce((a, d) => a * d))), t: float32([b], new Array(b).fill(500)) };
        row(b).unet_forward_ms = await medianMs(() => forward.run(feeds, ['eps']), REPEATS);
        log(`  excite ${tag} b${b} unet forward ${row(b).unet_forward_ms.toFixed(1)} ms`);
      }
    }
    await forward.release();
  });
  if (OPS.has('gradient')) await attempt('unet_gradient', async () => {
    const g = unetGraph(cfg, { weights: prior.weights, precision }).graph;
    appendBackward(g, { outputs: ['eps'], wrt: ['x'] });
    const gradient = await timed('unet_gradient', () => createSession(g, {}, session));
    for (const b of c.batches) {
      const n = shape(b).reduce((a, d) => a * d);
      const feeds = { x: float32(shape(b), rng.normals(n)), t: float32([b], new Array(b).fill(500)), eps_seed: float32(shape(b), rng.normals(n)) };
      row(b).unet_gradient_ms = await medianMs(() => gradient.run(feeds, ['x_grad']), REPEATS);
      log(`  excite ${tag} b${b} unet forward + input-gradient ${row(b).unet_gradient_ms.toFixed(1)} ms`);
    }
    await gradient.release();
  });

  const encoderGraph = paperEncoder(c.encoderSize);
  const encoder: SynthesisEncoder = { graph: encoderGraph, input: { channels: 1, height: c.encoderSize, width: c.encoderSize } };
  if (precision === 'float32') await attempt('encoder', async () => {
    const s = await createSession(encoderGraph, {}, session);
    out.rates = (await s.run({ image: probe.image })).rates.data as Float32Array;
    await s.release();
  });
  const items = (b: number) => Array.from({ length: b }, (_, i) => ({ neuron: i % 1000, seed: i }));
  const methods = [
    ['egg', (b: number, sessions: SessionCache) => (steps: number, onStep: () => void) => eggMei(encoder, prior, items(b), { steps, session, sessions, precision }, onStep)],
    ['egg_x0', (b: number, sessions: SessionCache) => (steps: number, onStep: () => void) => eggX0Mei(encoder, prior, items(b), { steps, session, sessions, precision }, onStep)],
    ['ga', (b: number, sessions: SessionCache) => (steps: number, onStep: () => void) => gaMei(encoder, items(b), { steps, session, sessions }, onStep)],
  ] as const;
  for (const [name, make] of methods) {
    // GA has no UNet: the same at either precision
    if (!OPS.has(name.replace('_', '-')) || (name === 'ga' && precision === 'float16')) continue;
    // one cache per method: its graphs compile once, for every batch
    const sessions = new SessionCache();
    for (const b of c.batches) {
      await attempt(`${name}_b${b}`, async () => {
        const r = await methodTimes(make(b, sessions), name === 'ga' ? GA_STEPS : K, b);
        row(b)[`${name}_step_ms`] = r.step_ms;
        row(b)[`${name}_mei_s`] = r.mei_s;
        if (r.projected) (projected[`b${b}`] ??= []).push(`${name}_mei_s`);
        compile[`${name}_b${b}`] = r.compile_s;
        log(`  excite ${tag} b${b} ${name}: step ${r.step_ms.toFixed(1)} ms, MEI ${r.projected ? '~' : ''}${r.mei_s.toFixed(2)} s per image`);
      });
    }
    await sessions.clear();
  }
  return { results, projected, errors, compile_s: compile, probe: out };
}

interface TorchSide {
  torch: string;
  device: string;
  device_name: string;
  threads: number;
  setup_s: number;
  results: Record<string, Record<string, Row & { projected: string[]; errors?: Record<string, string> }>>;
  probe_rel_err: { eps: number; v?: number; rates: number };
}

function torchSide(c: Case, dir: string, probe: Probe): TorchSide | { error: string } {
  const torchDevice = option('--torch-device');
  const precisions = option('--torch-precisions', 'fp32')!;
  const script = path.join(HERE, 'gpu_reference.py');
  const outDir = path.join(dir, 'torch-out');
  mkdirSync(outDir, { recursive: true });
  let gd: string;
  try {
    gd = process.env.EXCITE_GUIDED_DIFFUSION ?? guidedDiffusionSource();
  } catch (e) {
    return { error: (e as Error).message };
  }
  const argv = [script, gd, dir, outDir, '--precisions', precisions, ...(torchDevice ? ['--device', torchDevice] : []), '--threads', String(threads ?? os.cpus().length)];
  const r = spawnSync(PYTHON, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 26 });
  if (r.status !== 0) return { error: `${PYTHON} gpu_reference.py exited with ${r.status ?? r.signal}${r.error ? `: ${r.error.message}` : ''}` };
  const side = JSON.parse(r.stdout) as Omit<TorchSide, 'probe_rel_err'>;
  const read = (name: string) => {
    const b = readFileSync(path.join(outDir, name));
    return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
  };
  const errors: TorchSide['probe_rel_err'] = { eps: probe.eps ? relativeError(probe.eps, read('probe_eps.bin')) : NaN, rates: probe.rates ? relativeError(probe.rates, read('probe_rates.bin')) : NaN };
  if (probe.v) errors.v = relativeError(probe.v, read('probe_v.bin'));
  return { ...side, probe_rel_err: errors };
}

function writeCase(c: Case, dir: string, probe: { x: NdArray; t: number; image: NdArray }, weightsFile: string): void {
  mkdirSync(path.join(dir, 'encoder'), { recursive: true });
  exportForTorch(paperEncoder(c.encoderSize), path.join(dir, 'encoder'), c.encoderSize);
  const schedule = samplingSchedule(c.prior, K);
  writeFileSync(path.join(dir, 'probe_x.bin'), probe.x.data as Float32Array);
  writeFileSync(path.join(dir, 'probe_image.bin'), probe.image.data as Float32Array);
  const spec = {
    name: c.name,
    unet: c.prior.unet,
    weights: weightsFile,
    schedule,
    variance: c.prior.variance,
    steps: K,
    scale: 10,
    norm: 25,
    ga_steps: GA_STEPS,
    batches: c.batches,
    repeats: REPEATS,
    budget_s: BUDGET_S,
    ops: [...OPS],
    probe: { x_shape: probe.x.shape, t: probe.t, image_shape: probe.image.shape },
  };
  writeFileSync(path.join(dir, 'case.json'), JSON.stringify(spec));
}

async function makeCase(name: string): Promise<Case> {
  if (name === 'demo') {
    const prior = synthesisPrior(await loadPrior(path.join(ROOT, 'models/demo/prior')));
    return { name, prior, encoderSize: prior.imageSize, batches: [1, Number(option('--batch-demo', '16'))] };
  }
  if (name === 'adm256') {
    const cfg = ADM_256_UNCONDITIONAL;
    const weights = new Map([...unetGraph(cfg, { seed: 0 }).graph.weights].map(([n, w]) => [n, w.data!]));
    const batches = option('--adm-batches') ? list('--adm-batches', '1').map(Number) : [1, Number(option('--batch-adm256', '4'))];
    return { name, prior: { unet: cfg, weights, imageSize: 256, channels: 3, variance: 'learned-range' }, encoderSize: 100, batches };
  }
  throw new Error(`unknown prior "${name}" (demo, adm256)`);
}

const OPERATIONS: [string, string, 'ms' | 's'][] = [
  ['unet_forward_ms', 'UNet forward', 'ms'],
  ['unet_gradient_ms', 'UNet forward + input-gradient', 'ms'],
  ['egg_step_ms', 'one EGG step', 'ms'],
  ['egg_mei_s', `whole EGG MEI (K=${K}), per image`, 's'],
  ['egg_x0_step_ms', 'one EGG-x0 step', 'ms'],
  ['egg_x0_mei_s', `whole EGG-x0 MEI (K=${K}), per image`, 's'],
  ['ga_step_ms', 'one GA step', 'ms'],
  ['ga_mei_s', `whole GA MEI (${GA_STEPS} steps), per image`, 's'],
];

interface Result {
  /** by precision (fp32, fp16) */
  ours: Record<string, Side & { compile_s: Row }>;
  torch?: TorchSide | { error: string };
  /** max |fp16 - fp32| / max |fp32| of our eps on the probe */
  fp16_eps_rel_err?: number;
}

function report(all: Record<string, Result>, machine: Record<string, unknown>): void {
  const lines: string[] = [];
  const say = (s: string) => lines.push(s);
  say('');
  say(`bench:gpu  excite on ${device} (onnxruntime-node ${ort.env.versions?.common ?? '?'}) vs PyTorch; ${machine.cpu}, ${machine.cores} cores${machine.gpu ? `, ${machine.gpu}` : ''}`);
  for (const [name, { ours, torch, fp16_eps_rel_err }] of Object.entries(all)) {
    const t = torch && 'results' in torch ? torch : undefined;
    say('');
    say(`${name}: ${t ? `PyTorch ${t.torch} on ${t.device_name}${t.device === 'cpu' ? ` (${t.threads} threads)` : ''}; probe agrees to eps ${t.probe_rel_err.eps.toExponential(1)}${t.probe_rel_err.v !== undefined ? `, v ${t.probe_rel_err.v.toExponential(1)}` : ''}, rates ${t.probe_rel_err.rates.toExponential(1)}` : `PyTorch not run: ${(torch as { error: string } | undefined)?.error ?? '--no-torch'}`}`);
    if (fp16_eps_rel_err !== undefined) say(`  excite fp16 vs fp32 on ${device}: eps agrees to ${fp16_eps_rel_err.toExponential(1)}`);
    // columns: per precision, excite then PyTorch and their ratio
    const precisions = ['fp32', 'fp16'].filter((p) => ours[p] || t?.results[p]);
    say(`  ${'operation'.padEnd(38)}${'batch'.padStart(6)}${precisions.map((p) => `${`excite ${p}`.padStart(14)}${`torch ${p}`.padStart(14)}${'ratio'.padStart(7)}`).join('')}`);
    const batches = [...new Set(Object.values(ours).flatMap((o) => Object.keys(o.results)))];
    for (const [key, label, unit] of OPERATIONS) {
      for (const b of batches) {
        const mark = (projected: string[] | undefined) => (projected?.includes(key) ? '~' : ' ');
        const fmt = (x: number | undefined, m: string) => (x === undefined ? '-'.padStart(14) : `${m}${x.toFixed(unit === 'ms' ? 1 : 2)} ${unit}`.padStart(14));
        let cells = '';
        let any = false;
        for (const p of precisions) {
          const v = ours[p]?.results[b]?.[key];
          const tr = t?.results[p]?.[b];
          const tv = tr?.[key];
          any ||= v !== undefined || tv !== undefined;
          cells += `${fmt(v, mark(ours[p]?.projected[b]))}${fmt(tv, mark(tr?.projected))}${v === undefined || tv === undefined ? ''.padStart(7) : `${(v / tv).toFixed(2)}x`.padStart(7)}`;
        }
        if (any) say(`  ${label.padEnd(38)}${b.slice(1).padStart(6)}${cells}`);
      }
    }
    for (const [p, side] of Object.entries(ours)) for (const [op, why] of Object.entries(side.errors ?? {})) say(`  excite ${p} ${op} failed: ${why}`);
    if (t) for (const [p, byBatch] of Object.entries(t.results)) for (const [b, r] of Object.entries(byBatch)) for (const [op, why] of Object.entries(r.errors ?? {})) say(`  torch ${p} ${b} ${op} failed: ${why}`);
    // throughput: whole EGG MEIs per minute at batch 1 and at the larger batch
    const perMin = (x: number | undefined) => (x === undefined ? '-' : (60 / x).toFixed(2));
    const big = batches.at(-1);
    for (const p of precisions) {
      const o = ours[p]?.results;
      const tr = t?.results[p];
      if (!o?.b1?.egg_mei_s && !tr?.b1?.egg_mei_s) continue;
      say(`  EGG MEIs per minute, ${p}: excite ${perMin(o?.b1?.egg_mei_s)} (batch 1), ${perMin(big ? o?.[big]?.egg_mei_s : undefined)} (batch ${big?.slice(1)}); PyTorch ${perMin(tr?.b1?.egg_mei_s)} (batch 1), ${perMin(big ? tr?.[big]?.egg_mei_s : undefined)} (batch ${big?.slice(1)})`);
    }
  }
  say('');
  say('ratio = excite / PyTorch (below 1: excite faster). ~ = projected as K times the step time (over the --budget), not run.');
  console.log(lines.join('\n'));
}

async function main(): Promise<void> {
  const machine: Record<string, unknown> = { cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, memory_gib: Math.round(os.totalmem() / 2 ** 30), node: process.version, platform: `${os.platform()} ${os.release()}`, device };
  const smi = spawnSync('nvidia-smi', ['--query-gpu=name,memory.total,driver_version', '--format=csv,noheader'], { encoding: 'utf8' });
  if (smi.status === 0) machine.gpu = smi.stdout.trim();
  log(`bench:gpu on ${device}: ${machine.cpu}, ${machine.cores} cores${machine.gpu ? `, ${machine.gpu}` : ''}; K = ${K}, repeats ${REPEATS}, budget ${BUDGET_S} s per whole MEI`);
  const all: Record<string, Result> = {};
  const save = () => OUT && writeFileSync(OUT, JSON.stringify({ machine, device, steps: K, repeats: REPEATS, budget_s: BUDGET_S, priors: all }, null, 1));
  for (const name of list('--priors', 'demo,adm256')) {
    const tmp = mkdtempSync(path.join(os.tmpdir(), `excite-bench-gpu-${name}-`));
    try {
      const c = await makeCase(name);
      const rng = new Rng(11);
      const xShape = [2, c.prior.channels, c.prior.imageSize, c.prior.imageSize];
      const probe = { x: float32(xShape, rng.normals(xShape.reduce((a, d) => a * d))), t: 500, image: float32([2, 1, c.encoderSize, c.encoderSize], rng.normals(2 * c.encoderSize ** 2)) };
      log(`${name}: ${c.prior.channels}x${c.prior.imageSize}x${c.prior.imageSize}, encoder input ${c.encoderSize}x${c.encoderSize}, batches ${c.batches.join(', ')}`);
      const ours: Record<string, Side & { compile_s: Row }> = {};
      const probes: Record<string, Probe> = {};
      all[name] = { ours };
      for (const p of PRECISIONS) {
        const { probe: outputs, ...side } = await ourSide(c, probe, PRECISION[p]);
        ours[p] = side;
        probes[p] = outputs;
        save();
      }
      // float16 against float32 on this device: eps on the probe
      if (probes.fp16?.eps && probes.fp32?.eps) all[name].fp16_eps_rel_err = relativeError(probes.fp16.eps, probes.fp32.eps);
      const ourProbe = probes.fp32 ?? {};
      if (!flag('--no-torch')) {
        const weightsFile = path.join(tmp, 'unet.safetensors');
        await writeSafetensors(weightsFile, c.prior.weights as Map<string, NdArray>);
        writeCase(c, tmp, probe, weightsFile);
        all[name].torch = torchSide(c, tmp, ourProbe);
        save();
      }
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  report(all, machine);
}

main().catch((e) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : e);
  process.exitCode = 1;
});
