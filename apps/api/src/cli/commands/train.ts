/** `excite train` and `excite fit-readout`. */
import { Command, Option } from 'commander';
import { type PresetName, fitReadouts, trainModel } from '@excite/engine';
import { trainingProgress } from '../progress.ts';

const collect = (value: string, previous: string[] = []) => [...previous, value];
const positiveInt = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got "${v}"`);
  return n;
};

function plateauOptions(o: { maxEpochs?: number; patience?: number }) {
  return { ...(o.maxEpochs ? { maxEpochs: o.maxEpochs } : {}), ...(o.patience ? { patience: o.patience } : {}) };
}

export function trainCommand(): Command {
  return new Command('train')
    .description('train encoders (shared core, one readout per session) on recordings in dataset folders')
    .requiredOption('--data <dir>', 'a dataset folder (images.zip + responses.npy); repeat for several sessions', collect)
    .addOption(new Option('--arch <arch>', 'readout').choices(['attention', 'gaussian']).makeOptionMandatory())
    .requiredOption('--out <dir>', 'model folder to write (an ensemble folder when --members > 1)')
    .addOption(new Option('--preset <name>', 'architecture and input size').choices(['demo', 'demo-alt', 'paper']).default('demo'))
    .option('--images <A:B>', 'image columns to use (0-based, B exclusive; default all); 10% of them validate')
    .option('--seed <n>', 'seed of the first member', positiveInt('--seed'), 1)
    .option('--members <m>', 'ensemble members, seeds seed..seed+m-1', positiveInt('--members'), 1)
    .option('--max-epochs <n>', 'epoch limit (default 200)', positiveInt('--max-epochs'))
    .option('--patience <n>', 'epochs without improvement before a learning-rate decay (default 5)', positiveInt('--patience'))
    .option('--quiet', 'no progress output')
    .action(async (o: { data: string[]; arch: 'attention' | 'gaussian'; out: string; preset: PresetName; images?: string; seed: number; members: number; maxEpochs?: number; patience?: number; quiet?: boolean }) => {
      const progress = trainingProgress('train', o.quiet);
      const out = await trainModel({ ...o, plateau: plateauOptions(o), command: `excite ${process.argv.slice(2).join(' ')}`, ...progress });
      progress.stop();
      console.log(out);
    });
}

export function fitReadoutCommand(): Command {
  return new Command('fit-readout')
    .description('fit readouts for new sessions on a trained, frozen core (one per ensemble member)')
    .requiredOption('--core <dir>', 'a trained model or ensemble folder')
    .requiredOption('--data <dir>', 'a dataset folder; repeat for several sessions', collect)
    .requiredOption('--out <dir>', 'model folder to write')
    .option('--images <A:B>', 'image columns to fit on (0-based, B exclusive); 10% of them validate')
    .option('--seed <n>', 'seed of the first member', positiveInt('--seed'), 1)
    .option('--max-epochs <n>', 'epoch limit (default 200)', positiveInt('--max-epochs'))
    .option('--patience <n>', 'epochs without improvement before a learning-rate decay (default 5)', positiveInt('--patience'))
    .option('--quiet', 'no progress output')
    .action(async (o: { core: string; data: string[]; out: string; images?: string; seed: number; maxEpochs?: number; patience?: number; quiet?: boolean }) => {
      const progress = trainingProgress('fit-readout', o.quiet);
      const out = await fitReadouts({ ...o, plateau: plateauOptions(o), command: `excite ${process.argv.slice(2).join(' ')}`, ...progress });
      progress.stop();
      console.log(out);
    });
}
