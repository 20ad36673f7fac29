/**
 * Scores of result images by evaluator (docs/service.md, Results): every registered encoder, ensemble and compact
 * model that predicts an image's neuron rates the image, converted from pixel space into its own
 * input space. Compact models are one network per neuron, so each neuron's file is loaded alone.
 * An evaluator that cannot be loaded is skipped (logged): the run's results do not depend on it.
 */
import { and, eq, inArray } from 'drizzle-orm';
import { type NdArray, type NeuronRef, float32, scoreImages } from '@excite/engine';
import type { Db } from '../db/database.ts';
import { ENCODER_KINDS, modelNeurons, models } from '../db/schema.ts';
import type { ModelLoader } from './model-loader.ts';

export interface ScoredImage {
  neuronId: string;
  neuron: NeuronRef;
  /** [C, H, W], 0..255 */
  pixels: NdArray<Float32Array>;
}

export interface Score {
  evaluatorId: string;
  value: number;
}

export async function scoreByEvaluators(db: Db, loader: ModelLoader, images: readonly ScoredImage[], log: (line: string) => void): Promise<Score[][]> {
  const scores: Score[][] = images.map(() => []);
  if (images.length === 0) return scores;
  const neuronIds = [...new Set(images.map((i) => i.neuronId))];
  const predicting = await db
    .select({ modelId: modelNeurons.modelId, neuronId: modelNeurons.neuronId, kind: models.kind, name: models.name })
    .from(modelNeurons)
    .innerJoin(models, eq(models.id, modelNeurons.modelId))
    .where(and(inArray(modelNeurons.neuronId, neuronIds), inArray(models.kind, [...ENCODER_KINDS])));
  const evaluators = new Map<string, { kind: string; name: string; neurons: Set<string> }>();
  for (const p of predicting) {
    const e = evaluators.get(p.modelId) ?? { kind: p.kind, name: p.name, neurons: new Set() };
    e.neurons.add(p.neuronId);
    evaluators.set(p.modelId, e);
  }
  const [C, H, W] = images[0].pixels.shape;
  const space = { channels: C as 1 | 3, height: H, width: W };
  for (const [evaluatorId, evaluator] of evaluators) {
    const mine = images.map((img, i) => ({ img, i })).filter(({ img }) => evaluator.neurons.has(img.neuronId));
    // compact models: one load per neuron; our models: one for all
    const groups = evaluator.kind === 'compact' ? groupBy(mine, ({ img }) => img.neuron.neuron) : new Map([[undefined, mine]]);
    for (const [compactNeuron, group] of groups) {
      try {
        const { scoring } = await loader.encoder(evaluatorId, compactNeuron);
        const stack = float32([group.length, C, H, W], new Float32Array(group.length * C * H * W));
        group.forEach(({ img }, j) => stack.data.set(img.pixels.data, j * C * H * W));
        const values = await scoreImages(scoring, stack, group.map(({ img }) => img.neuron), space);
        group.forEach(({ i }, j) => Number.isFinite(values[j]) && scores[i].push({ evaluatorId, value: values[j] }));
      } catch (e) {
        log(`excite: evaluator ${evaluator.name} (${evaluatorId}) left out: ${(e as Error).message}`);
      }
    }
  }
  return scores;
}

function groupBy<T, K>(items: readonly T[], key: (item: T) => K): Map<K | undefined, T[]> {
  const groups = new Map<K | undefined, T[]>();
  for (const item of items) {
    const k = key(item);
    groups.set(k, [...(groups.get(k) ?? []), item]);
  }
  return groups;
}
