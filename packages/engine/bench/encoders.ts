/**
 * `npm run bench:encoders`: how well the demo encoders predict V4 neurons on images no model saw.
 * Sessions 201025 and 210225: per-neuron Pearson r on images 600..1199 for the attention
 * ensembles ("train", "val"), the Gaussian ensemble ("cross") and the published compact models,
 * the latter also on the same images in grayscale (the input excite's encoders see; the compact
 * models were fitted to color images, so this is what they keep without color).
 * Session 210325 (left out of the demo cores): readouts fitted on its first 320 images on each
 * frozen demo core, tested on the other 320 against its raw repeats (FEV, FEVE).
 */
import os from 'node:os';
import { mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readDataset } from '../src/data/dataset.ts';
import { loadStimuli, standardize } from '../src/data/stimuli.ts';
import { median } from '../src/evaluate/correlation.ts';
import { attentionFocusOn } from '../src/evaluate/attention-focus.ts';
import { evaluateModel } from '../src/evaluate/evaluate-model.ts';
import { noiseCeiling } from '../src/evaluate/noise-ceiling.ts';
import { encoderGraph } from '../src/models/encoder-graph.ts';
import { loadModel, membersOf } from '../src/models/model-dir.ts';
import { toNumbers } from '../src/onnx/ndarray.ts';
import { runBatched } from '../src/runtime/batched.ts';
import { createSession } from '../src/runtime/session.ts';
import { parseRange } from '../src/train/sessions.ts';
import { fitReadouts } from '../src/train/workflows.ts';

const repo = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const data = process.env.EXCITE_V4_DATA ?? join(repo, '../shared/data/v4');
const demo = join(repo, 'models/demo');
const MODELS = ['attention-train', 'attention-val', 'gaussian-cross'] as const;
const json = process.argv.includes('--json');
const log = (...a: unknown[]) => (json ? console.error(...a) : console.log(...a));

