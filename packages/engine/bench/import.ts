/**
 * `npm run bench:import`: the encoders exported from PyTorch to ONNX (fixtures/onnx, made by
 * python/make_onnx_fixtures.py), imported into excite's engine with their input gradients derived
 * by appendBackward, against the same models in PyTorch (bench/import_torch.py rebuilds each one
 * with make_onnx_fixtures' family() and seed), on the CPU, in the same run:
 *   fwd       rates for a batch of images
 *   fwd+grad  rates and d/d image of sum(rates * w) (excite: one session holding the forward and
 *             the derived backward graph; PyTorch: forward then autograd)
 * at batch 1 and 16, each side at its best of 1 and 2 threads (the thread count is printed), as
 * the median of --repeats runs after --warmups untimed runs, taken in --rounds blocks that alternate
 * excite and PyTorch (the machine's load changes alike for both); the derived graph's size (nodes before
 * and after appendBackward, and the model's op count); and a probe: the largest relative difference
 * of excite's rates and input gradient from PyTorch's (float32, the timed model) on one random batch.
 * A family the engine cannot import is reported "not importable: <why>" and the others go on;
 * without torch, excite's columns alone are printed.
 *
 *   npm run bench:import -- [--families neuralpredictors,resnet,vit,recurrent] [--batches 1,16]
 *     [--threads 1,2] [--repeats 15] [--rounds 3] [--warmups 3] [--probe-batch 4] [--no-torch] [--json FILE]
 * A thread count over 3x slower than the best one after the first round is not run again.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import ort from 'onnxruntime-node';
import { readNpy } from '../src/data/npy.ts';
import { median } from '../src/evaluate/correlation.ts';
import { loadOnnxModel } from '../src/models/onnx-model.ts';
import { appendBackward } from '../src/onnx/autodiff.ts';
import { type NdArray, float32 } from '../src/onnx/ndarray.ts';
import { Rng } from '../src/random.ts';
import { type EngineSession, createSession } from '../src/runtime/session.ts';
import { TORCH_PYTHON, flag, list, log, option } from './bench-args.ts';
import { relativeError } from './measure.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../../..');
const FIXTURES = path.resolve(HERE, '../fixtures/onnx');
const FAMILIES = list('--families', 'neuralpredictors,resnet,vit,recurrent');
const BATCHES = list('--batches', '1,16').map(Number);
const THREADS = list('--threads', '1,2').map(Number);
const REPEATS = Number(option('--repeats', '15'));
const ROUNDS = Math.max(1, Math.min(REPEATS, Number(option('--rounds', '3'))));
const WARMUPS = Number(option('--warmups', '3'));
const PROBE_BATCH = Number(option('--probe-batch', '4'));

type Mode = 'fwd' | 'grad';
const MODES: Mode[] = ['fwd', 'grad'];
/** wall times (ms) per batch key ("b16") and thread key ("t2") */
type Times = Record<string, Record<string, number[]>>;

interface Side {
  /** set when this side could not run the family (excite: not importable, no gradient, ...) */
  error?: string;
  fwd: Times;
  grad: Times;
}

interface ExciteFamily extends Side {
  ops?: number;
  nodesForward?: number;
  nodesBackward?: number;
  compileMs?: Record<Mode, number>;
  probe?: { rates: number; grad: number } | { error: string };
}

interface TorchFamily extends Side {
  rebuilt_rel_err?: number;
}

/** import_torch.py, long-lived: one JSON command in, one JSON line out; its stderr passes through. */
class Torch {
  private readonly lines: AsyncIterator<string>;
  private constructor(private readonly child: ReturnType<typeof spawn>) {
    this.lines = readline.createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  }

  static async start(): Promise<{ torch: Torch; hello: Record<string, string> } | { error: string }> {
    const child = spawn(TORCH_PYTHON, [path.join(HERE, 'import_torch.py')], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, OMP_NUM_THREADS: undefined } });
    let stderr = '';
    child.stderr!.on('data', (d) => {
      stderr += d;
      process.stderr.write(d);
    });
    const t = new Torch(child);
    const failed = new Promise<{ error: string }>((resolve) => {
      child.on('error', (e) => resolve({ error: `${TORCH_PYTHON}: ${e.message}` }));
      child.on('close', (code) => {
        const missing = /No module named '(torch|numpy)'/.exec(stderr);
        resolve({ error: missing ? `${missing[1]} is missing for ${TORCH_PYTHON} (apt-get install -y python3-torch)` : `import_torch.py exited with ${code}: ${stderr.trim().split('\n').at(-1)}` });
      });
    });
    // stdout closing first still waits for the exit, which says why
    const hello = await Promise.race([t.lines.next().then((r) => (r.done ? failed : JSON.parse(r.value))), failed]);
    return 'error' in hello ? hello : { torch: t, hello };
  }

  async send(cmd: Record<string, unknown>): Promise<Record<string, unknown>> {
    this.child.stdin!.write(`${JSON.stringify(cmd)}\n`);
    const r = await this.lines.next();
    if (r.done) throw new Error('import_torch.py stopped');
    const reply = JSON.parse(r.value);
    if (reply.error) throw new Error(reply.error);
    return reply;
  }

  stop(): void {
    this.child.stdin!.end();
  }
}

