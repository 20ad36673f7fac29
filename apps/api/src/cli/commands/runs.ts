/**
 * `excite runs start|list|watch`: runs on a running service, through the SDK. `start` queues
 * methods x neurons x seeds of a generator and follows them to their end (a bar per run on a
 * terminal); the batch id is what it prints on stdout.
 */
import { Command } from 'commander';
import { parseNeurons } from '@excite/engine';
import { type ExciteClient, type GaOptimizer, Method, type NeuronInput, type Run, type RunDetails, type RunStatus, RunStatus as RUN_STATUSES, type SynthesisSettingsInput } from '@excite/sdk';
import { type ConnectionOptions, byIdOrName, clientCommand, integerList, withClient } from './client.ts';
import { addSettingOptions, settingsOf } from '../method-options.ts';
import { finishedLine, progressView, runLabel } from './run-progress.ts';
import { nonNegativeInt } from '../number-options.ts';

const METHODS = Object.values(Method);

/** `egg,ga,egg-x0` -> ['EGG', 'GA', 'EGG_X0'] */
function methodList(spec: string): Method[] {
  return spec.split(',').map((m) => {
    const name = m.trim().toUpperCase().replace(/-/g, '_');
    if (!(METHODS as string[]).includes(name)) throw new Error(`--methods: "${m}" is none of ${METHODS.map((x) => x.toLowerCase()).join(', ')}`);
    return name as Method;
  });
}

/** The generator's neurons in output-column order (what a bare `0-9` counts). */
async function neuronsOf(client: ExciteClient, id: string): Promise<{ session: string; neuron: number }[]> {
  const out: { session: string; neuron: number }[] = [];
  let after: string | null | undefined = null;
  for (;;) {
    const encoder = await client.encoder({ id, neuronsFirst: 500, neuronsAfter: after });
    if (!encoder) throw new Error(`no encoder with id ${id}`);
    out.push(...encoder.neurons.nodes.map((n) => ({ session: n.session, neuron: n.index })));
    if (!encoder.neurons.pageInfo.hasNextPage) return out;
    after = encoder.neurons.pageInfo.endCursor;
  }
}

/** Follows runs with the progress view; exit status 1 when one failed or was cancelled. */
async function follow(client: ExciteClient, runs: readonly Run[], o: { json?: boolean; quiet?: boolean }): Promise<RunDetails[]> {
  const view = progressView({ quiet: o.quiet || o.json });
  let final: RunDetails[];
  try {
    final = await client.followRuns(runs, view);
  } finally {
    view.stop();
  }
  const unfinished = final.filter((r) => r.status !== 'SUCCEEDED');
  if (unfinished.length) {
    console.error(`excite: ${unfinished.length} of ${final.length} runs did not succeed`);
    process.exitCode = 1;
  }
  return final;
}

const summary = (r: RunDetails) => ({ id: r.id, method: r.method, neuron: r.neuron, targetImage: r.targetImage, seed: r.seed, status: r.status, error: r.error, activation: r.progress.activation, seconds: r.seconds, images: r.images.length });

interface StartOptions extends ConnectionOptions {
  generator: string;
  methods: Method[];
  neurons?: string;
  targets?: number[];
  seeds?: number[];
  prior?: string;
  dataset?: string;
  label?: string;
  detach?: boolean;
  json?: boolean;
  quiet?: boolean;
}

function startCommand() {
  return addSettingOptions(clientCommand('start'))
    .description('queue methods x neurons x seeds of a generator and follow them (prints the batch id; exit status 1 if a run fails)')
    .requiredOption('--generator <model>', 'the encoder or ensemble: its id or its name')
    .requiredOption('--methods <list>', `methods, e.g. egg,ga (${METHODS.map((m) => m.toLowerCase().replace(/_/g, '-')).join(', ')})`, methodList)
    .option('--neurons <spec>', 'neurons: SESSION:A-B,... (e.g. 201025:0-9) or columns of the generator (0-9)')
    .option('--targets <list>', 'reconstruction: dataset images to reconstruct, e.g. 0-4', (v) => integerList(v, '--targets'))
    .option('--seeds <list>', 'one run per seed, e.g. 0,1 or 0-3 (default 0)', (v) => integerList(v, '--seeds'))
    .option('--prior <model>', 'the diffusion prior (id or name; default: the only registered one)')
    .option('--dataset <dataset>', 'images of top-k and reconstruction (id or name)')
    .option('--label <text>', 'a label for the batch')
    .option('--detach', 'print the batch id and return at once')
    .option('--json', 'print one JSON document when the runs end: {"batch", "runs": [...]}')
    .option('--quiet', 'no progress on stderr')
    .action((o: StartOptions) =>
      withClient(o, async (client) => {
        const generator = await byIdOrName(o.generator, 'encoder', () => client.paginate('encoders', { filter: { name: o.generator } }));
        let neurons: NeuronInput[] | undefined;
        if (o.neurons) {
          const spec = o.neurons;
          // SESSION:A-B needs no look-up; bare columns do, and the model's list names what is missing either way
          neurons = parseNeurons(spec, await neuronsOf(client, generator)).map((c) => ({ session: c.neuron.session, index: c.neuron.neuron }));
        }
        // the engine's values as the schema's enums name them (adamw: ADAMW)
        const given = settingsOf(o as unknown as Record<string, unknown>);
        const settings: SynthesisSettingsInput = { ...given, optimizer: given.optimizer?.toUpperCase() as GaOptimizer | undefined };
        const batch = await client.startRuns({
          input: {
            generator,
            methods: o.methods,
            neurons,
            targetImages: o.targets,
            seeds: o.seeds,
            prior: o.prior ? await byIdOrName(o.prior, 'prior', () => client.paginate('priors')) : undefined,
            dataset: o.dataset ? await byIdOrName(o.dataset, 'dataset', () => client.paginate('datasets')) : undefined,
            settings: Object.values(settings).some((v) => v !== undefined) ? settings : undefined,
            label: o.label,
          },
        });
        if (!o.json) console.log(batch.id);
        if (!o.quiet && !o.json) console.error(`excite: batch ${batch.id}: ${batch.runCount} runs queued`);
        if (o.detach) {
          if (o.json) console.log(JSON.stringify({ batch: batch.id, runs: batch.runs.nodes.map((r) => ({ id: r.id, method: r.method, neuron: r.neuron, targetImage: r.targetImage, seed: r.seed, status: r.status })) }));
          return;
        }
        // the first page came with the batch; the rest (over 500 runs) is paged
        const runs = [...batch.runs.nodes];
        if (batch.runs.pageInfo.hasNextPage) {
          const known = new Set(runs.map((r) => r.id));
          for await (const run of client.paginate('runs', { filter: { batch: batch.id }, order: 'OLDEST_FIRST' }, { pageSize: 500 })) if (!known.has(run.id)) runs.push(run);
        }
        const final = await follow(client, runs, o);
        if (o.json) console.log(JSON.stringify({ batch: batch.id, runs: final.map(summary) }));
      }),
    );
}

