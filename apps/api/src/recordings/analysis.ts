/**
 * The closed-loop statistics of a recording (Recording.analysis), computed from its stored
 * responses when asked (the statistics themselves live in the engine: evaluate/closed-loop.ts):
 *
 * - per neuron and method: the mean recorded response to the method's images made for that neuron,
 *   against the neuron's largest recorded response to any natural reference of the recording
 *   (TOP_K images and dataset columns shown in the same session);
 * - per pair of methods, and per method against the best natural image: a Wilcoxon signed-rank
 *   test over the neurons with both, with the rank-biserial effect size;
 * - per evaluator: Pearson r of its predictions (the scores stored with each image, for the neuron
 *   it was made for) against the recorded means, pooled and per neuron;
 * - per neuron: FEV and split-half reliability from the repeats.
 */
import { and, eq, inArray } from 'drizzle-orm';
import { fractionExplainableVariance, median, pearson, splitHalfReliability, wilcoxonSignedRank } from '@excite/engine';
import type { Db } from '../db/database.ts';
import { type Method, images, recordedResponses, recordingStimuli, runs, scores } from '../db/schema.ts';
import type { RecordingRow } from './import.ts';

export interface NeuronMethodParent {
  neuronId: string;
  method: Method;
  response: number;
  images: number;
  bestNatural: number | null;
  bestNaturalStimulus: number | null;
  relativeToNatural: number | null;
}

export interface MethodPairParent {
  a: Method;
  b: Method | null;
  neurons: number;
  meanDifference: number;
  medianDifference: number;
  aWins: number;
  bWins: number;
  wPlus: number;
  pValue: number;
  exact: boolean;
  effectSize: number;
}

export interface EvaluatorAgreementParent {
  evaluatorId: string;
  r: number | null;
  pairs: number;
  medianNeuronR: number | null;
  neurons: number;
}

export interface NeuronCeilingParent {
  neuronId: string;
  fev: number | null;
  splitHalfR: number | null;
}

export interface NoiseCeilingParent {
  meanFev: number | null;
  medianFev: number | null;
  neurons: NeuronCeilingParent[];
}

export interface RecordingAnalysisResult {
  perNeuron: NeuronMethodParent[];
  methodPairs: MethodPairParent[];
  evaluators: EvaluatorAgreementParent[];
  noiseCeiling: NoiseCeilingParent;
}

/** The order methods are listed and paired in: EGG first, so that "EGG vs GA" reads a = EGG. */
const METHOD_ORDER: readonly Method[] = ['egg', 'egg-x0', 'ga', 'meni', 'diverse', 'recon', 'topk'];
const order = (m: Method) => {
  const i = METHOD_ORDER.indexOf(m);
  return i < 0 ? METHOD_ORDER.length : i;
};

const average = (v: readonly number[]) => v.reduce((a, b) => a + b, 0) / v.length;

function pairTest(a: Method, b: Method | null, pairs: readonly (readonly [number, number])[]): MethodPairParent {
  const d = pairs.map(([x, y]) => x - y);
  const t = wilcoxonSignedRank(d);
  return {
    a,
    b,
    neurons: d.length,
    meanDifference: average(d),
    medianDifference: median(d),
    aWins: d.filter((v) => v > 0).length,
    bWins: d.filter((v) => v < 0).length,
    wPlus: t.wPlus,
    pValue: t.pValue,
    exact: t.exact,
    effectSize: t.effectSize,
  };
}

