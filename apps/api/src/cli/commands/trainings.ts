/**
 * `excite trainings start|list|watch`: trainings on a running service, through the SDK. `start`
 * queues one and follows it to its end (on a terminal a bar over the epoch's batches, a line per
 * epoch); the training id is what it prints on stdout. The exit status is 1 unless it succeeded.
 */
import cliProgress from 'cli-progress';
import { Command, Option } from 'commander';
import { type ExciteClient, type RunStatus, RunStatus as RUN_STATUSES, type TrainingFieldsFragment, type TrainingKind, TrainingKind as TRAINING_KINDS, type TrainingProgressEventFieldsFragment, type TrainingQuery } from '@excite/sdk';
import { type ConnectionOptions, byIdOrName, clientCommand, withClient } from './client.ts';
import { finiteNumber, integer, nonNegativeInt } from '../number-options.ts';

type TrainingDetails = NonNullable<TrainingQuery['training']>;

const fixed = (v: number | null | undefined, digits = 3) => (v === null || v === undefined ? '-' : v.toFixed(digits));

function oneOf<T extends string>(name: string, values: readonly T[]) {
  return (v: string): T => {
    const upper = v.trim().toUpperCase();
    if (!(values as readonly string[]).includes(upper)) throw new Error(`${name}: "${v}" is none of ${values.join(', ').toLowerCase()}`);
    return upper as T;
  };
}

function listOf<T extends string>(name: string, values: readonly T[]) {
  return (v: string): T[] => v.split(',').map(oneOf(name, values));
}

/** `id kind name: STATUS, member m/n, epoch e/max, best val loss, r, model` */
export function trainingLine(t: TrainingFieldsFragment): string {
  const where = t.members > 1 ? `member ${t.member + 1}/${t.members}, ` : '';
  const error = t.error ? `: ${t.error.code} ${t.error.message}` : '';
  const model = t.model ? `, model ${t.model.id}` : '';
  return `${t.id} ${t.kind.toLowerCase()} ${t.name}: ${t.status}${error}, ${where}epoch ${t.epoch}/${t.maxEpochs}, best val loss ${fixed(t.bestValLoss)}, median r ${fixed(t.bestValCorrelation)}${model}`;
}

const epochLine = (e: TrainingProgressEventFieldsFragment, members: number) =>
  `${members > 1 ? `member ${e.member + 1} ` : ''}epoch ${e.epoch}: train loss ${fixed(e.loss)}, val loss ${fixed(e.valLoss)}, median r ${fixed(e.valCorrelation)}, lr ${e.lr?.toExponential(1) ?? '-'}`;

/**
 * Follows a training's events to its end: on a terminal a bar over the current epoch's batches and
 * a line per epoch, elsewhere the lines only; then the training with its history.
 */
export async function followTraining(client: ExciteClient, id: string, o: { quiet?: boolean; stream?: NodeJS.WriteStream } = {}): Promise<TrainingDetails> {
  const first = await client.training({ id });
  if (!first) throw new Error(`NOT_FOUND: no training with id "${id}"`);
  const stream = o.stream ?? process.stderr;
  const tty = Boolean(stream.isTTY) && !o.quiet;
  const bar = tty ? new cliProgress.SingleBar({ format: '{label} |{bar}| {value}/{total} batches | loss {loss}', hideCursor: true, clearOnComplete: true, stream }, cliProgress.Presets.shades_classic) : undefined;
  let barEpoch = '';
  try {
    for await (const e of client.trainingProgress({ training: id })) {
      if (o.quiet) continue;
      if (e.kind === 'BATCH') {
        const key = `${e.attempt}:${e.member}:${e.epoch}`;
        const payload = { label: `${first.members > 1 ? `member ${e.member + 1}/${first.members} ` : ''}epoch ${e.epoch}/${first.maxEpochs}`, loss: fixed(e.loss) };
        if (!bar) continue;
        if (key !== barEpoch) {
          if (barEpoch) bar.stop();
          bar.start(e.batches ?? 0, e.batch ?? 0, payload);
          barEpoch = key;
        } else bar.update(e.batch ?? 0, payload);
      } else if (e.kind === 'EPOCH') {
        if (bar && barEpoch) {
          bar.stop();
          barEpoch = '';
        }
        stream.write(`${epochLine(e, first.members)}\n`);
      } else if (e.status === 'QUEUED' && e.attempt > 0) stream.write(`excite: training ${id} lost its worker: queued again, to resume from its checkpoint\n`);
    }
  } finally {
    if (barEpoch) bar?.stop();
  }
  const final = await client.training({ id });
  if (!final) throw new Error(`NOT_FOUND: no training with id "${id}"`);
  return final;
}

