/**
 * How peaked an attention readout's attention is: per neuron, over a set of images, the largest
 * attention weight, the effective number of positions 1 / sum_s a(s)^2 (S for a uniform map,
 * 1 for a single position), the half-mass area (the fewest positions that hold half of the
 * attention, as a fraction of the map: one half for a uniform map) and the spatial spread (the
 * root-mean-square distance of the attention from its centre, in positions). A readout whose
 * attention is near uniform averages the whole feature map and gives its neurons no receptive
 * field. The effective count weighs the tails: for attention shaped as a round Gaussian blob it is
 * 2.9 times the half-mass area, so a blob that holds half of its attention in a tenth of the map
 * counts as 29 % of the map by the effective count.
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
  /** per member, per neuron: mean over images of the fewest positions holding half of the attention, / S */
  halfMassArea: number[][];
  /** per member, per neuron: mean over images of the RMS distance (in positions) of the attention from its centre */
  spread: number[][];
  /** medians over members and neurons */
  medianMaxWeight: number;
  medianEffectivePositions: number;
  medianHalfMassArea: number;
  medianSpread: number;
  /** fraction of neurons (all members) whose effective positions are under a tenth of the map */
  focusedFraction: number;
  /** fraction of neurons (all members) that hold half of their attention in under a tenth of the map */
  localizedFraction: number;
  /** the RMS distance from the centre of a uniform map of this size, in positions */
  uniformSpread: number;
}

/** Per attention row a [S] over an H x W map: the fewest positions holding half of it (/ S) and its RMS distance from its centre. */
export function halfMassAndSpread(a: ArrayLike<number>, H: number, W: number, scratch = new Float64Array(H * W)): { halfMassArea: number; spread: number } {
  const S = H * W;
  let total = 0;
  let mr = 0;
  let mc = 0;
  for (let k = 0; k < S; k++) {
    scratch[k] = a[k];
    total += a[k];
    mr += a[k] * Math.floor(k / W);
    mc += a[k] * (k % W);
  }
  mr /= total;
  mc /= total;
  let v = 0;
  for (let k = 0; k < S; k++) v += a[k] * ((Math.floor(k / W) - mr) ** 2 + ((k % W) - mc) ** 2);
  scratch.sort();
  let held = 0;
  let count = 0;
  for (let k = S - 1; k >= 0 && held < total / 2; k--, count++) held += scratch[k];
  return { halfMassArea: count / S, spread: Math.sqrt(v / total) };
}

/** `images`: standardized [N, 1, H, W] in the model's input space. */
export async function attentionFocus(model: EncoderModel | EncoderEnsemble, session: string, images: NdArray<Float32Array>): Promise<AttentionFocus> {
  const members = membersOf(model);
  if (members[0].spec.readout.type !== 'attention') throw new Error(`${model.dir} has a ${members[0].spec.readout.type} readout, not an attention readout`);
  const maxWeight: number[][] = [];
  const effectivePositions: number[][] = [];
  const halfMassArea: number[][] = [];
  const spread: number[][] = [];
  let positions = 0;
  let uniformSpread = 0;
  for (const m of members) {
    const g = new Graph('attention_focus');
    const image = g.input('image', 'float32', ['batch', m.spec.core.inputChannels, m.spec.input.height, m.spec.input.width]);
    const built = buildEncoder(g, image, m.spec, { weights: m.weights, sessions: [session], onAttention: (_, a) => g.output(a, 'attention') });
    const [, , H, W] = built.core.features.shape as number[];
    const s = await createSession(g);
    let a: NdArray<Float32Array>;
    try {
      a = await runBatched(s, {}, 'image', images, 'attention', 16);
    } finally {
      await s.release();
    }
    const [N, neurons, S] = a.shape as number[];
    positions = S;
    uniformSpread = Math.sqrt((H * H - 1) / 12 + (W * W - 1) / 12);
    const peak = new Array<number>(neurons).fill(0);
    const effective = new Array<number>(neurons).fill(0);
    const half = new Array<number>(neurons).fill(0);
    const rms = new Array<number>(neurons).fill(0);
    const scratch = new Float64Array(S);
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
        const shape = halfMassAndSpread(row, H, W, scratch);
        half[j] += shape.halfMassArea / N;
        rms[j] += shape.spread / N;
      }
    maxWeight.push(peak);
    effectivePositions.push(effective);
    halfMassArea.push(half);
    spread.push(rms);
  }
  const allEffective = effectivePositions.flat();
  const allHalf = halfMassArea.flat();
  return {
    positions,
    maxWeight,
    effectivePositions,
    halfMassArea,
    spread,
    medianMaxWeight: median(maxWeight.flat()),
    medianEffectivePositions: median(allEffective),
    medianHalfMassArea: median(allHalf),
    medianSpread: median(spread.flat()),
    focusedFraction: allEffective.filter((e) => e < positions / 10).length / allEffective.length,
    localizedFraction: allHalf.filter((h) => h < 0.1).length / allHalf.length,
    uniformSpread,
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
