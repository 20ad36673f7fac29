/**
 * Encoders imported from ONNX (docs/formats.md, ONNX model folders): any architecture a lab exports
 * from PyTorch becomes a model folder, `model.json` (kind "onnx": input space, neurons, output
 * nonlinearity) beside its graph file(s), one per session key for multi-session models. Loading
 * rebuilds the graphs in the engine (onnx/import), so that the encoder has gradients and can
 * generate as well as evaluate.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { DataFileError } from '../data/errors.ts';
import { readJsonWithin } from '../data/json.ts';
import { pathInside } from '../data/paths.ts';
import { nodesFor } from '../onnx/evaluate.ts';
import { Graph, type Value } from '../onnx/graph.ts';
import { ImportMemo, importOnnxGraph } from '../import/import-graph.ts';
import { type OnnxModel, encodeWithInlineData, readOnnxModel } from '../import/onnx-file.ts';
import { fromNumbers } from '../onnx/ndarray.ts';
import { concat } from '../onnx/ops/concat-split.ts';
import { add, elu, exp, softplus } from '../onnx/ops/elementwise.ts';
import type { NeuronRef } from './encoder-graph.ts';

export const ONNX_MODEL_FORMAT = 1;
export const OUTPUT_TRANSFORMS = ['identity', 'elu1', 'softplus', 'exp'] as const;
export type OutputTransform = (typeof OUTPUT_TRANSFORMS)[number];

/** What no graph can say, as a lab writes it in META.json. */
export interface OnnxMeta {
  name?: string;
  architecture?: string;
  input: { channels?: number; height?: number; width?: number; mean: number[]; std: number[] };
  /** output columns in order, "session:index" */
  neurons: string[];
  output?: OutputTransform;
  /** the forward() keyword that selects the session: one graph per session key */
  dataKey?: string | null;
}

/** model.json of an imported model. */
export interface OnnxModelJson {
  kind: 'onnx';
  format: number;
  name: string;
  architecture: string;
  input: { channels: number; height: number; width: number; mean: number[]; std: number[] };
  neurons: string[];
  output: OutputTransform;
  dataKey: string | null;
  /** the graph (dataKey null) */
  graph?: string;
  /** one graph per session key (dataKey set), in the order the sessions' neurons come */
  graphs?: Record<string, string>;
  /** how the graph(s) were made: exporter, opset, date; free-form */
  exported?: Record<string, unknown>;
}

export interface OnnxEncoder {
  dir: string;
  meta: OnnxModelJson;
  /** input `image` [batch, C, H, W] in the model's standardized space, output `rates` [batch, neurons] */
  graph: Graph;
  neurons: NeuronRef[];
  /** nodes of the forward graph after folding and sharing */
  ops: number;
}

type Fail = (problem: string, code?: 'META_CONTRADICTS_GRAPH' | 'INVALID_ONNX' | 'NO_NEURONS') => DataFileError;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const positiveInt = (v: unknown) => Number.isInteger(v) && (v as number) > 0;
const NEURON = /^([\w.-]+):(\d+)$/;

/** The neurons' sessions in the order they first come; each session's neurons must be contiguous. */
function sessionsOf(neurons: readonly string[], fail: Fail): string[] {
  const sessions: string[] = [];
  for (const n of neurons) {
    const s = NEURON.exec(n)![1];
    if (sessions.at(-1) === s) continue;
    if (sessions.includes(s)) throw fail(`neurons: the neurons of session "${s}" must come together (one graph's outputs per session)`);
    sessions.push(s);
  }
  return sessions;
}

