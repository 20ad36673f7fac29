/** `excite synthesize` and `excite compare`. */
import { Command, Option } from 'commander';
import cliProgress from 'cli-progress';
import {
  METHOD_NAMES,
  type MethodName,
  type ProgressCallback,
  compare,
  methodOf,
  resolveSettings,
  float32,
  loadPrior,
  loadScoringModel,
  loadStimuli,
  membersOf,
  parseNeurons,
  parseRange,
  readDataset,
  responsesOf,
  standardize,
  synthesisPrior,
  synthesize,
  writeImageGrid,
} from '@excite/engine';
import { defaultPrior } from '../defaults.ts';
import { addSettingOptions, methodOption, settingsOf } from '../method-options.ts';
import { nonNegativeInt } from '../number-options.ts';

const priorOption = (c: Command) => c.option('--prior <dir>', 'diffusion prior (default: models/demo/prior)');

/** A progress bar on stderr while a run samples (only on a terminal). */
function stepBar(label: string): { onProgress?: ProgressCallback; stop(): void } {
  if (!process.stderr.isTTY) return { stop: () => undefined };
  const bar = new cliProgress.SingleBar({ format: `${label} |{bar}| step {value}/{total} | activation {activation}`, hideCursor: true, stream: process.stderr }, cliProgress.Presets.shades_classic);
  let started = false;
  return {
    onProgress: (e) => {
      const activation = (Array.from(e.activation).reduce((a, b) => a + b, 0) / e.activation.length).toFixed(3);
      if (!started) {
        bar.start(e.steps, 0, { activation });
        started = true;
      }
      bar.update(e.step, { activation });
    },
    stop: () => started && bar.stop(),
  };
}

export function synthesizeCommand(): Command {
  return addSettingOptions(priorOption(
    new Command('synthesize')
      .description('synthesize an image for one neuron: GA or EGG MEI, MENI, reconstruction, or the most activating natural image')
      .addOption(methodOption())
      .requiredOption('--model <dir>', 'model or ensemble folder whose neuron drives synthesis')
      .requiredOption('--neuron <K>', 'a column of the model (K) or SESSION:K')
      .option('--seed <s>', 'seed of the start and noise (top-k: the rank)', nonNegativeInt('--seed'), 0)
      .option('--out <file.png>', 'where to write the image (default METHOD-NEURON-sSEED.png)')
      .option('--data <dir>', 'top-k: candidate images of this dataset folder; recon: the target image comes from it')
      .option('--images <A:B>', 'top-k: candidate image columns (default all)')
      .option('--target <k>', 'recon: the column of --data whose responses are the target', nonNegativeInt('--target'))
      .option('--recorded', "recon: the recorded responses of --target (default: the model's responses to it)")
      .option('--json', 'print {"method","neuron","seed","seconds","activation","image"}'),
  )).action(async (o: { method: MethodName; model: string; neuron: string; seed: number; prior?: string; out?: string; data?: string; images?: string; target?: number; recorded?: boolean; json?: boolean }) => {
    const generator = await loadScoringModel(o.model);
    const [choice] = parseNeurons(o.neuron, generator.neurons);
    if (o.neuron.includes(',') || o.neuron.includes('-')) throw new Error('--neuron takes one neuron (use `excite compare` for several)');
    const priorDir = o.prior ?? defaultPrior();
    const prior = priorDir && methodOf(o.method).needs.prior ? synthesisPrior(await loadPrior(priorDir)) : undefined;
    const encoder = generator.encoder;
    const input = encoder ? membersOf(encoder)[0].spec.input : undefined;
    let natural;
    let targets;
    if (o.method === 'topk' || o.method === 'recon') {
      if (!o.data || !input) throw new Error(`${o.method} needs --data DIR and one of our encoders as --model`);
      const dataset = await readDataset(o.data);
      if (o.method === 'topk') natural = standardize(await loadStimuli(dataset.images, parseRange(o.images, dataset.images.count), input), input);
      else {
        if (o.target === undefined) throw new Error('recon needs --target K (an image column of --data)');
        const image = standardize(await loadStimuli(dataset.images, [o.target], input), input);
        if (o.recorded) {
          const recorded = responsesOf(dataset, [o.target]);
          const columns = generator.neurons.map((n) => n.neuron);
          targets = { rates: float32([1, columns.length], columns.map((row) => recorded[row])) };
        } else targets = { images: image };
      }
    }
    const bar = o.json ? { stop: () => undefined } : stepBar(`${o.method} neuron ${o.neuron}`);
    // a diverse set is setSize images of the neuron, seeds seed..seed+setSize-1
    const settings = settingsOf(o);
    const count = o.method === 'diverse' ? resolveSettings(methodOf('diverse'), settings).setSize! : 1;
    const items = Array.from({ length: count }, (_, j) => ({ neuron: choice.column, seed: o.seed + j }));
    const result = await synthesize({ method: o.method, generator, prior, items, settings, natural, targets, onProgress: 'onProgress' in bar ? bar.onProgress : undefined });
    bar.stop();
    const image = result.images[0];
    const file = o.out ?? `${o.method}-${String(o.neuron).replace(':', '_')}-s${o.seed}.png`;
    const size = image.pixels.data.length;
    const stack = float32([count, ...image.pixels.shape], new Float32Array(count * size));
    result.images.forEach((im, j) => stack.data.set(im.pixels.data, j * size));
    await writeImageGrid(file, stack, { padding: 0, columns: count });
    const report = { method: o.method, neuron: choice.label, seed: o.seed, seconds: result.seconds, activation: image.activation, image: file };
    if (o.json) console.log(JSON.stringify(report));
    else console.log(`${file}: ${o.method} neuron ${choice.label} seed ${o.seed}, activation ${image.activation.toFixed(3)}, ${result.seconds.toFixed(1)} s`);
  });
}

