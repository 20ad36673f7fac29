/**
 * `excite eval`: per-neuron Pearson r of a model's predictions on given images of a session, for
 * our encoders (folders with model.json, or ensembles), for models imported from ONNX and for the
 * published compact models (a neuronK.safetensors file or a folder of them), each in its own
 * input space.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readDataset } from '../data/dataset.ts';
import { type Image, stackImages, toGrayscale } from '../data/images.ts';
import { loadStimuli, standardize } from '../data/stimuli.ts';
import { loadCompactModel } from '../models/compact.ts';
import { encoderGraph } from '../models/encoder-graph.ts';
import { loadModel, membersOf } from '../models/model-dir.ts';
import { isOnnxModelDir } from '../models/onnx-model.ts';
import { loadScoringModel, pixelScoringGraph } from '../models/scoring-model.ts';
import { type NdArray, float32 } from '../onnx/ndarray.ts';
import { runBatched } from '../runtime/batched.ts';
import { createSession } from '../runtime/session.ts';
import { parseRange, responsesOf, sessionId } from '../train/sessions.ts';
import { mean, median, pearsonPerNeuron } from './correlation.ts';

export interface Evaluation {
  median_r: number;
  mean_r: number;
  /** r per neuron, in the order of the session's responses rows the model predicts */
  per_neuron: number[];
  /** those rows */
  neurons: number[];
  images: number;
}

/** Whether `path` is a published compact model (file or folder of neuronK.safetensors without model.json). */
export function isCompactModel(path: string): boolean {
  if (!existsSync(path)) return false;
  if (statSync(path).isFile()) return path.endsWith('.safetensors');
  return !existsSync(join(path, 'model.json'));
}

/** An RGB image as grayscale (the plain mean of R, G and B) in all three channels. */
function grayInColor(image: Image): Image {
  const gray = toGrayscale(image).data;
  const out = new Float32Array(3 * gray.length);
  for (let c = 0; c < 3; c++) out.set(gray, c * gray.length);
  return float32([3, ...image.shape.slice(1)], out);
}

export interface EvaluateOptions {
  model: string;
  data: string;
  images?: string;
  /**
   * show a color model the images in grayscale (the plain mean of R, G and B, in each channel):
   * what excite's grayscale encoders see; our encoders see grayscale either way
   */
  grayscale?: boolean;
}

export async function evaluateModel(o: EvaluateOptions): Promise<Evaluation> {
  const dataset = await readDataset(o.data);
  const columns = parseRange(o.images, dataset.images.count);
  const colorImage = async (k: number) => {
    const image = await dataset.images.image(k);
    return o.grayscale && image.shape[0] === 3 ? grayInColor(image) : image;
  };
  let predictions: NdArray<Float32Array>;
  let neurons: number[];
  if (isCompactModel(o.model)) {
    const compact = await loadCompactModel(o.model);
    const rgb = stackImages(await Promise.all(columns.map(colorImage)));
    const session = await createSession(compact.graph);
    predictions = await runBatched(session, {}, 'image', rgb, 'rates', 32);
    await session.release();
    neurons = compact.neurons;
  } else if (await isOnnxModelDir(o.model)) {
    // the session's neurons of the model's columns, scored on the images in pixels
    const model = await loadScoringModel(o.model);
    const id = sessionId(o.data);
    const columnsOfSession = model.neurons.flatMap((n, c) => (n.session === id ? [c] : []));
    if (columnsOfSession.length === 0) throw new Error(`${o.model} predicts no neuron of session ${id} (its neurons are of ${[...new Set(model.neurons.map((n) => n.session))].join(', ')})`);
    const pixels = stackImages(await Promise.all(columns.map(colorImage)));
    const [, C, H, W] = pixels.shape;
    const session = await createSession(pixelScoringGraph(model, { channels: C as 1 | 3, height: H, width: W }));
    const all = await runBatched(session, {}, 'pixels', pixels, 'rates', 32);
    await session.release();
    const width = model.neurons.length;
    predictions = float32([columns.length, columnsOfSession.length], new Float32Array(columns.length * columnsOfSession.length));
    for (let i = 0; i < columns.length; i++) columnsOfSession.forEach((c, j) => (predictions.data[i * columnsOfSession.length + j] = all.data[i * width + c]));
    neurons = columnsOfSession.map((c) => model.neurons[c].neuron);
  } else {
    const model = await loadModel(o.model);
    const id = sessionId(o.data);
    const { graph, neurons: refs } = encoderGraph(model, { sessions: [id] });
    const input = membersOf(model)[0].spec.input;
    const images = standardize(await loadStimuli(dataset.images, columns, input), input);
    const session = await createSession(graph);
    predictions = await runBatched(session, {}, 'image', images, 'rates');
    await session.release();
    neurons = refs.map((r) => r.neuron);
  }
  if (neurons.some((n) => n < 0 || n >= dataset.neurons)) throw new Error(`${o.model} predicts neurons beyond the ${dataset.neurons} of ${o.data}`);
  const all = responsesOf(dataset, columns);
  const observed = new Float32Array(columns.length * neurons.length);
  for (let i = 0; i < columns.length; i++) neurons.forEach((n, j) => (observed[i * neurons.length + j] = all[i * dataset.neurons + n]));
  const r = pearsonPerNeuron(predictions.data, observed, columns.length, neurons.length);
  return { median_r: median(r), mean_r: mean(r), per_neuron: r, neurons, images: columns.length };
}
