/** `excite train`, `excite fit-readout` and `excite teacher-data`. */
import { Command, Option } from 'commander';
import { LR_SCHEDULES, type LrSchedule, type PresetName, fitReadouts, trainModel, writeTeacherData } from '@excite/engine';
import { fraction, nonNegative, positiveInt, unitInterval } from '../number-options.ts';
import { trainingProgress } from '../progress.ts';

const collect = (value: string, previous: string[] = []) => [...previous, value];

interface RecipeFlags {
  channels?: number;
  layers?: number;
  inputSize?: number;
  laplaceStencil?: '5' | '9';
  queryL1?: number;
  readoutInit?: 'normal' | 'constant';
  attentionEntropy?: number;
  readoutL1?: number;
  readoutDropout?: number;
  positionScale?: number;
  keyDim?: number;
  bnMomentum?: number;
  shift?: number;
  lrSchedule?: LrSchedule;
}

/** The readout's settings, which fit-readout can change too. */
function readoutFlags(c: Command): Command {
  return c
    .option('--query-l1 <w>', 'attention readout: L1 weight on the queries (default: train: the readout L1 weight; fit-readout: 0)', nonNegative('--query-l1'))
    .addOption(new Option('--readout-init <init>', 'attention readout: initial queries and feature weights (default: train: normal; fit-readout: constant)').choices(['normal', 'constant']))
    .option('--attention-entropy <w>', "attention readout: weight of the penalty on each neuron's attention entropy, which favours attention to a small part of the map (default 0)", nonNegative('--attention-entropy'))
    .option('--readout-l1 <w>', "L1 weight on the readout's feature weights, and on the attention readout's queries unless --query-l1 (default: the preset's, 1; Gaussian 3)", nonNegative('--readout-l1'))
    .option('--readout-dropout <p>', "attention readout: dropout rate of the core's map while training (default 0.1)", unitInterval('--readout-dropout'))
    .option('--position-scale <s>', "attention readout: amplitude of the position code added to the core's map (default 1; 0: none)", nonNegative('--position-scale'))
    .option('--key-dim <d>', "attention readout: dimension D of its keys, values, queries and feature weights (default: the preset's, demo 32, paper 128)", positiveInt('--key-dim'));
}

/** Overrides of the preset, recorded in model.json (docs/encoders.md, The ablation). */
function recipeFlags(c: Command): Command {
  return readoutFlags(c)
    .option('--channels <n>', "core channels (default: the preset's)", positiveInt('--channels'))
    .option('--layers <n>', "core layers, the input convolution included (default: the preset's)", positiveInt('--layers'))
    .option('--input-size <n>', "square input side in pixels (default: the preset's)", positiveInt('--input-size'))
    .addOption(new Option('--laplace-stencil <points>', "the Laplacian of the smoothness penalty: 5-point (the paper code's) or 9-point (default: the preset's, 9-point)").choices(['5', '9']))
    .option('--shift <pixels>', 'augmentation: training images shifted by up to this many pixels (default 0)', nonNegative('--shift'))
    .option('--bn-momentum <m>', "batch-norm running statistics momentum, PyTorch's convention (default 0.1)", fraction('--bn-momentum'))
    .addOption(new Option('--lr-schedule <schedule>', 'learning rate: plateau (decays when the validation loss stops improving; default) or cosine (from the initial rate down to 0 over --max-epochs)').choices([...LR_SCHEDULES]));
}

function recipeOf(o: RecipeFlags) {
  const overrides = {
    ...(o.channels ? { channels: o.channels } : {}),
    ...(o.layers ? { layers: o.layers } : {}),
    ...(o.inputSize ? { inputSize: o.inputSize } : {}),
    ...(o.laplaceStencil ? { laplaceStencil: Number(o.laplaceStencil) as 5 | 9 } : {}),
    ...(o.queryL1 !== undefined ? { queryL1: o.queryL1 } : {}),
    ...(o.readoutInit ? { readoutInit: o.readoutInit } : {}),
    ...(o.attentionEntropy ? { attentionEntropy: o.attentionEntropy } : {}),
    ...(o.readoutL1 !== undefined ? { readoutL1: o.readoutL1 } : {}),
    ...(o.readoutDropout !== undefined ? { readoutDropout: o.readoutDropout } : {}),
    ...(o.positionScale !== undefined ? { positionScale: o.positionScale } : {}),
    ...(o.keyDim ? { keyDim: o.keyDim } : {}),
  };
  return { ...(Object.keys(overrides).length ? { overrides } : {}), ...(o.bnMomentum !== undefined ? { momentum: o.bnMomentum } : {}), ...(o.shift ? { shift: Math.round(o.shift) } : {}), ...(o.lrSchedule ? { schedule: o.lrSchedule } : {}) };
}

