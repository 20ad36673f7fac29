/**
 * `npm run bench:engine`: forward and forward+input-gradient time of the paper-scale encoder
 * (1x100x100 input, 5-layer data-driven core with 96 channels, attention readout, 1000 neurons) on
 * the CPU through onnxruntime-node, against the same model and weights in PyTorch (Debian's
 * python3-torch) measured in the same run. Prints a table and, with --json, one JSON document.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { appendBackward } from '../src/onnx/autodiff.ts';
import { float32 } from '../src/onnx/ndarray.ts';
import { PAPER_CORE } from '../src/models/data-driven-core.ts';
import { medianMs, relativeError } from './measure.ts';
import { PAPER_KEY_DIM as KEY_DIM, PAPER_NEURONS as NEURONS, exportForTorch, paperEncoder } from './paper-encoder.ts';
import { Rng } from '../src/random.ts';
import { type EngineSession, createSession } from '../src/runtime/session.ts';

const SIZE = 100;
const BATCHES = [1, 16];
const REPEATS = Number(process.env.BENCH_REPEATS ?? 12);
const THREADS = os.cpus().length;
const PYTHON = process.env.EXCITE_TORCH_PYTHON ?? '/usr/bin/python3';
const json = process.argv.includes('--json');
const log = (...a: unknown[]) => (json ? console.error(...a) : console.log(...a));

async function timedCreate(make: () => Promise<EngineSession>): Promise<{ session: EngineSession; ms: number }> {
  const t = performance.now();
  const session = await make();
  return { session, ms: performance.now() - t };
}

async function main() {
  const rng = new Rng(5);
  const forwardGraph = paperEncoder(SIZE);
  const gradientGraph = paperEncoder(SIZE);
  appendBackward(gradientGraph, { outputs: ['rates'], wrt: ['image'] });

  const fwd = await timedCreate(() => createSession(forwardGraph, {}, { device: 'cpu', threads: THREADS }));
  const grad = await timedCreate(() => createSession(gradientGraph, {}, { device: 'cpu', threads: THREADS }));
  const ours: Record<string, number> = { session_forward_ms: fwd.ms, session_gradient_ms: grad.ms };
  for (const batch of BATCHES) {
    const image = float32([batch, 1, SIZE, SIZE], rng.normals(batch * SIZE * SIZE));
    const seed = float32([batch, NEURONS], rng.normals(batch * NEURONS));
    const n = batch === 1 ? REPEATS : Math.max(2, Math.floor(REPEATS / 4));
    ours[`forward_ms_b${batch}`] = await medianMs(() => fwd.session.run({ image }), n, 2);
    ours[`gradient_ms_b${batch}`] = await medianMs(() => grad.session.run({ image, rates_seed: seed }), n, 2);
  }
  ours.peak_rss_mb = process.resourceUsage().maxRSS / 1024;

  // the same weights in PyTorch; a probe image checks both compute the same function
  const probe = float32([2, 1, SIZE, SIZE], rng.normals(2 * SIZE * SIZE));
  const ourProbe = (await fwd.session.run({ image: probe })).rates.data as Float32Array;
  let torch: Record<string, number | string | number[]> | undefined;
  let torchError: string | undefined;
  if (existsSync(PYTHON)) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'excite-bench-'));
    mkdirSync(dir, { recursive: true });
    try {
      exportForTorch(forwardGraph, dir, SIZE, { probe: probe.shape, batches: BATCHES });
      writeFileSync(path.join(dir, 'probe.bin'), probe.data as Float32Array);
      const script = fileURLToPath(new URL('./torch_encoder.py', import.meta.url));
      torch = JSON.parse(execFileSync(PYTHON, [script, dir, String(THREADS), String(REPEATS)], { encoding: 'utf8', maxBuffer: 1 << 26 }));
    } catch (e) {
      torchError = (e as Error).message.split('\n').slice(-3).join(' ');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  } else torchError = `${PYTHON} not found (apt install python3-torch)`;

  const probeRelErr = torch ? relativeError(ourProbe, torch.probe_rates as number[]) : undefined;

  const machine = { cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, threads: THREADS, memory_gb: Math.round(os.totalmem() / 2 ** 30), platform: `${os.platform()} ${os.release()}`, node: process.version };
  const rows = BATCHES.flatMap((b) => [`forward_ms_b${b}`, `gradient_ms_b${b}`]);
  log(`paper-scale encoder: 1x${SIZE}x${SIZE}, core ${PAPER_CORE.layers} layers x ${PAPER_CORE.channels} channels, attention readout ${NEURONS} neurons (D=${KEY_DIM})`);
  log(`machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memory_gb} GB; device: CPU, ${THREADS} threads for both`);
  log(`${'operation'.padEnd(26)}${'excite (ORT CPU)'.padStart(18)}${'PyTorch CPU'.padStart(14)}${'speed-up'.padStart(10)}`);
  for (const r of rows) {
    const t = torch?.[r] as number | undefined;
    log(`${r.padEnd(26)}${ours[r].toFixed(1).padStart(15)} ms${t === undefined ? '           -' : `${t.toFixed(1).padStart(11)} ms`}${t === undefined ? '' : `${(t / ours[r]).toFixed(2).padStart(9)}x`}`);
  }
  for (const b of BATCHES) log(`gradient/forward ratio b${b}: excite ${(ours[`gradient_ms_b${b}`] / ours[`forward_ms_b${b}`]).toFixed(2)}${torch ? `, PyTorch ${((torch[`gradient_ms_b${b}`] as number) / (torch[`forward_ms_b${b}`] as number)).toFixed(2)}` : ''}`);
  log(`session creation: forward ${ours.session_forward_ms.toFixed(0)} ms, forward+gradient ${ours.session_gradient_ms.toFixed(0)} ms`);
  log(`peak RSS: excite process ${ours.peak_rss_mb.toFixed(0)} MB${torch ? `, PyTorch process ${(torch.peak_rss_mb as number).toFixed(0)} MB` : ''}`);
  if (torch && !String(torch.blas).includes('openblas')) log(`warning: PyTorch uses ${torch.blas}, the reference BLAS; apt install libopenblas0-pthread for a fair baseline`);
  if (torch) log(`PyTorch ${torch.torch} with ${torch.blas}; outputs agree to ${probeRelErr!.toExponential(1)} (max relative difference on a probe batch)`);
  else log(`PyTorch baseline not run: ${torchError}`);
  if (json) console.log(JSON.stringify({ machine, device: 'cpu', ours, torch, torch_error: torchError, probe_rel_err: probeRelErr }));
  await fwd.session.release();
  await grad.session.release();
}

await main();
