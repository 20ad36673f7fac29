/**
 * `excite responses import` and `excite responses analysis`: recorded responses to an exported
 * stimulus set into the service (importResponses), and the morning-after statistics
 * (Recording.analysis) as a table or JSON.
 */
import { Command } from 'commander';
import { importResponsesFromFiles } from '@excite/sdk/node';
import { type ConnectionOptions, clientCommand, integerList, withClient } from './client.ts';

interface ImportOptions extends ConnectionOptions {
  stimuli: string;
  responses: string;
  repeats?: boolean;
  session?: string;
  name?: string;
  neurons?: string;
  shown?: string;
  natural?: string;
  replace?: boolean;
  json?: boolean;
}

function importCommand() {
  return clientCommand('import')
    .description('imports a rig’s responses to an exported stimulus set ([neurons, stimuli] or [neurons, stimuli, repeats] .npy, NaN for a missing repeat); prints the recording’s id')
    .requiredOption('--stimuli <images.csv>', 'the images.csv of `excite images export`: column k of the responses is its k-th stimulus')
    .requiredOption('--responses <file.npy>', 'float32 or float64 responses: rows are neurons, columns stimuli, then repeats')
    .option('--repeats', 'the file must be [neurons, stimuli, repeats] (a three-axis file is read so anyway)')
    .option('--session <S>', 'the recorded session (default: the session of images.csv)')
    .option('--name <N>', 'the recording’s name, unique in the session (default: the responses file’s name)')
    .option('--neurons <list>', 'the session’s neuron indices of the rows, e.g. 0-88 or 1,2 (default: every neuron the service knows of the session)')
    .option('--shown <list>', 'the stimulus numbers of the columns, in order (default: every stimulus of images.csv, in order)')
    .option('--natural <dataset:columns>', 'natural references after the stimuli: an uploaded image set’s id and columns, e.g. <id>:0-49')
    .option('--replace', 'replace the session’s recording of the same name')
    .option('--json', 'print {"id", "name", "session", "stimulusCount", "maxRepeats", "neurons"}')
    .action((o: ImportOptions) =>
      withClient(o, async (client) => {
        let natural: { dataset: string; columns: number[] } | undefined;
        if (o.natural) {
          const at = o.natural.lastIndexOf(':');
          if (at < 1) throw new Error(`--natural: "${o.natural}" is not DATASET:COLUMNS`);
          natural = { dataset: o.natural.slice(0, at), columns: integerList(o.natural.slice(at + 1), '--natural') };
        }
        const recording = await importResponsesFromFiles(client, {
          stimuli: o.stimuli,
          responses: o.responses,
          repeats: o.repeats,
          session: o.session,
          name: o.name,
          neurons: o.neurons ? integerList(o.neurons, '--neurons') : undefined,
          shown: o.shown ? integerList(o.shown, '--shown') : undefined,
          natural,
          replace: o.replace,
        });
        if (o.json) console.log(JSON.stringify({ id: recording.id, name: recording.name, session: recording.session, stimulusCount: recording.stimulusCount, maxRepeats: recording.maxRepeats, neurons: recording.neurons.map((n) => n.index) }));
        else {
          console.error(`excite: recording "${recording.name}" of session ${recording.session}: ${recording.neurons.length} neurons x ${recording.stimulusCount} stimuli, up to ${recording.maxRepeats} repeats`);
          console.log(recording.id);
        }
      }),
    );
}

const fmt = (v: number | null | undefined, digits = 3) => (v === null || v === undefined ? '-' : v.toFixed(digits));

function analysisCommand() {
  return clientCommand('analysis')
    .description('the closed-loop statistics of a recording: methods against each other and the best natural image, evaluators against the recording, noise ceilings')
    .argument('<id>', 'a recording id')
    .option('--json', 'print the recording with its analysis (the SDK’s Recording query)')
    .action((id: string, o: ConnectionOptions & { json?: boolean }) =>
      withClient(o, async (client) => {
        const recording = await client.recording({ id });
        if (!recording) throw new Error(`NOT_FOUND: no recording with id "${id}"`);
        if (o.json) return console.log(JSON.stringify(recording));
        const { analysis } = recording;
        console.log(`recording "${recording.name}" of session ${recording.session}: ${recording.neurons.length} neurons, ${recording.stimulusCount} stimuli, up to ${recording.maxRepeats} repeats`);
        console.log('\npaired over neurons (Wilcoxon signed-rank; effect: rank-biserial r)');
        for (const p of analysis.methodPairs) {
          console.log(`  ${p.a} vs ${p.b ?? 'best natural'}: n ${p.neurons}, median difference ${fmt(p.medianDifference)}, ${p.aWins}:${p.bWins} neurons, p ${p.pValue.toPrecision(3)}${p.exact ? ' (exact)' : ''}, effect ${fmt(p.effectSize, 2)}`);
        }
        console.log('\nevaluators against the recording (Pearson r of predicted and recorded means)');
        for (const e of analysis.evaluators) console.log(`  ${e.evaluator.name}: r ${fmt(e.r)} over ${e.pairs} stimuli; median per-neuron r ${fmt(e.medianNeuronR)} (${e.neurons} neurons)`);
        console.log(`\nnoise ceiling: mean FEV ${fmt(analysis.noiseCeiling.meanFev)}, median ${fmt(analysis.noiseCeiling.medianFev)}`);
      }),
    );
}

export function responsesCommand() {
  return new Command('responses').description('recorded responses to exported stimuli on a running service (the closed loop)').addCommand(importCommand()).addCommand(analysisCommand());
}
