/** `excite train-prior` and `excite sample-prior`: a diffusion prior (docs/formats.md, Prior). */
import { Command } from 'commander';
import cliProgress from 'cli-progress';
import { type PriorStepEvent, loadPrior, samplePrior, trainPriorModel, writeImageGrid } from '@excite/engine';
import { nonNegativeInt, positiveInt, positiveNumber } from '../number-options.ts';

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** Steps as a bar on a terminal; elsewhere one line every `every` steps (logs). */
function stepProgress(label: string, every: number, quiet = false) {
  let recent: number[] = [];
  const average = () => recent.reduce((a, b) => a + b, 0) / Math.max(1, recent.length);
  if (quiet || !process.stderr.isTTY) {
    const started = Date.now();
    return {
      onStep: (e: PriorStepEvent) => {
        recent.push(e.loss);
        if (quiet || (e.step % every !== 0 && e.step !== e.steps)) return;
        const minutes = (Date.now() - started) / 60000;
        console.error(`${label}: step ${e.step}/${e.steps} loss ${average().toFixed(4)} (mean of ${recent.length}) grad norm ${e.gradNorm.toFixed(2)} ${e.imagesPerSecond.toFixed(1)} images/s ${minutes.toFixed(1)} min`);
        recent = [];
      },
      stop: () => undefined,
    };
  }
  const bar = new cliProgress.SingleBar(
    { format: `${label} |{bar}| {value}/{total} steps | loss {loss} | {speed} images/s | eta {eta_formatted}`, hideCursor: true, clearOnComplete: false, etaBuffer: 50 },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    onStep: (e: PriorStepEvent) => {
      recent.push(e.loss);
      if (recent.length > 50) recent.shift();
      if (!started) {
        bar.start(e.steps, e.step - 1, { loss: '-', speed: '-' });
        started = true;
      }
      bar.update(e.step, { loss: average().toFixed(4), speed: e.imagesPerSecond.toFixed(1) });
    },
    stop: () => started && bar.stop(),
  };
}

export function trainPriorCommand(): Command {
  return new Command('train-prior')
    .description('train a diffusion prior (DDPM, eps prediction) on the grayscale images of dataset folders; resumes OUT/.checkpoint')
    .requiredOption('--data <dir>', 'a dataset folder (its images.zip); repeat for several', collect)
    .requiredOption('--out <dir>', 'prior folder to write (model.json + weights.safetensors, EMA weights)')
    .option('--init <prior>', 'start from this prior folder\'s weights and architecture (fine-tuning) instead of a fresh initialization')
    .option('--steps <n>', 'optimizer steps', positiveInt('--steps'), 4000)
    .option('--batch <b>', 'images per step', positiveInt('--batch'), 32)
    .option('--lr <lr>', 'AdamW learning rate', positiveNumber('--lr'), 2e-4)
    .option('--ema <decay>', 'EMA decay per step', positiveNumber('--ema'), 0.999)
    .option('--no-ema-warmup', 'a plain EMA from the first step (default: decay min(decay, (1 + n) / (10 + n)) at update n)')
    .option('--seed <n>', 'seed of the initialization, batches and noise', nonNegativeInt('--seed'), 0)
    .option('--checkpoint-every <n>', 'steps between checkpoints in OUT/.checkpoint', positiveInt('--checkpoint-every'), 250)
    .option('--threads <n>', 'onnxruntime intra-op threads (default: all cores)', positiveInt('--threads'))
    .option('--eval-views <n>', 'views of the training images in the final loss evaluation', positiveInt('--eval-views'), 256)
    .option('--log-every <n>', 'without a terminal: steps between progress lines', positiveInt('--log-every'), 200)
    .option('--quiet', 'no progress output')
    .action(async (o: { data: string[]; out: string; init?: string; steps: number; batch: number; lr: number; ema: number; emaWarmup: boolean; seed: number; checkpointEvery: number; threads?: number; evalViews: number; logEvery: number; quiet?: boolean }) => {
      const log = (line: string) => !o.quiet && console.error(line);
      const progress = stepProgress('train-prior', o.logEvery, o.quiet);
      const out = await trainPriorModel({
        data: o.data,
        out: o.out,
        init: o.init,
        steps: o.steps,
        batchSize: o.batch,
        lr: o.lr,
        emaDecay: o.ema,
        emaWarmup: o.emaWarmup,
        seed: o.seed,
        checkpointEvery: o.checkpointEvery,
        threads: o.threads,
        evalCount: o.evalViews,
        command: `excite ${process.argv.slice(2).join(' ')}`,
        onImages: (set) => log(`train-prior: ${set.images.length} images from ${set.sources.length} folders (${set.duplicates} duplicates left out)`),
        onResume: (step) => log(`train-prior: resuming the checkpoint at step ${step}`),
        onStep: progress.onStep,
        onFinishing: () => {
          progress.stop();
          log('train-prior: evaluating and writing the prior');
        },
      });
      console.log(out);
    });
}

export function samplePriorCommand(): Command {
  return new Command('sample-prior')
    .description('draw unguided samples from a diffusion prior (ancestral sampling) into a PNG grid')
    .requiredOption('--prior <dir>', 'a prior folder')
    .requiredOption('--out <file>', 'PNG file of the grid')
    .option('--n <n>', 'samples', positiveInt('--n'), 16)
    .option('--steps <k>', 'respaced sampling steps', positiveInt('--steps'), 100)
    .option('--seed <s>', 'seed of the noise', nonNegativeInt('--seed'), 0)
    .option('--clip-denoised', 'clip each step\'s predicted x0 to [-1, 1] (ADM\'s clip_denoised; EGG does not clip)')
    .option('--columns <c>', 'images per row (default ceil(sqrt(n)))', positiveInt('--columns'))
    .option('--scale <f>', 'integer enlargement of the grid', positiveInt('--scale'), 1)
    .option('--threads <n>', 'onnxruntime intra-op threads (default: all cores)', positiveInt('--threads'))
    .option('--quiet', 'no progress output')
    .action(async (o: { prior: string; out: string; n: number; steps: number; seed: number; clipDenoised?: boolean; columns?: number; scale: number; threads?: number; quiet?: boolean }) => {
      if (o.steps < 2) throw new Error('--steps must be at least 2');
      const prior = await loadPrior(o.prior);
      const bar = !o.quiet && process.stderr.isTTY ? new cliProgress.SingleBar({ format: 'sample-prior |{bar}| {value}/{total} steps', hideCursor: true }, cliProgress.Presets.shades_classic) : undefined;
      bar?.start(o.steps, 0);
      const started = performance.now();
      const { pixels } = await samplePrior(prior, { count: o.n, steps: o.steps, seed: o.seed, clipDenoised: o.clipDenoised, threads: o.threads, onStep: (e) => bar?.update(o.steps - e.k) });
      bar?.stop();
      await writeImageGrid(o.out, pixels, { columns: o.columns, scale: o.scale });
      if (!o.quiet) console.error(`sample-prior: ${o.n} samples, ${o.steps} steps, seed ${o.seed} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
      console.log(o.out);
    });
}