function plateauOptions(o: { maxEpochs?: number; patience?: number }) {
  return { ...(o.maxEpochs ? { maxEpochs: o.maxEpochs } : {}), ...(o.patience ? { patience: o.patience } : {}) };
}

export function trainCommand(): Command {
  return recipeFlags(new Command('train'))
    .description('train encoders (shared core, one readout per session) on recordings in dataset folders')
    .requiredOption('--data <dir>', 'a dataset folder (images.zip + responses.npy); repeat for several sessions', collect)
    .addOption(new Option('--arch <arch>', 'readout (required unless --init)').choices(['attention', 'gaussian']))
    .requiredOption('--out <dir>', 'model folder to write (an ensemble folder when --members > 1)')
    .addOption(new Option('--preset <name>', 'architecture and input size (default demo)').choices(['demo', 'demo-alt', 'paper']))
    .option('--init <model>', "continue training this model or ensemble (fine-tuning): member i starts from its member i's weights, architecture, input and seed")
    .option('--images <A:B>', 'image columns to use (0-based, B exclusive; default all); 10% of them validate')
    .option('--seed <n>', 'seed of the first member (default 1; with --init, its members\' seeds)', positiveInt('--seed'))
    .option('--members <m>', 'ensemble members, seeds seed..seed+m-1 (default 1; with --init, its members)', positiveInt('--members'))
    .option('--max-epochs <n>', 'epoch limit (default 200)', positiveInt('--max-epochs'))
    .option('--patience <n>', 'epochs without improvement before a learning-rate decay (default 5)', positiveInt('--patience'))
    .option('--quiet', 'no progress output')
    .action(async (o: RecipeFlags & { data: string[]; arch?: 'attention' | 'gaussian'; out: string; preset?: PresetName; init?: string; images?: string; seed?: number; members?: number; maxEpochs?: number; patience?: number; quiet?: boolean }) => {
      if (!o.arch && !o.init) throw new Error("required option '--arch <arch>' not specified (or --init a trained model)");
      const progress = trainingProgress('train', o.quiet);
      const out = await trainModel({ ...o, ...recipeOf(o), plateau: plateauOptions(o), command: `excite ${process.argv.slice(2).join(' ')}`, ...progress });
      progress.stop();
      console.log(out);
    });
}

export function fitReadoutCommand(): Command {
  return readoutFlags(new Command('fit-readout'))
    .description('fit readouts for new sessions on a trained, frozen core (one per ensemble member)')
    .requiredOption('--core <dir>', 'a trained model or ensemble folder')
    .requiredOption('--data <dir>', 'a dataset folder; repeat for several sessions', collect)
    .requiredOption('--out <dir>', 'model folder to write')
    .option('--images <A:B>', 'image columns to fit on (0-based, B exclusive); 10% of them validate')
    .option('--seed <n>', 'seed of the first member', positiveInt('--seed'), 1)
    .option('--max-epochs <n>', 'epoch limit (default 200)', positiveInt('--max-epochs'))
    .option('--patience <n>', 'epochs without improvement before a learning-rate decay (default 5)', positiveInt('--patience'))
    .option('--quiet', 'no progress output')
    .action(async (o: RecipeFlags & { core: string; data: string[]; out: string; images?: string; seed: number; maxEpochs?: number; patience?: number; quiet?: boolean }) => {
      const progress = trainingProgress('fit-readout', o.quiet);
      const out = await fitReadouts({ ...o, ...recipeOf(o), plateau: plateauOptions(o), command: `excite ${process.argv.slice(2).join(' ')}`, ...progress });
      progress.stop();
      console.log(out);
    });
}

export function teacherDataCommand(): Command {
  return new Command('teacher-data')
    .description("write a dataset folder of a teacher model's predictions on augmented images, to distill it into a core with excite train")
    .requiredOption('--teacher <path>', 'any model: a compact model folder, an imported or trained model folder')
    .requiredOption('--data <dir>', 'a dataset folder whose images are used (not its responses); repeat for several', collect)
    .requiredOption('--out <dir>', 'dataset folder to write (images.zip, responses.npy, teacher.json)')
    .option('--views <n>', 'views per image: the image itself, then random crops and flips', positiveInt('--views'), 2)
    .option('--size <n>', 'side of the square images written (default: the first image\'s)', positiveInt('--size'))
    .option('--seed <n>', 'seed of the augmentation', positiveInt('--seed'), 1)
    .action(async (o: { teacher: string; data: string[]; out: string; views: number; size?: number; seed: number }) => {
      const result = await writeTeacherData(o);
      console.log(JSON.stringify({ out: o.out, ...result }));
    });
}