interface ListOptions extends ConnectionOptions {
  batch?: string;
  status?: RunStatus[];
  method?: Method[];
  generator?: string;
  first: number;
  json?: boolean;
}

function listCommand() {
  const statuses = Object.values(RUN_STATUSES);
  return clientCommand('list')
    .description('runs, oldest first: id, batch, method, neuron, seed, status, step, activation')
    .option('--batch <id>', 'the runs of one batch')
    .option('--status <list>', `only these statuses (${statuses.join(',').toLowerCase()})`, (v) =>
      v.split(',').map((s) => {
        const status = s.trim().toUpperCase();
        if (!(statuses as string[]).includes(status)) throw new Error(`--status: "${s}" is none of ${statuses.join(', ').toLowerCase()}`);
        return status as RunStatus;
      }),
    )
    .option('--method <list>', 'only these methods, e.g. egg,ga', methodList)
    .option('--generator <model>', 'only runs of this generator (id or name)')
    .option('--first <n>', 'at most this many (default 100; 0: all)', nonNegativeInt('--first'), 100)
    .option('--json', 'print {"runs": [...]}')
    .action((o: ListOptions) =>
      withClient(o, async (client) => {
        const generator = o.generator ? await byIdOrName(o.generator, 'encoder', () => client.paginate('encoders', { filter: { name: o.generator } })) : undefined;
        const filter = { batch: o.batch, status: o.status, method: o.method, generator };
        const runs: Run[] = [];
        for await (const run of client.paginate('runs', { filter, order: 'OLDEST_FIRST' }, { pageSize: o.first && o.first < 500 ? o.first : 500 })) {
          runs.push(run);
          if (o.first && runs.length >= o.first) break;
        }
        if (o.json) return console.log(JSON.stringify({ runs }));
        for (const r of runs) {
          const step = `${r.progress.step}/${r.progress.steps}`;
          console.log([r.id, r.batch.id, runLabel(r).padEnd(28), r.status.padEnd(9), step.padStart(9), r.progress.activation === null ? '-' : r.progress.activation.toFixed(3)].join('  '));
        }
      }),
    );
}

function watchCommand() {
  return clientCommand('watch')
    .description('follow a batch’s runs (or one run) until they end; exit status 1 if one failed or was cancelled')
    .argument('<id>', 'a batch id or a run id')
    .option('--json', 'print {"runs": [...]} when they end')
    .option('--quiet', 'no progress on stderr')
    .action((id: string, o: ConnectionOptions & { json?: boolean; quiet?: boolean }) =>
      withClient(o, async (client) => {
        const runs = await runsOf(client, id);
        const final = await follow(client, runs, o);
        if (o.json) console.log(JSON.stringify({ runs: final.map(summary) }));
        else if (o.quiet) for (const r of final) console.log(finishedLine(r));
      }),
    );
}

/** The runs of a batch id, or the one run of a run id. */
export async function runsOf(client: ExciteClient, id: string): Promise<Run[]> {
  const batch = await client.batch({ id, runsFirst: 500 });
  if (batch) {
    if (!batch.runs.pageInfo.hasNextPage) return batch.runs.nodes;
    const runs: Run[] = [];
    for await (const run of client.paginate('runs', { filter: { batch: id }, order: 'OLDEST_FIRST' }, { pageSize: 500 })) runs.push(run);
    return runs;
  }
  const run = await client.run({ id });
  if (!run) throw new Error(`NOT_FOUND: no batch or run with id "${id}"`);
  return [run];
}

export function runsCommand() {
  return new Command('runs')
    .description('start, list and follow runs on a running service (--url, --token or EXCITE_URL, EXCITE_TOKEN)')
    .addCommand(startCommand())
    .addCommand(listCommand())
    .addCommand(watchCommand());
}
