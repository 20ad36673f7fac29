/**
 * `npm run bench:import`: the encoders exported from PyTorch to ONNX (fixtures/onnx, made by
 * python/make_onnx_fixtures.py), imported into excite's engine with their input gradients derived
 * by appendBackward, against the same models in PyTorch (bench/import_torch.py rebuilds each one
 * with make_onnx_fixtures' family() and seed), on the CPU, in the same run:
 *   fwd       rates for a batch of images
 *   fwd+grad  rates and d/d image of sum(rates * w) (excite: one session holding the forward and
 *             the derived backward graph; PyTorch: forward then autograd)
 * at batch 1 and 16, each side at its best of 1 and 2 threads (the thread count is printed), as
 * the median of --repeats runs after --warmups untimed runs; the derived graph's size (nodes before
 * and after appendBackward, and the model's op count); and a probe: the largest relative difference
 * of excite's rates and input gradient from PyTorch's (float32, the timed model) on one random batch.
 * A family the engine cannot import is reported "not importable: <why>" and the others go on;
 * without torch, excite's columns alone are printed.
 *
 *   npm run bench:import -- [--families neuralpredictors,resnet,vit,recurrent] [--batches 1,16]
 *     [--threads 1,2] [--repeats 10] [--warmups 3] [--probe-batch 4] [--no-torch] [--json FILE]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ort from 'onnxruntime-node';
import { readNpy } from '../src/data/npy.ts';
import { loadOnnxModel } from '../src/models/onnx-model.ts';
import { appendBackward } from '../src/onnx/autodiff.ts';
import { type NdArray, float32 } from '../src/onnx/ndarray.ts';
import { Rng } from '../src/random.ts';
import { type EngineSession, createSession } from '../src/runtime/session.ts';
import { TORCH_PYTHON, flag, list, log, option } from './bench-args.ts';
import { medianMs, relativeError } from './measure.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../../..');
const FIXTURES = path.resolve(HERE, '../fixtures/onnx');
const FAMILIES = list('--families', 'neuralpredictors,resnet,vit,recurrent');
const BATCHES = list('--batches', '1,16').map(Number);
const THREADS = list('--threads', '1,2').map(Number);
const REPEATS = Number(option('--repeats', '10'));
const WARMUPS = Number(option('--warmups', '3'));
const PROBE_BATCH = Number(option('--probe-batch', '4'));

type Mode = 'fwd' | 'grad';
/** median ms per batch key ("b16") and thread key ("t2") */
type Times = Record<string, Record<string, number>>;

interface TorchFamily {
  error?: string;
  neurons?: number;
  rebuilt_rel_err?: number;
  fwd?: Times;
  grad?: Times;
}

interface TorchReport {
  torch: string;
  numpy: string;
  blas: string;
  families: Record<string, TorchFamily>;
}

interface ExciteFamily {
  /** set when the family could not be imported (or differentiated, or compiled) */
  error?: string;
  ops?: number;
  nodesForward?: number;
  nodesBackward?: number;
  compileMs?: Record<Mode, number>;
  fwd: Times;
  grad: Times;
  probe?: { rates: number; grad: number } | { error: string };
}

/** import_torch.py's JSON, or why there is none; its progress lines pass through to stderr. */
async function runTorch(dir: string): Promise<TorchReport | { error: string }> {
  const script = path.join(HERE, 'import_torch.py');
  const args = [script, dir, FAMILIES.join(','), BATCHES.join(','), THREADS.join(','), String(REPEATS), String(WARMUPS), String(PROBE_BATCH)];
  return new Promise((resolve) => {
    const child = spawn(TORCH_PYTHON, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, OMP_NUM_THREADS: undefined } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      stderr += d;
      process.stderr.write(d);
    });
    child.on('error', (e) => resolve({ error: `${TORCH_PYTHON}: ${e.message}` }));
    child.on('close', (code) => {
      if (code === 0) {
        try {
          return resolve(JSON.parse(stdout));
        } catch (e) {
          return resolve({ error: `import_torch.py wrote no JSON (${(e as Error).message})` });
        }
      }
      const missing = /No module named '(torch|numpy)'/.exec(stderr);
      resolve({ error: missing ? `${missing[1]} is missing for ${TORCH_PYTHON} (apt-get install -y python3-torch)` : `import_torch.py exited with ${code}: ${stderr.trim().split('\n').at(-1)}` });
    });
  });
}

const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e)).split('\n')[0];

/** [batch, n] rows of `w`. */
const repeatRows = (w: Float32Array, batch: number) => {
  const out = new Float32Array(batch * w.length);
  for (let b = 0; b < batch; b++) out.set(w, b * w.length);
  return float32([batch, w.length], out);
};

