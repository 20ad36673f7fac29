/**
 * The closed loop end to end against a real service (PGlite: closed-loop.test.ts, PostgreSQL:
 * closed-loop.postgres.test.ts), with a tiny compact model of session s1 (neurons 0, 1, 2) as the
 * brain: EGG, GA and natural top-k images for every neuron are synthesized and exported as for a
 * rig, "recorded" by `excite simulate-recording`'s code (the compact models with Poisson noise),
 * imported through the SDK as `excite responses import` does, and the API's recorded scores and
 * analysis are checked against the simulation's own numbers. Bad imports are refused with their
 * codes and write nothing.
 */
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { decodeNpy, fractionExplainableVariance, pearson, splitHalfReliability, wilcoxonSignedRank } from '@excite/engine';
import { type ExciteClient, createClient, isExciteError } from '@excite/sdk';
import { exportImages, importResponsesFromFiles, readStimulusCsv, responsesInput } from '@excite/sdk/node';
import { responsesCommand } from './cli/commands/responses.ts';
import { simulateRecordingCommand, simulateRecordingFiles } from './cli/commands/simulate-recording.ts';
import { writeImages, writeTinyCompact, writeTinyEnsemble, writeTinyPrior } from './testing/fixtures.ts';
import { type Backend, type TestService, folderFiles, startTestService, tempDir } from './testing/harness.ts';

const RECORDING_TABLES = ['recordings', 'recording_stimuli', 'recorded_responses'];
const REPEATS = 6;
const SCALE = 200;

const ANALYSIS = `query($id: ID!) { recording(id: $id) { id name session stimulusCount maxRepeats neurons { index }
  stimuli { stimulus natural image { id } dataset { id } datasetImage }
  analysis {
    perNeuron { neuron { index } method response images bestNatural bestNaturalStimulus relativeToNatural }
    methodPairs { a b neurons meanDifference medianDifference aWins bWins wPlus pValue exact effectSize }
    evaluators { evaluator { id name kind } r pairs medianNeuronR neurons }
    noiseCeiling { meanFev medianFev neurons { neuron { index } fev splitHalfR } }
  } } }`;

const mean = (v: readonly number[]) => v.reduce((a, b) => a + b, 0) / v.length;