const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e)).split('\n')[0];

/** [batch, n] rows of `w`. */
const repeatRows = (w: Float32Array, batch: number) => {
  const out = new Float32Array(batch * w.length);
  for (let b = 0; b < batch; b++) out.set(w, b * w.length);
  return float32([batch, w.length], out);
};

/** One timed block of `repeats` runs after `warmups` untimed ones. */
async function timesMs(fn: () => Promise<unknown>, repeats: number, warmups: number): Promise<number[]> {
  for (let i = 0; i < warmups; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  return times;
}

/** excite's sessions for a family: forward only, and forward + the derived input gradient, per thread count. */
async function prepareExcite(family: string, result: ExciteFamily): Promise<{ sessions: Record<Mode, Map<number, EngineSession>>; shape: number[]; neurons: number } | undefined> {
  const dir = path.join(FIXTURES, family);
  const sessions: Record<Mode, Map<number, EngineSession>> = { fwd: new Map(), grad: new Map() };
  let step: 'import' | 'gradient' | 'compile' = 'import';
  try {
    // one graph stays forward-only, the other gets the backward nodes
    const forward = await loadOnnxModel(dir);
    const model = await loadOnnxModel(dir);
    result.ops = model.ops;
    result.nodesForward = model.graph.nodes.length;
    step = 'gradient';
    const { grads } = appendBackward(model.graph, { outputs: ['rates'], wrt: ['image'] });
    // appendBackward marks the gradient as an output itself, named image_grad by default
    if (grads[0].name !== 'image_grad') model.graph.output(grads[0], 'image_grad');
    result.nodesBackward = model.graph.nodes.length;
    step = 'compile';
    result.compileMs = { fwd: 0, grad: 0 };
    for (const [mode, graph] of [['fwd', forward.graph], ['grad', model.graph]] as const) {
      for (const threads of THREADS) {
        const t = performance.now();
        sessions[mode].set(threads, await createSession(graph, {}, { threads }));
        result.compileMs[mode] = Math.max(result.compileMs[mode], performance.now() - t);
      }
    }
    return { sessions, shape: (forward.graph.inputs[0].shape as number[]).slice(1), neurons: forward.neurons.length };
  } catch (e) {
    await releaseAll(sessions);
    result.error = `${{ import: 'not importable', gradient: 'no gradient', compile: 'does not compile' }[step]}: ${messageOf(e)}`;
    log(`  excite ${family}: ${result.error}`);
    return undefined;
  }
}

async function releaseAll(sessions: Record<Mode, Map<number, EngineSession>>): Promise<void> {
  for (const map of Object.values(sessions)) for (const s of map.values()) await s.release().catch(() => undefined);
}

/** Both sides on one family: probe, then the timed rounds, each configuration alternating excite and PyTorch. */
async function benchFamily(family: string, torch: Torch | undefined, tmp: string): Promise<{ excite: ExciteFamily; torch?: TorchFamily }> {
  const ex: ExciteFamily = { fwd: {}, grad: {} };
  let th: TorchFamily | undefined;
  if (torch) {
    th = { fwd: {}, grad: {} };
    try {
      const loaded = await torch.send({ op: 'load', family, probe_dir: tmp, probe_batch: PROBE_BATCH });
      th.rebuilt_rel_err = loaded.rebuilt_rel_err as number;
      log(`  torch ${family}: the rebuilt model against the fixture's output.npy: ${exp(th.rebuilt_rel_err)}`);
    } catch (e) {
      th.error = messageOf(e);
      log(`  torch ${family}: ${th.error}`);
    }
  }
  const excite = await prepareExcite(family, ex);
  if (excite && th && !th.error) {
    try {
      const [x, w, rates, grad] = await Promise.all(['x', 'w', 'rates', 'grad'].map((f) => readNpy(path.join(tmp, family, `${f}.npy`))));
      const out = await excite.sessions.grad.get(THREADS[0])!.run({ image: x, rates_seed: repeatRows(w.data as Float32Array, x.shape[0]) });
      ex.probe = { rates: relativeError(out.rates.data as Float32Array, rates.data as Float32Array), grad: relativeError(out.image_grad.data as Float32Array, grad.data as Float32Array) };
      log(`  ${family}: probe (batch ${PROBE_BATCH}): excite against PyTorch: rates ${exp(ex.probe.rates)}, input gradient ${exp(ex.probe.grad)}`);
    } catch (e) {
      ex.probe = { error: messageOf(e) };
    }
  }

  const rng = new Rng(17);
  const feeds = new Map<number, Record<Mode, Record<string, NdArray>>>();
  if (excite) {
    const weights = rng.normals(excite.neurons);
    for (const batch of BATCHES) {
      const image = float32([batch, ...excite.shape], rng.normals(batch * excite.shape.reduce((a, b) => a * b)));
      feeds.set(batch, { fwd: { image }, grad: { image, rates_seed: repeatRows(weights, batch) } });
    }
  }
  const sides: [Side, (mode: Mode, batch: number, threads: number, repeats: number, warmups: number) => Promise<number[]>][] = [];
  if (excite) sides.push([ex, (mode, batch, threads, repeats, warmups) => {
    const session = excite.sessions[mode].get(threads)!;
    return timesMs(() => session.run(feeds.get(batch)![mode]), repeats, warmups);
  }]);
  if (torch && th && !th.error) sides.push([th, async (mode, batch, threads, repeats, warmups) => (await torch.send({ op: 'time', family, mode, batch, threads, repeats, warmups })).ms as number[]]);

  const perRound = Math.ceil(REPEATS / ROUNDS);
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const repeats = Math.min(perRound, REPEATS - round * perRound);
      if (repeats <= 0) break;
      for (const batch of BATCHES) {
        for (const mode of MODES) {
          for (const [side, run] of sides) {
            if (side.error) continue;
            const row = (side[mode][`b${batch}`] ??= {});
            const fastest = Math.min(...Object.values(row).map((t) => median(t)));
            for (const threads of THREADS) {
              const done = row[`t${threads}`];
              // a thread count far slower than the best (OpenMP threads on a busy machine) is not repeated
              if (done && median(done) > 3 * fastest) continue;
              try {
                (row[`t${threads}`] ??= []).push(...(await run(mode, batch, threads, repeats, round === 0 ? WARMUPS : 0)));
              } catch (e) {
                side.error = `failed to run: ${messageOf(e)}`;
                log(`  ${side === ex ? 'excite' : 'torch'} ${family}: ${side.error}`);
                break;
              }
            }
          }
        }
      }
      log(`  ${family}: round ${round + 1}/${ROUNDS} done`);
    }
  } finally {
    if (excite) await releaseAll(excite.sessions);
  }
  for (const [who, side] of [['excite', ex], ['torch', th]] as const) {
    if (!side || side.error) continue;
    for (const batch of BATCHES) log(`  ${who} ${family} batch ${batch}: ${MODES.flatMap((m) => Object.entries(side[m][`b${batch}`] ?? {}).map(([t, ms]) => `${m} ${t}: ${median(ms).toFixed(2)} ms (${ms.length} runs)`)).join(', ')}`);
  }
  return { excite: ex, torch: th };
}