async function benchExcite(family: string, probeDir: string | undefined): Promise<ExciteFamily> {
  const result: ExciteFamily = { fwd: {}, grad: {} };
  const dir = path.join(FIXTURES, family);
  const sessions: Partial<Record<Mode, Map<number, EngineSession>>> = {};
  let step = 'import';
  try {
    // one graph stays forward-only, the other gets the backward nodes
    const forward = await loadOnnxModel(dir);
    const model = await loadOnnxModel(dir);
    result.ops = model.ops;
    result.nodesForward = model.graph.nodes.length;
    step = 'gradient';
    const { grads } = appendBackward(model.graph, { outputs: ['rates'], wrt: ['image'] });
    model.graph.output(grads[0], 'image_grad');
    result.nodesBackward = model.graph.nodes.length;
    step = 'compile';
    result.compileMs = { fwd: 0, grad: 0 };
    for (const [mode, graph] of [['fwd', forward.graph], ['grad', model.graph]] as const) {
      const map = (sessions[mode] = new Map());
      for (const threads of THREADS) {
        const t = performance.now();
        map.set(threads, await createSession(graph, {}, { threads }));
        result.compileMs[mode] = Math.max(result.compileMs[mode], performance.now() - t);
      }
    }
    step = 'run';
    const [, c, h, w] = forward.graph.inputs[0].shape as [string, number, number, number];
    const n = forward.neurons.length;
    const rng = new Rng(17);
    const weights = rng.normals(n);

    if (probeDir) {
      try {
        const [x, wp, rates, grad] = await Promise.all(['x', 'w', 'rates', 'grad'].map((f) => readNpy(path.join(probeDir, family, `${f}.npy`))));
        const out = await sessions.grad!.get(THREADS[0])!.run({ image: x, rates_seed: repeatRows(wp.data as Float32Array, x.shape[0]) });
        result.probe = { rates: relativeError(out.rates.data as Float32Array, rates.data as Float32Array), grad: relativeError(out.image_grad.data as Float32Array, grad.data as Float32Array) };
      } catch (e) {
        result.probe = { error: messageOf(e) };
      }
    }

    for (const batch of BATCHES) {
      const image = float32([batch, c, h, w], rng.normals(batch * c * h * w));
      const feeds: Record<Mode, Record<string, NdArray>> = { fwd: { image }, grad: { image, rates_seed: repeatRows(weights, batch) } };
      for (const mode of ['fwd', 'grad'] as const) {
        for (const threads of THREADS) {
          const session = sessions[mode]!.get(threads)!;
          (result[mode][`b${batch}`] ??= {})[`t${threads}`] = await medianMs(() => session.run(feeds[mode]), REPEATS, WARMUPS);
        }
      }
      log(`  excite ${family} batch ${batch}: ${(['fwd', 'grad'] as const).flatMap((m) => Object.entries(result[m][`b${batch}`]).map(([t, ms]) => `${m} ${t}: ${ms.toFixed(2)} ms`)).join(', ')}`);
    }
  } catch (e) {
    const what = { import: 'not importable', gradient: 'no gradient', compile: 'does not compile', run: 'failed to run' }[step];
    result.error = `${what}: ${messageOf(e)}`;
    log(`  excite ${family}: ${result.error}`);
  } finally {
    for (const map of Object.values(sessions)) for (const s of map!.values()) await s.release().catch(() => undefined);
  }
  return result;
}

/** The fastest thread count's median. */
function best(times: Times | undefined, batch: number): { ms: number; threads: number } | undefined {
  const row = times?.[`b${batch}`];
  if (!row || !Object.keys(row).length) return undefined;
  const [t, ms] = Object.entries(row).reduce((a, b) => (b[1] < a[1] ? b : a));
  return { ms, threads: Number(t.slice(1)) };
}

const cell = (b: { ms: number; threads: number } | undefined) => (b ? `${b.ms < 10 ? b.ms.toFixed(2) : b.ms.toFixed(1)} (${b.threads}t)` : '–');
/** A refusal as the table shows it: paths from the repository root, without the list of supported operators. */
const short = (message: string) => message.split(`${ROOT}${path.sep}`).join('').replace(/: excite derives gradients for these operators:.*/, '');
const exp = (x: number) => x.toExponential(1);