export function closedLoopSuite(backend: Backend): void {
  describe(`the closed loop on ${backend}: export, simulate, import, analyze`, () => {
    let t: TestService;
    let client: ExciteClient;
    let folders: string;
    let csv: string;
    let responsesFile: string;
    let ratesFile: string;
    let datasetId: string;
    let compactId: string;

    const counts = () => Promise.all(RECORDING_TABLES.map((table) => t.count(table)));
    /** the call fails with `code` and leaves the recording tables as they were */
    async function refused(code: string, call: () => Promise<unknown>) {
      const before = await counts();
      const error = await call().then(
        () => null,
        (e: unknown) => e,
      );
      expect(isExciteError(error) ? error.code : error).toBe(code);
      expect(await counts()).toEqual(before);
      return error as Error;
    }

    beforeAll(async () => {
      folders = await tempDir('closed-loop');
      await Promise.all([
        writeTinyEnsemble(join(folders, 'tiny-ensemble')),
        writeTinyPrior(join(folders, 'tiny-prior')),
        writeTinyCompact(join(folders, 's1'), [0, 1, 2], 0.3),
        writeImages(join(folders, 'images'), 8),
      ]);
      t = await startTestService(backend, { limits: { maxUploadFileBytes: 4 << 20 } });
      client = createClient({ url: `${t.url}/graphql`, token: t.token, webSocketImpl: WebSocket });
      const ensemble = (await t.upload('/upload/model', await folderFiles(join(folders, 'tiny-ensemble'), 'tiny-ensemble'))).body.model.id;
      await t.upload('/upload/model', await folderFiles(join(folders, 'tiny-prior'), 'tiny-prior'));
      compactId = (await t.upload('/upload/model', await folderFiles(join(folders, 's1'), 's1'))).body.model.id;
      datasetId = (await t.upload('/upload/dataset', await folderFiles(join(folders, 'images')), { name: 'natural' })).body.dataset.id;

      // the night before: EGG, GA and the top natural images of every neuron, exported for the rig
      const neurons = [0, 1, 2].map((index) => ({ session: 's1', index }));
      const batch = await client.startRuns({ input: { generator: ensemble, methods: ['EGG', 'GA', 'TOP_K'], neurons, seeds: [0], dataset: datasetId, settings: { steps: 4, k: 2 } } });
      const runs = await client.followRuns(batch.runs.nodes);
      expect(runs.map((r) => r.status)).toEqual(runs.map(() => 'SUCCEEDED'));
      csv = (await exportImages(client, { batch: batch.id }, join(folders, 'stimuli'))).csv;

      // the rig: the compact models as the brain, Poisson repeats
      responsesFile = join(folders, 'day1.npy');
      ratesFile = join(folders, 'rates.npy');
      const simulated = await simulateRecordingFiles({ stimuli: csv, compact: [join(folders, 's1')], repeats: REPEATS, seed: 3, scale: SCALE, out: responsesFile, rates: ratesFile });
      expect(simulated).toMatchObject({ session: 's1', neurons: [0, 1, 2], stimuli: 3 * (1 + 1 + 2), repeats: REPEATS });
    });

    afterAll(async () => {
      await client?.close();
      await t?.stop();
      if (folders) await rm(folders, { recursive: true, force: true });
    });

    it('refuses bad imports with their codes and writes nothing', async () => {
      const good = await responsesInput({ stimuli: csv, responses: responsesFile });
      const send = (input: unknown) => client.importResponses({ input: input as typeof good });
      // a stimulus number that is not in the set (checked against images.csv before anything is sent)
      await refused('UNKNOWN_STIMULUS', () => responsesInput({ stimuli: csv, responses: responsesFile, shown: [...good.stimuli.slice(1).map((s) => s.stimulus), 999] }));
      // an image id the service does not store; a dataset column out of range
      await refused('UNKNOWN_STIMULUS', () => send({ ...good, stimuli: [...good.stimuli.slice(1), { ...good.stimuli[0], image: '00000000-0000-4000-8000-000000000000' }] }));
      await refused('UNKNOWN_STIMULUS', () => send({ ...good, stimuli: [...good.stimuli, { stimulus: 100, dataset: datasetId, datasetImage: 8, responses: good.stimuli[0].responses }] }));
      // two neurons' rows where the session has three
      await refused('NEURON_COUNT_MISMATCH', () => send({ ...good, stimuli: good.stimuli.map((s) => ({ ...s, responses: s.responses.slice(0, 2) })) }));
      // ... and one stimulus short of a row, even with the neurons named
      await refused('NEURON_COUNT_MISMATCH', () => send({ ...good, neurons: [0, 1, 2], stimuli: good.stimuli.map((s, i) => (i === 3 ? { ...s, responses: s.responses.slice(1) } : s)) }));
      // a neuron never recorded (NaN only), and a stimulus never shown
      await refused('EMPTY_RESPONSES', () => send({ ...good, stimuli: good.stimuli.map((s) => ({ ...s, responses: s.responses.map((r, n) => (n === 1 ? r.map(() => null) : r)) })) }));
      await refused('EMPTY_RESPONSES', () => send({ ...good, stimuli: good.stimuli.map((s, i) => (i === 0 ? { ...s, responses: s.responses.map((r) => r.map(() => null)) } : s)) }));
      // neurons the session does not have
      await refused('UNKNOWN_NEURON', () => send({ ...good, session: 's9' }));
      // a read token may not import
      const reader = createClient({ url: `${t.url}/graphql`, token: await t.createToken('read'), webSocketImpl: WebSocket });
      try {
        await refused('FORBIDDEN', () => reader.importResponses({ input: good }));
      } finally {
        await reader.close();
      }
      expect(await counts()).toEqual([0, 0, 0]);
    });

    it('imports the simulated recording: every image gets its recorded response, equal to the compact model within the noise', async () => {
      const recording = await importResponsesFromFiles(client, { stimuli: csv, responses: responsesFile, repeats: true });
      expect(recording).toMatchObject({ name: 'day1', session: 's1', stimulusCount: 12, maxRepeats: REPEATS, importedBy: expect.any(String) });
      expect(recording.neurons.map((n) => n.index)).toEqual([0, 1, 2]);
      expect(await counts()).toEqual([1, 12, 36]);
      // the same name again is refused, unless replaced
      await refused('RECORDING_EXISTS', () => importResponsesFromFiles(client, { stimuli: csv, responses: responsesFile }));

      const responses = decodeNpy(await readFile(responsesFile));
      const rates = decodeNpy(await readFile(ratesFile));
      const rows = await readStimulusCsv(csv);
      for (const [k, row] of rows.entries()) {
        const image = await client.image({ id: row.image });
        const n = row.neuron!;
        const samples = Array.from({ length: REPEATS }, (_, r) => responses.data[(n * rows.length + k) * REPEATS + r] as number);
        const sd = Math.sqrt(samples.reduce((s, v) => s + (v - mean(samples)) ** 2, 0) / (REPEATS - 1));
        expect(image!.recorded).toHaveLength(1);
        const recorded = image!.recorded[0];
        expect(recorded).toMatchObject({ recording: { id: recording.id, name: 'day1' }, stimulus: row.stimulus, repeats: REPEATS });
        expect(recorded.mean).toBeCloseTo(mean(samples), 5);
        expect(recorded.sem!).toBeCloseTo(sd / Math.sqrt(REPEATS), 5);
        // the service's compact score is the brain's rate, and the recording is that rate within its noise
        const compact = image!.scores.find((s) => s.evaluator.id === compactId)!.value;
        const rate = rates.data[n * rows.length + k] as number;
        expect(Math.abs(compact - rate)).toBeLessThan(1e-4 * Math.max(1, Math.abs(rate)));
        expect(Math.abs(recorded.mean - Math.max(rate, 0))).toBeLessThan(5 * Math.sqrt(Math.max(rate, 0.05) / (SCALE * REPEATS)) + 1e-6);
      }

      // images export carries the recorded response beside the scores
      const again = await exportImages(client, { batch: (await client.image({ id: rows[0].image }))!.run.batch.id }, join(folders, 'stimuli-after'));
      const [header, first] = (await readFile(again.csv, 'utf8')).split('\n').map((l) => l.split(','));
      expect(header.slice(-3)).toEqual(['recorded:day1', 'recorded_sem:day1', 'recorded_repeats:day1']);
      expect(Number(first.at(-1))).toBe(REPEATS);
    });

    it('answers the analysis the simulation implies: methods against natural images and each other, evaluators, noise ceilings', async () => {
      const { recordings } = await t.ok('{ recordings(session: "s1") { totalCount nodes { id name } } }');
      expect(recordings.totalCount).toBe(1);
      const { recording } = await t.ok(ANALYSIS, { id: recordings.nodes[0].id });
      const { analysis } = recording;
      expect(recording.stimuli.filter((s: { natural: boolean }) => s.natural)).toHaveLength(6);

      // expected numbers, from the files alone
      const responses = decodeNpy(await readFile(responsesFile));
      const rows = await readStimulusCsv(csv);
      const samples = (n: number, k: number) => Array.from({ length: REPEATS }, (_, r) => responses.data[(n * rows.length + k) * REPEATS + r] as number);
      const recorded = (n: number, k: number) => mean(samples(n, k));
      const expected = new Map<string, number>();
      for (const n of [0, 1, 2]) {
        const natural = rows.flatMap((r, k) => (r.kind === 'NATURAL' ? [recorded(n, k)] : []));
        const best = Math.max(...natural);
        for (const method of ['EGG', 'GA']) {
          const own = rows.flatMap((r, k) => (r.method === method && r.neuron === n ? [recorded(n, k)] : []));
          const row = analysis.perNeuron.find((p: any) => p.neuron.index === n && p.method === method);
          expect(row).toMatchObject({ images: 1 });
          expect(row.response).toBeCloseTo(mean(own), 6);
          expect(row.bestNatural).toBeCloseTo(best, 6);
          expect(row.relativeToNatural).toBeCloseTo(mean(own) / best, 6);
          expected.set(`${method}/${n}`, mean(own));
          expected.set(`natural/${n}`, best);
        }
      }
      expect(analysis.perNeuron.map((p: any) => `${p.neuron.index}${p.method}`)).toEqual(['0EGG', '0GA', '1EGG', '1GA', '2EGG', '2GA']);

      // EGG vs GA, and each against the best natural image, paired over the three neurons
      expect(analysis.methodPairs.map((p: any) => `${p.a}-${p.b}`)).toEqual(['EGG-GA', 'EGG-null', 'GA-null']);
      for (const pair of analysis.methodPairs) {
        const d = [0, 1, 2].map((n) => expected.get(`${pair.a}/${n}`)! - expected.get(`${pair.b ?? 'natural'}/${n}`)!);
        const test = wilcoxonSignedRank(d);
        expect(pair).toMatchObject({ neurons: 3, exact: true, aWins: d.filter((v) => v > 0).length, bWins: d.filter((v) => v < 0).length, wPlus: test.wPlus });
        expect(pair.meanDifference).toBeCloseTo(mean(d), 6);
        expect(pair.pValue).toBeCloseTo(test.pValue, 12);
        expect(pair.effectSize).toBeCloseTo(test.effectSize, 12);
      }

      // the compact model is the brain: it predicts the experiment best, as well as the noise allows
      const compact = analysis.evaluators.find((e: any) => e.evaluator.id === compactId);
      expect(compact.pairs).toBe(12);
      const images = await Promise.all(rows.map((r) => client.image({ id: r.image })));
      const predicted = images.map((i) => i!.scores.find((s) => s.evaluator.id === compactId)!.value);
      expect(compact.r).toBeCloseTo(pearson(predicted, rows.map((r, k) => recorded(r.neuron!, k)))!, 9);
      expect(compact.r).toBeGreaterThan(0.9);
      expect(analysis.evaluators[0].evaluator.id).toBe(compactId);

      // noise ceilings from the repeats of every stimulus
      for (const n of [0, 1, 2]) {
        const perStimulus = rows.map((_, k) => samples(n, k));
        const ceiling = analysis.noiseCeiling.neurons.find((c: any) => c.neuron.index === n);
        expect(ceiling.fev).toBeCloseTo(fractionExplainableVariance(perStimulus)!, 9);
        expect(ceiling.splitHalfR).toBeCloseTo(splitHalfReliability(perStimulus)!, 9);
      }
      expect(analysis.noiseCeiling.meanFev).toBeCloseTo(mean(analysis.noiseCeiling.neurons.map((c: any) => c.fev)), 9);
    });

    /** `excite <command> <args>` in this process: what it printed on stdout, or the error it ended with */
    async function excite(command: Command, ...args: string[]): Promise<string> {
      const out: string[] = [];
      vi.spyOn(console, 'log').mockImplementation((line: string) => void out.push(line));
      vi.spyOn(console, 'error').mockImplementation(() => undefined);
      try {
        await command.exitOverride().parseAsync(args, { from: 'user' });
      } finally {
        vi.restoreAllMocks();
      }
      return out.join('\n');
    }

    it('runs the same loop from the command line: simulate-recording, responses import (refusing with the code first), responses analysis', async () => {
      const connection = ['--url', `${t.url}/graphql`, '--token', t.token];
      const out = join(folders, 'day2.npy');
      const simulated = JSON.parse(await excite(simulateRecordingCommand(), '--stimuli', csv, '--compact', join(folders, 's1'), '--repeats', '3', '--seed', '9', '--scale', '50', '--out', out, '--json'));
      expect(simulated).toMatchObject({ out, session: 's1', neurons: [0, 1, 2], stimuli: 12, repeats: 3, scale: 50 });
      const before = await counts();
      await expect(excite(responsesCommand(), 'import', '--stimuli', csv, '--responses', out, '--shown', '1-11,99', ...connection)).rejects.toThrow(/^UNKNOWN_STIMULUS: stimulus 99 is not in/);
      await expect(excite(responsesCommand(), 'import', '--stimuli', csv, '--responses', out, '--neurons', '0,1', ...connection)).rejects.toThrow(/^NEURON_COUNT_MISMATCH: /);
      expect(await counts()).toEqual(before);
      const id = await excite(responsesCommand(), 'import', '--stimuli', csv, '--responses', out, '--repeats', ...connection);
      const analysis = JSON.parse(await excite(responsesCommand(), 'analysis', id, '--json', ...connection));
      expect(analysis).toMatchObject({ id, name: 'day2', session: 's1', maxRepeats: 3 });
      expect(analysis.analysis.methodPairs.map((p: { a: string; b: string | null }) => `${p.a}-${p.b}`)).toEqual(['EGG-GA', 'EGG-null', 'GA-null']);
      expect(await counts()).toEqual([before[0] + 1, before[1] + 12, before[2] + 36]);
    });

    it('replaces a recording explicitly, in one transaction', async () => {
      const before = await t.ok('{ recordings { nodes { id name } } }');
      const day1 = before.recordings.nodes.find((r: { name: string }) => r.name === 'day1').id;
      const counted = await counts();
      const replaced = await importResponsesFromFiles(client, { stimuli: csv, responses: responsesFile, replace: true });
      expect(replaced.id).not.toBe(day1);
      expect(await counts()).toEqual(counted);
      expect(await client.recording({ id: day1 })).toBeNull();
    });
  });
}