export async function analyzeRecording(db: Db, recording: RecordingRow, neuronIds: readonly string[]): Promise<RecordingAnalysisResult> {
  const stimuli = await db
    .select({ stimulus: recordingStimuli.stimulus, imageId: recordingStimuli.imageId, datasetId: recordingStimuli.datasetId, kind: images.kind, neuronId: images.neuronId, method: runs.method })
    .from(recordingStimuli)
    .leftJoin(images, eq(images.id, recordingStimuli.imageId))
    .leftJoin(runs, eq(runs.id, images.runId))
    .where(eq(recordingStimuli.recordingId, recording.id));
  const responses = await db
    .select({ stimulus: recordedResponses.stimulus, neuronId: recordedResponses.neuronId, mean: recordedResponses.mean, samples: recordedResponses.samples })
    .from(recordedResponses)
    .where(eq(recordedResponses.recordingId, recording.id));
  const imageIds = stimuli.flatMap((s) => (s.imageId ? [s.imageId] : []));
  const scoreRows = imageIds.length ? await db.select().from(scores).where(and(inArray(scores.imageId, imageIds))) : [];

  const recorded = new Map(responses.map((r) => [`${r.stimulus}/${r.neuronId}`, r]));
  const natural = stimuli.filter((s) => s.datasetId !== null || s.kind === 'natural');
  const shownMeis = stimuli.filter((s) => s.imageId !== null && s.kind !== 'natural' && s.neuronId !== null && s.method !== null);

  // per neuron and method
  const perNeuron: NeuronMethodParent[] = [];
  const byNeuronMethod = new Map<string, Map<Method, number>>();
  const best = new Map<string, { value: number; stimulus: number }>();
  for (const neuronId of neuronIds) {
    let top: { value: number; stimulus: number } | null = null;
    for (const s of natural) {
      const r = recorded.get(`${s.stimulus}/${neuronId}`);
      if (r && (top === null || r.mean > top.value)) top = { value: r.mean, stimulus: s.stimulus };
    }
    if (top) best.set(neuronId, top);
    const methods = new Map<Method, number[]>();
    for (const s of shownMeis) {
      if (s.neuronId !== neuronId) continue;
      const r = recorded.get(`${s.stimulus}/${neuronId}`);
      if (!r) continue;
      const list = methods.get(s.method!) ?? [];
      list.push(r.mean);
      methods.set(s.method!, list);
    }
    const means = new Map<Method, number>();
    for (const [method, values] of [...methods].sort((x, y) => order(x[0]) - order(y[0]) || x[0].localeCompare(y[0]))) {
      const response = average(values);
      means.set(method, response);
      perNeuron.push({
        neuronId,
        method,
        response,
        images: values.length,
        bestNatural: top?.value ?? null,
        bestNaturalStimulus: top?.stimulus ?? null,
        relativeToNatural: top && top.value > 0 ? response / top.value : null,
      });
    }
    byNeuronMethod.set(neuronId, means);
  }

  // paired tests across neurons
  const methods = [...new Set(perNeuron.map((p) => p.method))].sort((x, y) => order(x) - order(y) || x.localeCompare(y));
  const methodPairs: MethodPairParent[] = [];
  for (let i = 0; i < methods.length; i++) {
    for (let j = i + 1; j < methods.length; j++) {
      const pairs = neuronIds.flatMap((n) => {
        const m = byNeuronMethod.get(n)!;
        return m.has(methods[i]) && m.has(methods[j]) ? [[m.get(methods[i])!, m.get(methods[j])!] as const] : [];
      });
      if (pairs.length) methodPairs.push(pairTest(methods[i], methods[j], pairs));
    }
  }
  for (const method of methods) {
    const pairs = neuronIds.flatMap((n) => {
      const m = byNeuronMethod.get(n)!;
      const top = best.get(n);
      return m.has(method) && top ? [[m.get(method)!, top.value] as const] : [];
    });
    if (pairs.length) methodPairs.push(pairTest(method, null, pairs));
  }

  // evaluators: predictions against recorded means
  const stimulusOf = new Map(stimuli.flatMap((s) => (s.imageId ? [[s.imageId, s] as const] : [])));
  const points = new Map<string, { neuronId: string; predicted: number; recorded: number }[]>();
  for (const score of scoreRows) {
    const s = stimulusOf.get(score.imageId);
    if (!s?.neuronId) continue;
    const r = recorded.get(`${s.stimulus}/${s.neuronId}`);
    if (!r) continue;
    const list = points.get(score.evaluatorId) ?? [];
    list.push({ neuronId: s.neuronId, predicted: score.value, recorded: r.mean });
    points.set(score.evaluatorId, list);
  }
  const evaluators = [...points].map(([evaluatorId, list]): EvaluatorAgreementParent => {
    const perNeuronR = neuronIds.flatMap((n) => {
      const own = list.filter((p) => p.neuronId === n);
      const r = own.length >= 3 ? pearson(own.map((p) => p.predicted), own.map((p) => p.recorded)) : null;
      return r === null ? [] : [r];
    });
    return {
      evaluatorId,
      r: pearson(list.map((p) => p.predicted), list.map((p) => p.recorded)),
      pairs: list.length,
      medianNeuronR: perNeuronR.length ? median(perNeuronR) : null,
      neurons: perNeuronR.length,
    };
  });
  evaluators.sort((x, y) => (y.r ?? -Infinity) - (x.r ?? -Infinity) || x.evaluatorId.localeCompare(y.evaluatorId));

  // noise ceilings
  const ceilings = neuronIds.map((neuronId): NeuronCeilingParent => {
    const repeats = stimuli.flatMap((s) => {
      const r = recorded.get(`${s.stimulus}/${neuronId}`);
      return r ? [r.samples] : [];
    });
    return { neuronId, fev: fractionExplainableVariance(repeats), splitHalfR: splitHalfReliability(repeats) };
  });
  const fevs = ceilings.flatMap((c) => (c.fev === null ? [] : [c.fev]));
  return {
    perNeuron,
    methodPairs,
    evaluators,
    noiseCeiling: { meanFev: fevs.length ? average(fevs) : null, medianFev: fevs.length ? median(fevs) : null, neurons: ceilings },
  };
}
