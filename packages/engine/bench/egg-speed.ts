/**
 * `npm run bench:egg-speed`: a whole EGG MEI (K = 100 steps, lambda = 10, c = 25) made by excite
 * and by the authors' own sampler (sinzlab/energy-guided-diffusion: its p_sample_loop_progressive
 * with an energy function, PyTorch on the CPU, bench/egg_authors.py) with the same prior weights,
 * energy and noise, timed interleaved in one run:
 *   demo prior (40x40 grayscale ADM UNet, 772k weights) with
 *     linear  a linear encoder (1600 pixels -> 16 neurons, seeded random weights): the UNet's cost alone
 *     paper   the paper-scale encoder (5-layer core, 96 channels, attention readout, 1000 neurons)
 * at batch 1 (excite and the authors' code at 1 and 2 threads) and batched (excite; the authors'
 * code samples one image at a time, its gradient norm is over the whole batch), as seconds per
 * MEI, per-step milliseconds and MEIs per minute. A probe runs one MEI on both sides and prints
 * the largest relative error of the predicted x0 over all steps.
 *
 *   npm run bench:egg-speed -- [--cases linear,paper] [--repeats 3] [--batch 8] [--steps 100]
 *     [--torch-threads 1,2] [--threads N (excite's, default chosen per size)] [--no-authors]
 *     [--clone (allow cloning the authors' code from GitHub)] [--no-profile] [--json FILE]
 * Unless --no-profile, each case ends with the split of one step's time (egg-step-profile.ts).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import ort from 'onnxruntime-node';
import { writeSafetensors } from '../src/data/safetensors.ts';
import { loadPrior } from '../src/diffusion/prior.ts';
import { median } from '../src/evaluate/correlation.ts';
import { Graph } from '../src/onnx/graph.ts';
import { type NdArray, float32 } from '../src/onnx/ndarray.ts';
import { matmul } from '../src/onnx/ops/matmul.ts';
import { reshape } from '../src/onnx/ops/reshape.ts';
import { Rng } from '../src/random.ts';
import { SessionCache } from '../src/runtime/session.ts';
import { eggMei, eggParallelism, eggThreads, EGG_DEFAULTS } from '../src/synthesis/egg.ts';
import type { SynthesisEncoder } from '../src/synthesis/synthesis-encoder.ts';
import { type SynthesisPrior, synthesisPrior } from '../src/synthesis/synthesis-prior.ts';
import { eggAuthorsSource } from './egg-authors-source.ts';
import { type StepProfile, profileStep } from './egg-step-profile.ts';
import { relativeError } from './measure.ts';
import { exportForTorch, paperEncoder, paperEncoderSelector } from './paper-encoder.ts';
import { TORCH_PYTHON, flag, list, log, option } from './bench-args.ts';


const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../../..');
const PYTHON = TORCH_PYTHON;
const K = Number(option('--steps', String(EGG_DEFAULTS.steps)));
const REPEATS = Number(option('--repeats', '3'));
const BATCH = Number(option('--batch', '8'));
const CASES = list('--cases', 'linear,paper');
const TORCH_THREADS = list('--torch-threads', '1,2').map(Number);
const THREADS = option('--threads') ? Number(option('--threads')) : undefined;
const PROFILE = !flag('--no-profile');
const NEURON = 3;
const SCALE = 10;
const NORM = 25;
const LINEAR_NEURONS = 16;

/** The authors' sampler in a long-lived Python process: one JSON command in, one JSON line out. */
class Authors {
  private readonly lines: AsyncIterator<string>;
  private constructor(private readonly child: ReturnType<typeof spawn>) {
    this.lines = readline.createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  }