function report(final: TrainingDetails, o: { json?: boolean; quiet?: boolean }): void {
  if (o.json) console.log(JSON.stringify({ training: final }));
  else if (!o.quiet) console.error(trainingLine(final));
  if (final.status !== 'SUCCEEDED') process.exitCode = 1;
}

interface StartOptions extends ConnectionOptions {
  kind: TrainingKind;
  data: string;
  arch?: 'ATTENTION' | 'GAUSSIAN';
  preset?: string;
  core?: string;
  images?: string;
  valFraction?: number;
  members?: number;
  seed?: number;
  name?: string;
  maxEpochs?: number;
  lr?: number;
  batchSize?: number;
  patience?: number;
  decayFactor?: number;
  maxDecays?: number;
  minLr?: number;
  detach?: boolean;
  json?: boolean;
  quiet?: boolean;
}

function startCommand() {
  const kinds = Object.values(TRAINING_KINDS);
  return clientCommand('start')
    .description('queue a training on uploaded recordings and follow it (prints the training id; exit status 1 unless it succeeds)')
    .addOption(new Option('--kind <kind>', 'encoder (a core and readouts) or readout (new readouts on a trained core)').argParser(oneOf('--kind', kinds)).default('ENCODER'))
    .requiredOption('--data <list>', 'recordings (datasets with responses), ids or names, comma-separated: one session each, named by the dataset')
    .addOption(new Option('--arch <readout>', 'encoder: attention (default) or gaussian').argParser(oneOf('--arch', ['ATTENTION', 'GAUSSIAN'] as const)))
    .option('--preset <name>', 'encoder: demo (default), demo-alt or paper, as excite train --preset')
    .option('--core <model>', 'readout: the trained encoder or ensemble whose core is kept (id or name)')
    .option('--images <A:B>', 'image columns of every dataset (default all)')
    .option('--val-fraction <f>', 'images held out for validation, 0.05 to 0.5 (default 0.1)', finiteNumber('--val-fraction'))
    .option('--members <n>', 'encoder: an ensemble of n members, seeds seed..seed+n-1 (1 to 8, default 1)', integer('--members'))
    .option('--seed <n>', 'default 1', integer('--seed'))
    .option('--name <name>', 'the model’s name (default: the kind and the datasets)')
    .option('--max-epochs <n>', 'per member, 1 to 1000 (default 200; plateaus stop sooner)', integer('--max-epochs'))
    .option('--lr <x>', 'AdamW learning rate (default 0.003)', finiteNumber('--lr'))
    .option('--batch-size <n>', 'default 64', integer('--batch-size'))
    .option('--patience <n>', 'epochs without improvement before a decay (default 5)', integer('--patience'))
    .option('--decay-factor <x>', 'learning-rate factor of a decay (default 0.3)', finiteNumber('--decay-factor'))
    .option('--max-decays <n>', 'decays before training stops (default 5)', integer('--max-decays'))
    .option('--min-lr <x>', 'training stops below this learning rate (default 1e-4)', finiteNumber('--min-lr'))
    .option('--detach', 'print the training id and return at once')
    .option('--json', 'print {"training": {...}} when it ends (with --detach: at once)')
    .option('--quiet', 'no progress on stderr')
    .action((o: StartOptions) =>
      withClient(o, async (client) => {
        const datasets: string[] = [];
        for (const d of o.data.split(',').map((s) => s.trim()).filter(Boolean)) datasets.push(await byIdOrName(d, 'dataset', () => client.paginate('datasets')));
        const core = o.core ? await byIdOrName(o.core, 'encoder', () => client.paginate('encoders', { filter: { name: o.core } })) : undefined;
        const settings = { lr: o.lr, batchSize: o.batchSize, patience: o.patience, decayFactor: o.decayFactor, maxDecays: o.maxDecays, minLr: o.minLr };
        const images = { range: o.images, validationFraction: o.valFraction };
        const training = await client.startTraining({
          input: {
            kind: o.kind,
            datasets,
            architecture: o.arch,
            preset: o.preset,
            core,
            images: Object.values(images).some((v) => v !== undefined) ? images : undefined,
            members: o.members,
            seed: o.seed,
            name: o.name,
            maxEpochs: o.maxEpochs,
            settings: Object.values(settings).some((v) => v !== undefined) ? settings : undefined,
          },
        });
        if (!o.json) console.log(training.id);
        if (o.detach) {
          if (o.json) console.log(JSON.stringify({ training }));
          return;
        }
        if (!o.quiet && !o.json) console.error(`excite: training ${training.id} queued: ${training.name}`);
        report(await followTraining(client, training.id, { quiet: o.quiet || o.json }), o);
      }),
    );
}

