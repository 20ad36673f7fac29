/**
 * How peaked an attention readout's attention is: per neuron, over a set of images, the largest
 * attention weight and the effective number of positions 1 / sum_s a(s)^2 (S for a uniform map,
 * 1 for a single position). A readout whose attention is near uniform averages the whole feature
 * map and gives its neurons no receptive field.
 */
import { Graph } from '../onnx/graph.ts';
import type { NdArray } from '../onnx/ndarray.ts';
import { readDataset } from '../data/dataset.ts';
import { loadStimuli, standardize } from '../data/stimuli.ts';
import { buildEncoder } from '../models/encoder.ts';
import { type EncoderEnsemble, type EncoderModel, loadModel, membersOf } from '../models/model-dir.ts';
import { parseRange, sessionId } from '../train/sessions.ts';
import { runBatched } from '../runtime/batched.ts';
import { createSession } from '../runtime/session.ts';
import { median } from './correlation.ts';

export interface AttentionFocus {
  /** positions of the feature map */
  positions: number;
  /** per member, per neuron: mean over images of the largest attention weight */
  maxWeight: number[][];
  /** per member, per neuron: mean over images of 1 / sum a^2 */
  effectivePositions: number[][];
  /** medians over members and neurons */
  medianMaxWeight: number;
  medianEffectivePositions: number;
  /** fraction of neurons (all members) whose effective positions are under a tenth of the map */
  focusedFraction: number;
}

/** `images`: standardized [N, 1, H, W] in the model's input space. */
export async function attentionFocus(model: EncoderModel | EncoderEnsemble, session: string, images: NdArray<Float32Array>): Promise<AttentionFocus> {
  const members = membersOf(model);
  if (members[0].spec.readout.type !== 'attention') throw new Error(`${model.dir} has a ${members[0].spec.readout.type} readout, not an attention readout`);
  const maxWeight: number[][] = [];
  const effectivePositions: number[][] = [];
  let positions = 0;
  for (const m of members) {
    const g = new Graph('attention_focus');
    const image = g.input('image', 'float32', ['batch', m.spec.core.inputChannels, m.spec.input.height, m.spec.input.width]);
    buildEncoder(g, image, m.spec, { weights: m.weights, sessions: [session], onAttention: (_, a) => g.output(a, 'attention') });
    const s = await createSession(g);
    let a: NdArray<Float32Array>;
    try {
      a = await runBatched(s, {}, 'image', images, 'attention', 16);
    } finally {
      await s.release();
    }
    const [N, neurons, S] = a.shape as number[];
    positions = S;
    const peak = new Array<number>(neurons).fill(0);
    const effective = new Array<number>(neurons).fill(0);
    for (let i = 0; i < N; i++)
      for (let j = 0; j < neurons; j++) {
        const row = a.data.subarray((i * neurons + j) * S, (i * neurons + j + 1) * S);
        let max = 0;
        let sq = 0;
        for (let k = 0; k < S; k++) {
          max = Math.max(max, row[k]);
          sq += row[k] * row[k];
        }
        peak[j] += max / N;
        effective[j] += 1 / sq / N;
      }
    maxWeight.push(peak);
    effectivePositions.push(effective);
  }
  const allEffective = effectivePositions.flat();
  return {
    positions,
    maxWeight,
    effectivePositions,
    medianMaxWeight: median(maxWeight.flat()),
    medianEffectivePositions: median(allEffective),
    focusedFraction: allEffective.filter((e) => e < positions / 10).length / allEffective.length,
  };
}

/** The attention focus of a model folder on images `range` ("A:B", default all) of a session's dataset folder. */
export async function attentionFocusOn(o: { model: string; data: string; images?: string }): Promise<AttentionFocus> {
  const model = await loadModel(o.model);
  const dataset = await readDataset(o.data);
  const input = membersOf(model)[0].spec.input;
  const images = standardize(await loadStimuli(dataset.images, parseRange(o.images, dataset.images.count), input), input);
  return attentionFocus(model, sessionId(o.data), images);
}