async function main() {
  type Row = { median_r: number; mean_r: number; neurons: number; attention?: { max_weight: number; effective_positions: number; positions: number; focused: number; half_mass_area: number; localized: number; spread: number } };
  const results: Record<string, Record<string, Row>> = {};
  for (const session of ['201025', '210225']) {
    results[session] = {};
    for (const m of MODELS) {
      const dir = join(data, 'sessions', session);
      const e = await evaluateModel({ model: join(demo, m), data: dir, images: '600:1200' });
      results[session][m] = { median_r: e.median_r, mean_r: e.mean_r, neurons: e.per_neuron.length };
      if (membersOf(await loadModel(join(demo, m)))[0].spec.readout.type === 'attention') {
        const f = await attentionFocusOn({ model: join(demo, m), data: dir, images: '600:1200' });
        results[session][m].attention = {
          max_weight: f.medianMaxWeight,
          effective_positions: f.medianEffectivePositions,
          positions: f.positions,
          focused: f.focusedFraction,
          half_mass_area: f.medianHalfMassArea,
          localized: f.localizedFraction,
          spread: f.medianSpread,
        };
      }
    }
    const c = await evaluateModel({ model: join(data, 'compact', session), data: join(data, 'sessions', session), images: '600:1200' });
    results[session].compact = { median_r: c.median_r, mean_r: c.mean_r, neurons: c.per_neuron.length };
    const g = await evaluateModel({ model: join(data, 'compact', session), data: join(data, 'sessions', session), images: '600:1200', grayscale: true });
    results[session]['compact (gray)'] = { median_r: g.median_r, mean_r: g.mean_r, neurons: g.per_neuron.length };
  }

  // 210325: new readouts on the frozen demo cores, tested against single trials
  const ceiling: Record<string, { median_r: number; median_fev: number; median_feve: number; reliable: number; neurons: number }> = {};
  const tmp = mkdtempSync(join(os.tmpdir(), 'excite-bench-encoders-'));
  try {
    const dir = join(data, 'sessions', '210325');
    const dataset = await readDataset(dir);
    const test = parseRange('320:640', dataset.images.count);
    for (const m of ['attention-train', 'gaussian-cross'] as const) {
      const out = join(tmp, m);
      // the readout recipe of the demo models (models/demo/train.sh): no L1 on the queries, queries and weights from 1/C;
      // the rest (the L1 weight on the feature weights, the attention entropy penalty) is what the model's readouts record
      await fitReadouts({ core: join(demo, m), data: [dir], images: '0:320', out, plateau: { maxEpochs: 40, patience: 3 }, overrides: { queryL1: 0, readoutInit: 'constant' } });
      const e = await evaluateModel({ model: out, data: dir, images: '320:640' });
      const model = await loadModel(out);
      const input = membersOf(model)[0].spec.input;
      const { graph, neurons } = encoderGraph(model);
      const session = await createSession(graph);
      const rates = await runBatched(session, {}, 'image', standardize(await loadStimuli(dataset.images, test, input), input), 'rates');
      await session.release();
      const raw = dataset.responsesRaw!;
      const c = noiseCeiling({ shape: raw.shape, data: toNumbers(raw) }, test, { data: rates.data, neurons: neurons.map((n) => n.neuron) });
      const reliable = c.filter((x) => x.fev > 0.15);
      ceiling[m] = { median_r: e.median_r, median_fev: median(c.map((x) => x.fev)), median_feve: median(reliable.map((x) => x.feve!)), reliable: reliable.length, neurons: c.length };
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }

  const training = await Promise.all(MODELS.map(async (m) => membersOf(await loadModel(join(demo, m))).map((x) => x.meta.training as { seconds: number; machine: { cpu: string; cores: number } })));
  const cpu = os.cpus()[0]?.model ?? 'unknown';
  log(`demo encoders on held-out V4 images (machine: ${cpu}, ${os.cpus().length} cores; CPU)`);
  log(`${'session'.padEnd(8)} ${'model'.padEnd(16)} ${'neurons'.padStart(7)} ${'median r'.padStart(9)} ${'mean r'.padStart(7)} ${'/ compact'.padStart(10)} ${'/ gray'.padStart(7)}   attention: median largest weight (uniform 1/S), median effective positions of S, neurons under S/10 | median half-mass area, neurons with half in under a tenth of the map, median spread (positions)`);
  for (const [s, rows] of Object.entries(results)) {
    for (const [m, r] of Object.entries(rows)) {
      const a = r.attention ? `   ${r.attention.max_weight.toPrecision(3)} (${(1 / r.attention.positions).toPrecision(3)}), ${r.attention.effective_positions.toFixed(0)} of ${r.attention.positions}, ${(100 * r.attention.focused).toFixed(0)} % | ${(100 * r.attention.half_mass_area).toFixed(1)} %, ${(100 * r.attention.localized).toFixed(0)} %, ${r.attention.spread.toFixed(1)}` : '';
      log(`${s.padEnd(8)} ${m.padEnd(16)} ${String(r.neurons).padStart(7)} ${r.median_r.toFixed(3).padStart(9)} ${r.mean_r.toFixed(3).padStart(7)} ${(r.median_r / rows.compact.median_r).toFixed(2).padStart(10)} ${(r.median_r / rows['compact (gray)'].median_r).toFixed(2).padStart(7)}${a}`);
    }
  }
  for (const [m, c] of Object.entries(ceiling)) {
    log(`210325 ${m}: readout fitted on images 0..319, tested on 320..639: median r ${c.median_r.toFixed(3)}; median FEV ${c.median_fev.toFixed(3)}; median FEVE ${c.median_feve.toFixed(3)} over the ${c.reliable} of ${c.neurons} neurons with FEV > 0.15`);
  }
  const seconds = training.map((members) => members.reduce((s, t) => s + t.seconds, 0));
  log(`fit-readout time of the shipped models (s): ${MODELS.map((m, i) => `${m} ${seconds[i]}`).join(', ')}`);
  if (json) console.log(JSON.stringify({ machine: { cpu, cores: os.cpus().length }, device: 'cpu', results, ceiling }));
}

await main();