/** Checks META.json (or model.json's shared fields); channels, height and width may be left to the graph. */
export function checkOnnxMeta(json: unknown, file: string): OnnxMeta {
  const fail: Fail = (p, code) => new DataFileError(file, p, { code });
  if (!isObject(json)) throw fail('is not a JSON object');
  const input = json.input;
  if (!isObject(input)) throw fail('input: give {"channels", "height", "width", "mean": [per channel], "std": [per channel]} (pixels 0..255 go in as (pixels - mean) / std)');
  for (const k of ['channels', 'height', 'width'] as const) {
    if (input[k] !== undefined && !positiveInt(input[k])) throw fail(`input.${k} must be a positive integer, got ${JSON.stringify(input[k])}`);
  }
  if (input.channels !== undefined && input.channels !== 1 && input.channels !== 3) throw fail(`input.channels must be 1 (grayscale) or 3 (RGB), got ${input.channels}`);
  for (const k of ['mean', 'std'] as const) {
    const v = input[k];
    if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) throw fail(`input.${k} must be a list of numbers, one per channel, got ${JSON.stringify(v)}`);
    if (input.channels !== undefined && v.length !== input.channels) throw fail(`input.${k} has ${v.length} entries for ${input.channels} channels`);
  }
  if ((input.std as number[]).some((s) => s <= 0)) throw fail('input.std must be positive');
  if ((input.mean as number[]).length !== (input.std as number[]).length) throw fail('input.mean and input.std must have one entry per channel');
  const neurons = json.neurons;
  if (!Array.isArray(neurons) || neurons.length === 0) throw fail('neurons must list the output columns in order, as "session:index"', 'NO_NEURONS');
  const seen = new Set<string>();
  for (const n of neurons) {
    if (typeof n !== 'string' || !NEURON.test(n)) throw fail(`neurons: ${JSON.stringify(n)} is not "session:index" (a session name of letters, digits, "_", "." or "-", and the row of its responses)`);
    if (seen.has(n)) throw fail(`neurons: "${n}" is listed twice`);
    seen.add(n);
  }
  const output = json.output ?? 'identity';
  if (!OUTPUT_TRANSFORMS.includes(output as OutputTransform)) throw fail(`output must be one of ${OUTPUT_TRANSFORMS.join(', ')}, got ${JSON.stringify(output)}`);
  const dataKey = json.dataKey ?? null;
  if (dataKey !== null && (typeof dataKey !== 'string' || dataKey === '')) throw fail(`dataKey must be null or the name of the keyword that selects the session, got ${JSON.stringify(dataKey)}`);
  for (const k of ['name', 'architecture'] as const) {
    if (json[k] !== undefined && typeof json[k] !== 'string') throw fail(`${k} must be a string`);
  }
  if (dataKey !== null) sessionsOf(neurons as string[], fail);
  return { ...(json as unknown as OnnxMeta), output: output as OutputTransform, dataKey };
}

/** The graphs' declared input [?, C, H, W] checked against (and completing) the metadata. */
function inputSpace(meta: OnnxMeta, graphs: readonly OnnxModel[], fail: Fail): OnnxModelJson['input'] {
  const out = { ...meta.input } as OnnxModelJson['input'];
  for (const model of graphs) {
    const shape = model.inputs[0]?.shape;
    if (!shape || shape.length !== 4) throw fail(`${basename(model.file)}: the graph's input must be [batch, channels, height, width], it is [${shape?.map((d) => d ?? '?') ?? ''}]`, 'INVALID_ONNX');
    (['channels', 'height', 'width'] as const).forEach((k, i) => {
      const declared = shape[i + 1];
      if (typeof declared !== 'number') return;
      if (out[k] === undefined) out[k] = declared;
      else if (out[k] !== declared) throw fail(`input.${k} is ${out[k]} but the graph ${basename(model.file)} takes ${declared}`, 'META_CONTRADICTS_GRAPH');
    });
  }
  for (const k of ['channels', 'height', 'width'] as const) {
    if (out[k] === undefined) throw fail(`input.${k}: the graph leaves it open, so the metadata must say it`);
  }
  if (out.channels !== 1 && out.channels !== 3) throw fail(`the graph takes ${out.channels} channels; excite feeds 1 (grayscale) or 3 (RGB)`, 'META_CONTRADICTS_GRAPH');
  if (out.mean.length !== out.channels || out.std.length !== out.channels) throw fail(`input.mean and input.std have ${out.mean.length} and ${out.std.length} entries, the graph takes ${out.channels} channels`, 'META_CONTRADICTS_GRAPH');
  return out;
}