interface ListOptions extends ConnectionOptions {
  status?: RunStatus[];
  kind?: TrainingKind[];
  first: number;
  json?: boolean;
}

function listCommand() {
  const statuses = Object.values(RUN_STATUSES);
  return clientCommand('list')
    .description('trainings, oldest first: id, kind, name, status, epoch, best validation loss and median r, model')
    .option('--status <list>', `only these statuses (${statuses.join(',').toLowerCase()})`, listOf('--status', statuses))
    .option('--kind <list>', 'only these kinds (encoder,readout)', listOf('--kind', Object.values(TRAINING_KINDS)))
    .option('--first <n>', 'at most this many (default 100; 0: all)', nonNegativeInt('--first'), 100)
    .option('--json', 'print {"trainings": [...]}')
    .action((o: ListOptions) =>
      withClient(o, async (client) => {
        const trainings: TrainingFieldsFragment[] = [];
        for await (const t of client.paginate('trainings', { filter: { status: o.status, kind: o.kind }, order: 'OLDEST_FIRST' }, { pageSize: o.first && o.first < 500 ? o.first : 500 })) {
          trainings.push(t);
          if (o.first && trainings.length >= o.first) break;
        }
        if (o.json) return console.log(JSON.stringify({ trainings }));
        for (const t of trainings) console.log(trainingLine(t));
      }),
    );
}

function watchCommand() {
  return clientCommand('watch')
    .description('follow a training until it ends (batches replayed first); exit status 1 unless it succeeded')
    .argument('<id>', 'a training id')
    .option('--json', 'print {"training": {...}} when it ends')
    .option('--quiet', 'no progress on stderr')
    .action((id: string, o: ConnectionOptions & { json?: boolean; quiet?: boolean }) =>
      withClient(o, async (client) => {
        const final = await followTraining(client, id, { quiet: o.quiet || o.json });
        console.log(o.json ? JSON.stringify({ training: final }) : trainingLine(final));
        if (final.status !== 'SUCCEEDED') process.exitCode = 1;
      }),
    );
}

export function trainingsCommand() {
  return new Command('trainings')
    .description('start, list and follow trainings of encoders on uploaded recordings (--url, --token or EXCITE_URL, EXCITE_TOKEN)')
    .addCommand(startCommand())
    .addCommand(listCommand())
    .addCommand(watchCommand());
}