/** The fastest thread count's median. */
function best(times: Times | undefined, batch: number): { ms: number; threads: number } | undefined {
  const row = times?.[`b${batch}`];
  if (!row || !Object.keys(row).length) return undefined;
  const [t, ms] = Object.entries(row).map(([k, v]) => [k, median(v)] as const).reduce((a, b) => (b[1] < a[1] ? b : a));
  return { ms, threads: Number(t.slice(1)) };
}

const cell = (b: { ms: number; threads: number } | undefined) => (b ? `${b.ms < 10 ? b.ms.toFixed(2) : b.ms.toFixed(1)} (${b.threads}t)` : '–');
/** A refusal as the table shows it: paths from the repository root, without the list of supported operators. */
const short = (message: string) => message.split(`${ROOT}${path.sep}`).join('').replace(/: excite derives gradients for these operators:.*/, '').replace(/\|/g, '\\|');
const exp = (x: number) => x.toExponential(1);

function table(results: Record<string, { excite: ExciteFamily; torch?: TorchFamily }>, withTorch: boolean): string {
  const head = withTorch
    ? ['family (ops)', 'nodes fwd/bwd', 'batch', 'excite fwd ms', 'torch fwd ms', 'excite fwd+grad ms', 'torch fwd+grad ms', 'ratio (torch/excite)', 'max rel diff']
    : ['family (ops)', 'nodes fwd/bwd', 'batch', 'excite fwd ms', 'excite fwd+grad ms'];
  const rows: string[][] = [];
  for (const family of FAMILIES) {
    const { excite: e, torch: t } = results[family];
    const name = `${family}${e.ops !== undefined ? ` (${e.ops})` : ''}`;
    const nodes = e.nodesForward !== undefined ? `${e.nodesForward}/${e.nodesBackward ?? '–'}` : '–';
    BATCHES.forEach((batch, i) => {
      const [ef, eg, tf, tg] = [best(e.fwd, batch), best(e.grad, batch), best(t?.fwd, batch), best(t?.grad, batch)];
      const ratio = [ef && tf ? `fwd ${(tf.ms / ef.ms).toFixed(2)}x` : '', eg && tg ? `grad ${(tg.ms / eg.ms).toFixed(2)}x` : ''].filter(Boolean).join(', ') || '–';
      let diff = '';
      if (i === 0) {
        if (t?.error) diff = `torch failed: ${short(t.error)}`;
        else if (e.probe && 'error' in e.probe) diff = `probe failed: ${short(e.probe.error)}`;
        else if (e.probe) diff = `rates ${exp(e.probe.rates)}, grad ${exp(e.probe.grad)}`;
      }
      // a family excite cannot run: its columns carry the reason once, PyTorch's figures stay
      const [exFwd, exGrad] = e.error ? [i === 0 ? short(e.error) : '–', i === 0 ? '' : '–'] : [cell(ef), cell(eg)];
      rows.push(withTorch ? [name, nodes, String(batch), exFwd, cell(tf), exGrad, cell(tg), ratio, diff] : [name, nodes, String(batch), exFwd, exGrad]);
    });
  }
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

const started = performance.now();

async function main(): Promise<void> {
  const cpus = os.cpus();
  const machine: Record<string, unknown> = { cpu: cpus[0]?.model ?? 'unknown', cores: cpus.length, onnxruntime: ort.env.versions?.common ?? '?', node: process.version };
  log(`bench:import: ${machine.cpu}, ${machine.cores} cores; families ${FAMILIES.join(', ')}; batches ${BATCHES.join(', ')}; threads ${THREADS.join(', ')}; ${REPEATS} repeats in ${ROUNDS} rounds after ${WARMUPS} warm-ups`);
  let torch: Torch | undefined;
  if (flag('--no-torch')) machine.torchMissing = '--no-torch';
  else {
    const started = await Torch.start();
    if ('error' in started) {
      machine.torchMissing = started.error;
      log(`PyTorch not measured: ${started.error}`);
    } else {
      torch = started.torch;
      Object.assign(machine, started.hello);
    }
  }
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'excite-bench-import-'));
  const results: Record<string, { excite: ExciteFamily; torch?: TorchFamily }> = {};
  try {
    for (const family of FAMILIES) results[family] = await benchFamily(family, torch, tmp);
  } finally {
    torch?.stop();
    rmSync(tmp, { recursive: true, force: true });
  }

  const out: string[] = [];
  out.push(`bench:import  ${machine.cpu}, ${machine.cores} cores; Node ${machine.node}; onnxruntime-node ${machine.onnxruntime}; ${torch ? `PyTorch ${machine.torch} (CPU, numpy ${machine.numpy}, BLAS ${machine.blas})` : `PyTorch not measured: ${machine.torchMissing}`}`);
  out.push(`median ms of ${REPEATS} runs (${ROUNDS} rounds${torch ? ' alternating excite and PyTorch' : ''}) after ${WARMUPS} warm-ups, each side at its best of ${THREADS.join(', ')} threads ("(Nt)"); fwd+grad = rates and d/d image of sum(rates * w)`);
  out.push(`nodes fwd/bwd: the engine graph's nodes before / after appendBackward; (ops): the forward op count after import${torch ? `; max rel diff: excite vs PyTorch float32 on one random batch of ${PROBE_BATCH}` : ''}`);
  out.push('');
  out.push(table(results, torch !== undefined));
  const compile = FAMILIES.filter((f) => results[f].excite.compileMs && !results[f].excite.error).map((f) => `${f} ${results[f].excite.compileMs!.fwd.toFixed(0)}/${results[f].excite.compileMs!.grad.toFixed(0)} ms`);
  if (compile.length) out.push('', `excite session creation (fwd / fwd+grad, slowest thread count): ${compile.join(', ')}`);
  console.log(out.join('\n'));
  log(`bench:import done in ${((performance.now() - started) / 60000).toFixed(1)} min`);
  const json = option('--json');
  if (json) writeFileSync(json, JSON.stringify({ machine, batches: BATCHES, threads: THREADS, repeats: REPEATS, rounds: ROUNDS, warmups: WARMUPS, results }, null, 1));
}

main().catch((e) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : e);
  process.exitCode = 1;
});