function table(excite: Record<string, ExciteFamily>, torch: TorchReport | undefined): string {
  const withTorch = torch !== undefined;
  const head = withTorch
    ? ['family (ops)', 'nodes fwd/bwd', 'batch', 'excite fwd ms', 'torch fwd ms', 'excite fwd+grad ms', 'torch fwd+grad ms', 'ratio (torch/excite)', 'max rel diff']
    : ['family (ops)', 'nodes fwd/bwd', 'batch', 'excite fwd ms', 'excite fwd+grad ms'];
  const rows: string[][] = [];
  for (const family of FAMILIES) {
    const e = excite[family];
    const t = torch?.families[family];
    const name = `${family}${e.ops !== undefined ? ` (${e.ops})` : ''}`;
    const nodes = e.nodesForward !== undefined ? `${e.nodesForward}/${e.nodesBackward ?? '–'}` : '–';
    BATCHES.forEach((batch, i) => {
      const ef = best(e.fwd, batch);
      const eg = best(e.grad, batch);
      const tf = best(t?.fwd, batch);
      const tg = best(t?.grad, batch);
      const ratio = [ef && tf ? `fwd ${(tf.ms / ef.ms).toFixed(2)}x` : '', eg && tg ? `grad ${(tg.ms / eg.ms).toFixed(2)}x` : ''].filter(Boolean).join(', ') || '–';
      let diff = '';
      if (i === 0) {
        if (t?.error) diff = `torch failed: ${t.error}`;
        else if (e.probe && 'error' in e.probe) diff = `probe failed: ${e.probe.error}`;
        else if (e.probe) diff = `rates ${exp(e.probe.rates)}, grad ${exp(e.probe.grad)}`;
      }
      if (e.error && i === 0) {
        // excite's columns carry the reason; PyTorch's figures stay
        const reason = short(e.error).replace(/\|/g, '\\|');
        rows.push(withTorch ? [name, nodes, String(batch), reason, cell(tf), '', cell(tg), '–', diff] : [name, nodes, String(batch), reason, '']);
        return;
      }
      rows.push(withTorch ? [name, nodes, String(batch), cell(ef), cell(tf), cell(eg), cell(tg), ratio, diff] : [name, nodes, String(batch), cell(ef), cell(eg)]);
    });
  }
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

const started = performance.now();

async function main(): Promise<void> {
  const cpus = os.cpus();
  const machine: Record<string, unknown> = { cpu: cpus[0]?.model ?? 'unknown', cores: cpus.length, onnxruntime: ort.env.versions?.common ?? '?', node: process.version };
  log(`bench:import: ${machine.cpu}, ${machine.cores} cores; families ${FAMILIES.join(', ')}; batches ${BATCHES.join(', ')}; threads ${THREADS.join(', ')}; ${REPEATS} repeats after ${WARMUPS} warm-ups`);
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'excite-bench-import-'));
  let torch: TorchReport | undefined;
  const excite: Record<string, ExciteFamily> = {};
  try {
    // one side at a time: neither competes with the other for the cores
    if (flag('--no-torch')) machine.torchMissing = '--no-torch';
    else {
      log('PyTorch (import_torch.py):');
      const t = await runTorch(tmp);
      if ('error' in t) {
        machine.torchMissing = t.error;
        log(`PyTorch not measured: ${t.error}`);
      } else {
        torch = t;
        Object.assign(machine, { torch: t.torch, blas: t.blas });
        for (const [f, r] of Object.entries(t.families)) if (r.rebuilt_rel_err !== undefined) log(`  torch ${f}: rebuilt model vs the fixture's output.npy: ${exp(r.rebuilt_rel_err)}`);
      }
    }
    log('excite:');
    for (const family of FAMILIES) excite[family] = await benchExcite(family, torch && !torch.families[family]?.error ? tmp : undefined);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }

  const out: string[] = [];
  out.push(`bench:import  ${machine.cpu}, ${machine.cores} cores; Node ${machine.node}; onnxruntime-node ${machine.onnxruntime}; ${torch ? `PyTorch ${torch.torch} (CPU, numpy ${torch.numpy}, BLAS ${torch.blas})` : `PyTorch not measured: ${machine.torchMissing}`}`);
  out.push(`median ms of ${REPEATS} runs after ${WARMUPS} warm-ups, each side at its best of ${THREADS.join(', ')} threads ("(Nt)"); fwd+grad = rates and d/d image of sum(rates * w)`);
  out.push(`nodes fwd/bwd: the engine graph's nodes before / after appendBackward; (ops): the forward op count after import; max rel diff: excite vs PyTorch float32 on one random batch of ${PROBE_BATCH}`);
  out.push('');
  out.push(table(excite, torch));
  {
    const compile = FAMILIES.filter((f) => excite[f].compileMs).map((f) => `${f} ${excite[f].compileMs!.fwd.toFixed(0)}/${excite[f].compileMs!.grad.toFixed(0)} ms`);
    if (compile.length) out.push('', `excite session creation (fwd/fwd+grad, slowest thread count): ${compile.join(', ')}`);
  }
  console.log(out.join('\n'));
  log(`bench:import done in ${((performance.now() - started) / 60000).toFixed(1)} min`);
  const json = option('--json');
  if (json) writeFileSync(json, JSON.stringify({ machine, batches: BATCHES, threads: THREADS, repeats: REPEATS, warmups: WARMUPS, excite, torch }, null, 1));
}

main().catch((e) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : e);
  process.exitCode = 1;
});