function transform(x: Value, output: OutputTransform): Value {
  switch (output) {
    case 'identity':
      return x;
    case 'elu1':
      return add(elu(x), 1);
    case 'softplus':
      return softplus(x);
    case 'exp':
      return exp(x);
  }
}

/**
 * The engine graph of an imported model: one input `image`, each session's graph imported over it
 * (sharing identical nodes and weights), outputs concatenated in the neurons' order, then the
 * output nonlinearity, as `rates`.
 */
function buildGraph(name: string, input: OnnxModelJson['input'], parts: readonly { session?: string; model: OnnxModel; neurons: number }[], output: OutputTransform, fail: Fail): { graph: Graph; ops: number } {
  const graph = new Graph(`onnx_${name.replace(/\W+/g, '_')}`);
  const image = graph.input('image', 'float32', ['batch', input.channels, input.height, input.width]);
  const memo = new ImportMemo();
  const outs = parts.map(({ session, model, neurons }) => {
    const { output: y } = importOnnxGraph(model, { image, memo, weightPrefix: session });
    const width = y.shape[1];
    if (y.rank !== 2 || (typeof y.shape[0] === 'number' && y.shape[0] !== 1)) throw fail(`${basename(model.file)}: the graph's output must be [batch, neurons], it is [${y.shape}]`, 'INVALID_ONNX');
    if (width !== neurons) throw fail(`neurons lists ${neurons}${session ? ` for session ${session}` : ''} but the graph ${basename(model.file)} gives ${width} outputs`, 'META_CONTRADICTS_GRAPH');
    return y;
  });
  const rates = graph.output(transform(outs.length === 1 ? outs[0] : concat(outs, 1), output), 'rates');
  return { graph, ops: nodesFor(graph, [rates]).length };
}

const neuronRefs = (neurons: readonly string[]): NeuronRef[] => neurons.map((n) => {
  const [, session, index] = NEURON.exec(n)!;
  return { session, neuron: Number(index) };
});

/** A multi-session model's sessions and their neuron counts, in output order (none without a dataKey). */
function sessionParts(meta: OnnxMeta, fail: Fail): { session: string; neurons: number }[] {
  if (meta.dataKey === null) return [];
  const neurons = meta.neurons;
  return sessionsOf(neurons, fail).map((session) => ({ session, neurons: neurons.filter((n) => n.startsWith(`${session}:`)).length }));
}

/** Whether `dir` holds an imported ONNX model (model.json of kind "onnx"). */
export async function isOnnxModelDir(dir: string): Promise<boolean> {
  const json = await readJsonWithin(join(dir, 'model.json')).catch(() => undefined);
  return isObject(json) && json.kind === 'onnx';
}

export async function loadOnnxModel(path: string): Promise<OnnxEncoder> {
  const dir = resolve(path);
  const file = join(dir, 'model.json');
  const fail: Fail = (p, code) => new DataFileError(file, p, { code });
  const json = await readJsonWithin(file);
  if (!isObject(json) || json.kind !== 'onnx') throw fail('is not the model.json of an imported ONNX model (kind "onnx")');
  if (json.format !== ONNX_MODEL_FORMAT) throw fail(`format ${json.format} is not supported (this excite reads format ${ONNX_MODEL_FORMAT})`);
  const meta = checkOnnxMeta(json, file);
  const parts = sessionParts(meta, fail);
  const files = meta.dataKey === null ? [json.graph] : parts.map((p) => (isObject(json.graphs) ? json.graphs[p.session] : undefined));
  const models = await Promise.all(files.map((f, i) => {
    if (typeof f !== 'string') throw fail(meta.dataKey === null ? 'graph must name the model\'s .onnx file' : `graphs must name a .onnx file for session "${parts[i].session}"`);
    return readOnnxModel(pathInside(dir, f, file, 'graph'));
  }));
  const input = inputSpace(meta, models, fail);
  const { graph, ops } = buildGraph(String(json.name ?? basename(dir)), input, dataKeyParts(meta, parts, models), meta.output!, fail);
  return { dir, meta: { ...(json as unknown as OnnxModelJson), input }, graph, neurons: neuronRefs(meta.neurons), ops };
}