const list = (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean);

export function compareCommand(): Command {
  return addSettingOptions(priorOption(
    new Command('compare')
      .description('synthesize with each generator and method, score every image with every evaluator (raw responses)')
      .requiredOption('--generators <dirs>', 'comma-separated model folders', list)
      .requiredOption('--evaluators <paths>', 'comma-separated model folders or compact model folders/files', list)
      .requiredOption('--neurons <spec>', 'e.g. 0-9, or 201025:0-9,210225:0-4')
      .requiredOption('--methods <list>', `comma-separated: ${METHOD_NAMES.join(', ')}`, list)
      .option('--seeds <list>', 'comma-separated seeds (default 0)', (v) => list(v).map(nonNegativeInt('--seeds')))
      .option('--out <dir>', 'folder for the images (default ./compare)')
      .option('--data <dirs>', 'top-k: comma-separated dataset folders of the neurons’ sessions', list)
      .option('--images <A:B>', 'top-k: candidate image columns')
      .option('--json', 'print {"rows": [...]}'),
  )).action(async (o: { generators: string[]; evaluators: string[]; neurons: string; methods: string[]; seeds?: number[]; out?: string; data?: string[]; images?: string; json?: boolean; prior?: string }) => {
    const needsPrior = o.methods.map(methodOf).some((m) => m.needs.prior);
    const prior = o.prior ?? (needsPrior ? defaultPrior() : undefined);
    let bar: ReturnType<typeof stepBar> | undefined;
    const result = await compare({
      ...o,
      methods: o.methods as MethodName[],
      prior,
      settings: settingsOf(o),
      onProgress: (g, m) => {
        bar?.stop();
        bar = o.json ? undefined : stepBar(`${m} ${g}`);
        return bar?.onProgress;
      },
    });
    bar?.stop();
    if (o.json) console.log(JSON.stringify(result));
    else for (const r of result.rows) console.log(`${r.generator} ${r.method} ${r.neuron} seed ${r.seed}: ${Object.entries(r.scores).map(([e, s]) => `${e} ${s === null ? '-' : s.toFixed(3)}`).join(', ')}`);
  });
}
