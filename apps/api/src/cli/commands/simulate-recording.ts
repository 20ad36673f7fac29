/**
 * `excite simulate-recording`: an exported stimulus set "recorded" from compact ground-truth
 * models with Poisson noise (the engine's simulateRecording), written as the .npy a rig would give
 * `excite responses import`: a closed loop without an animal, to test the pipeline and to plan
 * repeats and neuron counts.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { Command } from 'commander';
import { type NdArray, Rng, brainRates, decodeImage, encodeNpy, float32, loadScoringModel, recordFromRates, toGrayscale } from '@excite/engine';
import { readStimulusCsv } from '@excite/sdk/node';
import { nonNegativeInt, positiveInt, positiveNumber } from '../number-options.ts';

export interface SimulateOptions {
  stimuli: string;
  compact: string[];
  repeats: number;
  seed: number;
  scale: number;
  out: string;
  rates?: string;
}

export interface SimulateResult {
  out: string;
  session: string;
  /** the rows of the responses: the compact models' neurons, in order */
  neurons: number[];
  stimuli: number;
  repeats: number;
  scale: number;
}

export async function simulateRecordingFiles(o: SimulateOptions): Promise<SimulateResult> {
  const rows = await readStimulusCsv(o.stimuli);
  if (rows.length === 0) throw new Error(`${o.stimuli} lists no stimuli`);
  const pixels = await Promise.all(rows.map(async (r) => toGrayscale(await decodeImage(await readFile(r.png), r.png))));
  const parts: NdArray<Float32Array>[] = [];
  const neurons: { session: string; neuron: number }[] = [];
  for (const dir of o.compact) {
    const brain = await loadScoringModel(dir);
    if (brain.kind !== 'compact') throw new Error(`${dir} is not a compact model (a folder of neuronK.safetensors)`);
    for (const n of brain.neurons) {
      if (neurons.some((m) => m.session === n.session && m.neuron === n.neuron)) throw new Error(`neuron ${n.session}:${n.neuron} comes twice (${dir})`);
      neurons.push(n);
    }
    parts.push(await brainRates(brain, pixels));
  }
  const sessions = [...new Set(neurons.map((n) => n.session))];
  if (sessions.length > 1) throw new Error(`the compact models are of sessions ${sessions.join(', ')}: a recording is of one session`);
  const data = new Float32Array(neurons.length * rows.length);
  let offset = 0;
  for (const p of parts) {
    data.set(p.data, offset);
    offset += p.data.length;
  }
  const rates = float32([neurons.length, rows.length], data);
  const responses = recordFromRates(rates, { repeats: o.repeats, rng: new Rng(o.seed), scale: o.scale });
  await writeFile(o.out, encodeNpy(responses));
  if (o.rates) await writeFile(o.rates, encodeNpy(rates));
  return { out: o.out, session: sessions[0], neurons: neurons.map((n) => n.neuron), stimuli: rows.length, repeats: o.repeats, scale: o.scale };
}

export function simulateRecordingCommand(): Command {
  return new Command('simulate-recording')
    .description('"records" an exported stimulus set with compact ground-truth models as the brain: Poisson counts with mean scale x rate, divided by scale, per repeat; writes [neurons, stimuli, repeats] float32 .npy for `excite responses import` and prints its path')
    .requiredOption('--stimuli <images.csv>', 'the images.csv of `excite images export` (its PNGs are read beside it)')
    .requiredOption('--compact <dirs>', 'compact model folder(s) of the recorded session, comma-separated: the rows are their neurons in order of K')
    .option('--repeats <R>', 'presentations of each stimulus', positiveInt('--repeats'), 4)
    .option('--seed <S>', 'seed of the Poisson noise', nonNegativeInt('--seed'), 0)
    .option('--scale <F>', 'expected spike count of a rate of 1 (larger: less noise; variance = rate / scale)', positiveNumber('--scale'), 1)
    .requiredOption('--out <file.npy>', 'where to write the responses')
    .option('--rates <file.npy>', 'also write the noiseless rates [neurons, stimuli]')
    .option('--json', 'print {"out", "session", "neurons", "stimuli", "repeats", "scale"}')
    .action(async (o: Omit<SimulateOptions, 'compact'> & { compact: string; json?: boolean }) => {
      const result = await simulateRecordingFiles({ ...o, compact: o.compact.split(',').filter(Boolean) });
      if (o.json) console.log(JSON.stringify(result));
      else {
        console.error(`excite: ${result.neurons.length} neurons of session ${result.session} (rows: ${result.neurons.join(',')}) x ${result.stimuli} stimuli x ${result.repeats} repeats`);
        console.log(result.out);
      }
    });
}