function dataKeyParts(meta: OnnxMeta, parts: readonly { session: string; neurons: number }[], models: readonly OnnxModel[]) {
  if (meta.dataKey === null) return [{ model: models[0], neurons: meta.neurons.length }];
  return parts.map((p, i) => ({ session: p.session, model: models[i], neurons: p.neurons }));
}

export interface ImportOnnxOptions {
  /** the exported graph; for a model with a dataKey, one per session in the order of their neurons */
  graphs: readonly string[];
  /** META.json's path, or its contents */
  meta: string | OnnxMeta;
  out: string;
  name?: string;
}

/**
 * Writes a model folder from exported graph(s) and their metadata, after checking that the engine
 * imports them (every op supported, metadata and graph agreeing). The folder is built aside and
 * renamed into place: a refused import leaves nothing behind.
 */
export async function importOnnxModel(o: ImportOnnxOptions): Promise<OnnxEncoder> {
  const metaFile = typeof o.meta === 'string' ? o.meta : 'META.json';
  const meta = checkOnnxMeta(typeof o.meta === 'string' ? await readJsonWithin(o.meta) : o.meta, metaFile);
  const fail: Fail = (p, code) => new DataFileError(metaFile, p, { code });
  const parts = sessionParts(meta, fail);
  if (meta.dataKey === null && o.graphs.length !== 1) throw fail(`${o.graphs.length} graphs given for a model without dataKey: give one`);
  if (meta.dataKey !== null && o.graphs.length !== parts.length) throw fail(`dataKey "${meta.dataKey}": give one graph per session (${parts.map((p) => p.session).join(', ')}), got ${o.graphs.length}`);
  const models = await Promise.all(o.graphs.map((f) => readOnnxModel(f)));
  const input = inputSpace(meta, models, fail);
  const name = o.name ?? meta.name ?? basename(o.graphs[0]).replace(/\.onnx$/, '');
  // refuses unsupported operators and contradictions before anything is written
  buildGraph(name, input, dataKeyParts(meta, parts, models), meta.output!, fail);

  const out = resolve(o.out);
  const existing = await readdir(out).catch(() => undefined);
  if (existing && existing.length) throw new DataFileError(out, 'exists and is not empty: choose another --out');
  const fileOf = (i: number) => (meta.dataKey === null ? 'model.onnx' : `${parts[i].session}.onnx`);
  const json: OnnxModelJson = {
    kind: 'onnx',
    format: ONNX_MODEL_FORMAT,
    name,
    architecture: meta.architecture ?? 'imported from ONNX',
    input,
    neurons: meta.neurons,
    output: meta.output!,
    dataKey: meta.dataKey ?? null,
    ...(meta.dataKey === null ? { graph: fileOf(0) } : { graphs: Object.fromEntries(parts.map((p, i) => [p.session, fileOf(i)])) }),
    exported: { producer: models[0].producer, opset: models[0].opset, imported: new Date().toISOString() },
  };
  const building = `${out}.importing-${randomUUID()}`;
  try {
    await mkdir(building, { recursive: true });
    for (const [i, model] of models.entries()) await writeFile(join(building, fileOf(i)), await encodeWithInlineData(model.file));
    await writeFile(join(building, 'model.json'), `${JSON.stringify(json, null, 2)}\n`);
    await mkdir(dirname(out), { recursive: true });
    if (existing) await rm(out, { recursive: true });
    await rename(building, out);
  } finally {
    await rm(building, { recursive: true, force: true });
  }
  return loadOnnxModel(out);
}

/** A [1, C, 1, 1] constant of per-channel values. */
export function channelConstant(g: Graph, values: readonly number[]): Value {
  return g.constant(fromNumbers('float32', [1, values.length, 1, 1], values), 'channels');
}
