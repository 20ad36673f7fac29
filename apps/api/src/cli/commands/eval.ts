/** `excite eval`: per-neuron Pearson r of a model on images of a session. */
import { Command } from 'commander';
import { evaluateModel } from '@excite/engine';

export function evalCommand(): Command {
  return new Command('eval')
    .description("per-neuron Pearson r of a model's predictions on images of a dataset folder")
    .requiredOption('--model <path>', 'model or ensemble folder, or a compact model file or folder')
    .requiredOption('--data <dir>', 'dataset folder of the session')
    .option('--images <A:B>', 'image columns (0-based, B exclusive; default all)')
    .option('--json', 'print {"median_r","mean_r","per_neuron":[...]}')
    .action(async (o: { model: string; data: string; images?: string; json?: boolean }) => {
      const e = await evaluateModel(o);
      if (o.json) console.log(JSON.stringify(e));
      else console.log(`${e.per_neuron.length} neurons, ${e.images} images: median r ${e.median_r.toFixed(3)}, mean r ${e.mean_r.toFixed(3)}`);
    });
}