  static async start(dir: string): Promise<{ authors: Authors; hello: Record<string, string> } | { error: string }> {
    const child = spawn(PYTHON, [path.join(HERE, 'egg_authors.py'), dir], { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, OMP_NUM_THREADS: undefined } });
    const a = new Authors(child);
    const failed = new Promise<{ error: string }>((resolve) => {
      child.on('error', (e) => resolve({ error: `${PYTHON}: ${e.message}` }));
      child.on('exit', (code) => resolve({ error: `${PYTHON} egg_authors.py exited with ${code} (needs torch and numpy: apt-get install -y python3-torch)` }));
    });
    const hello = await Promise.race([a.lines.next().then((r) => (r.done ? { error: 'no answer' } : JSON.parse(r.value))), failed]);
    return 'error' in hello ? hello : { authors: a, hello };
  }

  async send(cmd: Record<string, unknown>): Promise<Record<string, number>> {
    this.child.stdin!.write(`${JSON.stringify(cmd)}\n`);
    const r = await this.lines.next();
    if (r.done) throw new Error('the authors\' sampler stopped');
    const reply = JSON.parse(r.value);
    if (reply.error) throw new Error(`the authors' sampler: ${reply.error}`);
    return reply;
  }

  stop(): void {
    this.child.stdin!.end();
  }
}

/** 1600 pixels -> 16 neurons, seeded random weights scaled so rates are O(1) at norm 25. */
function linearEncoder(prior: SynthesisPrior): { encoder: SynthesisEncoder; weights: Float32Array } {
  const n = prior.channels * prior.imageSize * prior.imageSize;
  const weights = new Rng(5).normals(n * LINEAR_NEURONS, 1 / Math.sqrt(n));
  const g = new Graph('linear_encoder');
  const image = g.input('image', 'float32', ['batch', prior.channels, prior.imageSize, prior.imageSize]);
  g.output(matmul(reshape(image, [-1, n]), g.weight('linear.weight', float32([n, LINEAR_NEURONS], weights))), 'rates');
  return { encoder: { graph: g, input: { channels: prior.channels, height: prior.imageSize, width: prior.imageSize } }, weights };
}

/** x_T and the K - 1 step noises of one seed, in the order excite draws them. */
function noiseOf(seed: number, n: number): Float32Array {
  const rng = new Rng(seed);
  const out = new Float32Array(K * n);
  for (let k = 0; k < K; k++) out.set(rng.normals(n), k * n);
  return out;
}

/** Two runs of one MEI compared: relative errors of x_t after each step and of the MEI. */
interface TrajectoryDifference {
  /** the largest of them all */
  max_rel_err: number;
  /** 1-based step of the largest, K when it is the MEI's */
  worst_step: number;
  first_step_rel_err: number;
  final_rel_err: number;
}

function trajectoryDifference(steps: readonly Float32Array[], other: (k: number) => Float32Array, mei: Float32Array, otherMei: Float32Array): TrajectoryDifference {
  const errs = steps.map((x, k) => relativeError(x, other(k)));
  const final = relativeError(mei, otherMei);
  const worst = errs.indexOf(Math.max(...errs));
  return errs[worst] >= final
    ? { max_rel_err: errs[worst], worst_step: worst + 1, first_step_rel_err: errs[0], final_rel_err: final }
    : { max_rel_err: final, worst_step: K, first_step_rel_err: errs[0], final_rel_err: final };
}

const differenceInWords = (d: TrajectoryDifference) =>
  `max rel. error ${d.max_rel_err.toExponential(1)} (at step ${d.worst_step} of ${K}), first step ${d.first_step_rel_err.toExponential(1)}, the MEI ${d.final_rel_err.toExponential(1)}`;

interface CaseResult {
  name: string;
  /** excite against the authors' code */
  probe?: TrajectoryDifference;
  /** excite against itself on another thread count (other float32 rounding): how far rounding alone moves the trajectory */
  self?: TrajectoryDifference & { threads: [number, number] };
  /** by run key; `layout`: intra-op threads, or slices x threads for a batch split over threads */
  excite: Record<string, { label: string; batch: number; mei_s: number[]; step_ms: number[]; layout: string }>;
  authors: Record<string, { mei_s: number[]; step_ms: number[] }>;
  compile_s: number;
  authorsError?: string;
  profile?: StepProfile;
}

async function runCase(name: string, prior: SynthesisPrior, authors: Authors | undefined, tmp: string): Promise<CaseResult> {
  const dir = path.join(tmp, name);
  mkdirSync(dir, { recursive: true });
  const n = prior.channels * prior.imageSize * prior.imageSize;
  let encoder: SynthesisEncoder;
  let encoderSpec: Record<string, string>;
  if (name === 'linear') {
    const l = linearEncoder(prior);
    encoder = l.encoder;
    writeFileSync(path.join(dir, 'linear.bin'), l.weights);
    encoderSpec = { kind: 'linear', file: 'linear.bin' };
  } else if (name === 'paper') {
    const g = paperEncoder(prior.imageSize);
    // as excite synthesizes with its own encoders: only the MEI's neuron of the readout computed
    encoder = { graph: g, input: { channels: 1, height: prior.imageSize, width: prior.imageSize }, select: paperEncoderSelector(g, prior.imageSize) };
    mkdirSync(path.join(dir, 'encoder'), { recursive: true });
    exportForTorch(g, path.join(dir, 'encoder'), prior.imageSize);
    encoderSpec = { kind: 'paper', dir: 'encoder' };
  } else throw new Error(`unknown case "${name}" (linear, paper)`);

  const result: CaseResult = { name, excite: {}, authors: {}, compile_s: 0 };
  const sessions = new SessionCache();
  const seed = 7;
  const single = [{ neuron: NEURON, seed }];
  const batch = Array.from({ length: BATCH }, (_, i) => ({ neuron: (NEURON + i) % (name === 'linear' ? LINEAR_NEURONS : 1000), seed: seed + i }));

  // probe and compile: one MEI, the sample after every step kept
  const samples: Float32Array[] = [];
  const started = performance.now();
  const mei = await eggMei(encoder, prior, single, { steps: K, scale: SCALE, norm: NORM, sessions, session: { threads: THREADS } }, (e) => void (e.checkpoint && samples.push(e.checkpoint().x)));
  result.compile_s = (performance.now() - started) / 1000;
  // the same MEI on another thread count: the probe's yardstick, since a trajectory can amplify
  // float32 rounding for some steps (the probe section of docs/benchmarks-egg-speed.md)
  const threads = THREADS ?? eggThreads(prior, 1);
  const other = threads === 1 ? 2 : 1;
  const otherSamples: Float32Array[] = [];
  const otherMei = await eggMei(encoder, prior, single, { steps: K, scale: SCALE, norm: NORM, sessions, session: { threads: other } }, (e) => void (e.checkpoint && otherSamples.push(e.checkpoint().x)));
  result.self = { ...trajectoryDifference(samples, (k) => otherSamples[k], mei.images.data as Float32Array, otherMei.images.data as Float32Array), threads: [threads, other] };
  if (authors) {
    try {
      const weights = path.join(dir, 'unet.safetensors');
      await writeSafetensors(weights, prior.weights as Map<string, NdArray>);
      writeFileSync(path.join(dir, 'noise.bin'), noiseOf(seed, n));
      const spec = { unet: prior.unet, weights, steps: K, train_steps: prior.trainSteps ?? 1000, variance: prior.variance, scale: SCALE, norm: NORM, neuron: NEURON, encoder: encoderSpec };
      writeFileSync(path.join(dir, 'case.json'), JSON.stringify(spec));
      await authors.send({ op: 'load', case: dir });
      // the probe's run is also the first timed run on one thread (keeping each step's x costs microseconds)
      const first = await authors.send({ op: 'run', threads: 1, trace: dir });
      if (TORCH_THREADS.includes(1)) result.authors.t1 = { mei_s: [first.mei_s], step_ms: [first.step_ms] };
      const read = (file: string) => {
        const bytes = readFileSync(path.join(dir, file));
        return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
      };
      const theirSamples = read('sample.bin');
      const theirX0 = read('x0.bin');
      result.probe = trajectoryDifference(samples, (k) => theirSamples.subarray(k * n, (k + 1) * n), mei.images.data as Float32Array, theirX0.subarray((K - 1) * n, K * n));
      log(`  ${name}: probe: excite's x_t against the authors' after each step: ${differenceInWords(result.probe)}`);
    } catch (e) {
      result.authorsError = (e as Error).message;
      log(`  ${name}: the authors' side failed: ${result.authorsError}`);
      authors = undefined;
    }
  }

  // timed, interleaved: each repeat runs every configuration once
  // batched: the layout excite chooses (the batch in slices, a thread each) and, for comparison, the
  // batch in one session on all the cores' intra-op threads (what excite did before slicing)
  const cores = os.availableParallelism();
  const exciteRuns: { key: string; label: string; items: typeof single; threads?: number; shards?: number; encoder?: SynthesisEncoder }[] = [
    { key: 'b1', label: 'excite (threads chosen per size)', items: single, threads: THREADS },
    ...(THREADS === undefined ? [{ key: 'b1 t1', label: 'excite', items: single, threads: 1 }, { key: 'b1 t2', label: 'excite', items: single, threads: 2 }] : []),
    { key: `b${BATCH}`, label: 'excite (layout chosen per size)', items: batch, threads: THREADS },
    ...(THREADS === undefined ? [{ key: `b${BATCH} one session`, label: 'excite, one session', items: batch, threads: cores, shards: 1 }] : []),
  ];
  // the paper-scale encoder also with all 1000 neurons of its readout computed (as excite did before selecting)
  const fullReadout: SynthesisEncoder | undefined = encoder.select ? { ...encoder, select: undefined } : undefined;
  if (fullReadout) exciteRuns.push({ key: 'b1 full', label: 'excite, every neuron computed', items: single, threads: THREADS, encoder: fullReadout });
  for (let r = 0; r < REPEATS; r++) {
    for (const { key, label, items, threads, shards, encoder: runEncoder } of exciteRuns) {
      const stamps: number[] = [];
      const t = performance.now();
      await eggMei(runEncoder ?? encoder, prior, items, { steps: K, scale: SCALE, norm: NORM, sessions, session: { threads }, shards }, () => void stamps.push(performance.now()));
      const s = (performance.now() - t) / 1000;
      const chosen = eggParallelism(prior, items.length);
      const layout = threads !== undefined ? String(threads) : chosen.shards > 1 ? `${chosen.shards}x${chosen.threads}` : String(chosen.threads);
      const e = (result.excite[key] ??= { label, batch: items.length, mei_s: [], step_ms: [], layout });
      e.mei_s.push(s / items.length);
      e.step_ms.push(median(stamps.slice(1).map((x, i) => x - stamps[i])));
    }
    if (authors) {
      for (const threads of TORCH_THREADS) {
        const e = (result.authors[`t${threads}`] ??= { mei_s: [], step_ms: [] });
        // a thread count far slower than the fastest (PyTorch's OpenMP threads on a busy machine)
        // is not repeated: one run says enough and would cost minutes
        const fastest = Math.min(...Object.values(result.authors).flatMap((x) => x.mei_s));
        if ((e.mei_s.length && e.mei_s[0] > 3 * fastest) || e.mei_s.length >= REPEATS) continue;
        const a = await authors.send({ op: 'run', threads });
        e.mei_s.push(a.mei_s);
        e.step_ms.push(a.step_ms);
      }
    }
    log(`  ${name}: repeat ${r + 1}/${REPEATS} done`);
  }
  await sessions.clear();
  if (PROFILE) {
    result.profile = await profileStep(encoder, prior, NEURON);
    log(`  ${name}: step profile done`);
  }
  return result;
}

function report(results: CaseResult[], machine: Record<string, unknown>): string {
  const lines: string[] = [];
  const say = (s: string) => lines.push(s);
  say('');
  say(`bench:egg-speed  ${machine.cpu}, ${machine.cores} cores; onnxruntime-node ${machine.onnxruntime}; ${machine.torch ? `PyTorch ${machine.torch} (the authors' code: sinzlab/energy-guided-diffusion ${machine.authors})` : `the authors' code not run: ${machine.authorsMissing}`}`);
  say(`whole EGG MEI, K = ${K}, lambda = ${SCALE}, c = ${NORM}, demo prior (40x40, 772k weights); medians of ${REPEATS} interleaved repeats; sessions compiled before timing (a worker's steady state); threads: intra-op threads, or slices of the batch x threads each`);
  for (const r of results) {
    say('');
    say(`${r.name === 'linear' ? `linear energy (1600 -> ${LINEAR_NEURONS} neurons)` : 'paper-scale encoder (5 layers, 96 channels, 1000 neurons)'}: ${r.probe ? `probe: excite's x_t against the authors' after each step: ${differenceInWords(r.probe)}` : r.authorsError ? `authors' side failed: ${r.authorsError}` : 'no probe'}${r.self ? `; excite against itself on ${r.self.threads[0]} and ${r.self.threads[1]} threads: ${differenceInWords(r.self)}` : ''}; excite compiles in ${r.compile_s.toFixed(2)} s once`);
    say(`  ${'who'.padEnd(34)}${'batch'.padStart(6)}${'threads'.padStart(8)}${'s / MEI'.padStart(10)}${'ms / step'.padStart(11)}${'MEIs / min'.padStart(12)}`);
    const row = (who: string, b: number, threads: number | string, mei: number[], step: number[]) => say(`  ${who.padEnd(34)}${String(b).padStart(6)}${String(threads).padStart(8)}${median(mei).toFixed(3).padStart(10)}${median(step).toFixed(1).padStart(11)}${(60 / median(mei)).toFixed(1).padStart(12)}`);
    for (const e of Object.values(r.excite)) row(e.label, e.batch, e.layout, e.mei_s, e.step_ms);
    for (const [key, a] of Object.entries(r.authors)) row(`authors' code (PyTorch)${a.mei_s.length < REPEATS ? ` ${a.mei_s.length} run` : ''}`, 1, key.slice(1), a.mei_s, a.step_ms);
    const best = Object.values(r.authors).map((a) => median(a.mei_s));
    if (best.length) {
      const theirs = Math.min(...best);
      const b1 = median(r.excite.b1.mei_s);
      const bb = median(r.excite[`b${BATCH}`].mei_s);
      say(`  excite vs the authors' code at its best thread count: ${(theirs / b1).toFixed(2)}x faster per MEI at batch 1, ${(theirs / bb).toFixed(2)}x the MEIs per minute at batch ${BATCH}`);
    }
    if (r.profile) {
      say(`  one EGG step, batch 1, ${r.profile.threads} thread(s), parts timed alone (median ms):`);
      for (const [part, ms] of Object.entries(r.profile.parts)) say(`    ${part.padEnd(52)}${ms.toFixed(2).padStart(9)}`);
    }
  }
  return lines.join('\n');
}

const benchStarted = performance.now();

async function main(): Promise<void> {
  const machine: Record<string, unknown> = { cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, onnxruntime: ort.env.versions?.common ?? '?', node: process.version };
  const prior = synthesisPrior(await loadPrior(path.join(ROOT, 'models/demo/prior')));
  let authors: Authors | undefined;
  if (!flag('--no-authors')) {
    const source = eggAuthorsSource({ allowClone: flag('--clone') });
    if ('missing' in source) {
      machine.authorsMissing = source.missing;
      log(`skipping the authors' code: ${source.missing}`);
    } else {
      const started = await Authors.start(source.dir);
      if ('error' in started) {
        machine.authorsMissing = started.error;
        log(`skipping the authors' code: ${started.error}`);
      } else {
        authors = started.authors;
        machine.torch = started.hello.torch;
        machine.authors = source.origin;
      }
    }
  } else machine.authorsMissing = '--no-authors';
  log(`bench:egg-speed: ${machine.cpu}, ${machine.cores} cores; K = ${K}, batch ${BATCH}, repeats ${REPEATS}`);
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'excite-egg-speed-'));
  const results: CaseResult[] = [];
  try {
    for (const name of CASES) {
      results.push(await runCase(name, prior, authors, tmp));
      log(report(results.slice(-1), machine));
    }
  } finally {
    authors?.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
  console.log(report(results, machine));
  log(`bench:egg-speed done in ${((performance.now() - benchStarted) / 60000).toFixed(1)} min`);
  const out = option('--json');
  if (out) writeFileSync(out, JSON.stringify({ machine, steps: K, batch: BATCH, repeats: REPEATS, results }, null, 1));
}

main().catch((e) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : e);
  process.exitCode = 1;
});
