/**
 * What a model folder is, checked by the engine before anything is stored: model.json's kind and
 * format, every safetensors header, the weights' names and shapes against the architecture (the
 * encoder graph or the prior's UNet is built from them), ensemble members alike. A folder of
 * neuronK.safetensors without model.json is a compact ground-truth model.
 */
import { readdir } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { COMPACT_IMAGE_SIZE, DataFileError, type NdArray, type NeuronRef, encoderGraph, loadCompactModel, loadModel, loadOnnxModel, loadPrior, membersOf, pathInside, readJsonWithin } from '@excite/engine';
import type { ModelKind } from '../db/schema.ts';

/** What the database keeps of a model besides its files (Encoder and Prior fields read it). */
export interface ModelMeta {
  /** model.json as it is (ensembles: the ensemble's; compact models: none) */
  json?: unknown;
  /** ensembles: the members' model.json */
  members?: unknown[];
  architecture?: unknown;
  readout?: string;
  metrics?: unknown;
  training?: unknown;
  sessions: string[];
  /** our encoders: pixels = standardized * std + mean */
  standardization?: { mean: number; std: number };
  /** priors */
  diffusion?: unknown;
  /** compact models: the session their folder stands for */
  session?: string;
  /** imported models: operators of the forward graph */
  ops?: number;
}

export interface ModelInspection {
  kind: ModelKind;
  name: string;
  meta: ModelMeta;
  input: { channels: number; height: number; width: number };
  /** in output-column order */
  neurons: NeuronRef[];
  /** the files that make the model, relative to its folder (others are ignored) */
  files: string[];
}

/** A model folder that cannot be registered; the message says why, with paths inside the folder. */
export class ModelFolderError extends Error {
  override name = 'ModelFolderError';
}

const NEURON_FILE = /^neuron(\d+)\.safetensors$/;

export async function inspectModelFolder(dir: string, options: { name?: string; session?: string } = {}): Promise<ModelInspection> {
  try {
    return await inspect(dir, options);
  } catch (e) {
    if (e instanceof ModelFolderError) throw e;
    // engine errors name files by absolute path: name them as the user does, inside the folder
    const message = (e as Error).message.split(`${dir}/`).join('').split(dir).join('.');
    throw new ModelFolderError(message, { cause: e });
  }
}

async function inspect(dir: string, options: { name?: string; session?: string }): Promise<ModelInspection> {
  const entries = await readdir(dir);
  if (!entries.includes('model.json')) {
    const neuronFiles = entries.filter((f) => NEURON_FILE.test(f));
    if (neuronFiles.length === 0) throw new ModelFolderError('no model.json (an encoder, ensemble or prior folder) and no neuronK.safetensors files (a compact model)');
    return inspectCompact(dir, neuronFiles, options);
  }
  // size and depth are bounded before anything reads it: the database stores it as jsonb
  const parsed = await readJsonWithin(join(dir, 'model.json'));
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ModelFolderError('model.json is not a JSON object');
  const json = parsed as { kind?: string; name?: string; members?: string[] };
  const name = options.name ?? nameOf(json.name, dir);
  if (json.kind === 'prior') {
    const prior = await loadPrior(dir);
    checkFinite(prior.weights, join(dir, 'weights.safetensors'));
    return {
      kind: 'prior',
      name,
      meta: { json, architecture: prior.meta.architecture, metrics: prior.meta.metrics, training: prior.meta.training, diffusion: prior.meta.diffusion, sessions: [] },
      input: { channels: prior.config.inChannels, height: prior.config.imageSize, width: prior.config.imageSize },
      neurons: [],
      files: ['model.json', 'weights.safetensors'],
    };
  }
  if (json.kind === 'onnx') return inspectOnnx(dir, name);
  if (json.kind !== 'encoder' && json.kind !== 'ensemble') throw new ModelFolderError(`model.json: kind "${json.kind}" is not encoder, ensemble, onnx or prior`);
  const model = await loadModel(dir);
  // missing or misshapen weights fail while the graph is built; weights nobody uses fail here
  for (const member of membersOf(model)) {
    checkFinite(member.weights, join(member.dir, 'weights.safetensors'));
    const used = new Set(encoderGraph(member).graph.weights.keys());
    const unused = [...member.weights.keys()].filter((k) => !used.has(k));
    if (unused.length) throw new ModelFolderError(`${relative(dir, join(member.dir, 'weights.safetensors')) || 'weights.safetensors'}: tensors the architecture in model.json does not use: ${unused.slice(0, 5).join(', ')}${unused.length > 5 ? ` and ${unused.length - 5} more` : ''}`);
  }
  const { neurons } = encoderGraph(model);
  if (neurons.length === 0) throw new DataFileError(join(dir, 'model.json'), 'the model predicts no neurons (its sessions list none)', { code: 'NO_NEURONS' });
  const members = membersOf(model);
  const spec = members[0].spec;
  const memberDirs = 'members' in model ? members.map((m) => relative(dir, m.dir)) : [''];
  return {
    kind: json.kind,
    name,
    meta: {
      json,
      members: 'members' in model ? members.map((m) => m.meta) : undefined,
      architecture: members[0].meta.architecture,
      readout: spec.readout.type,
      metrics: 'members' in model ? (model.meta.metrics ?? members[0].meta.metrics) : model.meta.metrics,
      training: model.meta.training,
      sessions: spec.sessions.map((s) => s.id),
      standardization: { mean: spec.input.mean, std: spec.input.std },
    },
    input: { channels: spec.core.inputChannels, height: spec.input.height, width: spec.input.width },
    neurons,
    // every file inside the folder: the member folders were checked when loaded, this is the last word
    files: ['model.json', ...memberDirs.flatMap((m) => (m ? [join(m, 'model.json'), join(m, 'weights.safetensors')] : ['weights.safetensors']))].map((f) => (pathInside(dir, f, join(dir, 'model.json'), 'file'), f)),
  };
}

/** Weights must be numbers: a tensor with NaN or infinite values is refused (NON_FINITE_VALUES). */
function checkFinite(tensors: Iterable<[string, NdArray]>, file: string): void {
  for (const [name, tensor] of tensors) {
    const data = tensor.data;
    if (!(data instanceof Float32Array || data instanceof Float64Array)) continue;
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i])) throw new DataFileError(file, `tensor "${name}" holds NaN or infinite values (element ${i} is ${data[i]})`, { code: 'NON_FINITE_VALUES' });
    }
  }
}

async function inspectCompact(dir: string, neuronFiles: string[], options: { name?: string; session?: string }): Promise<ModelInspection> {
  const session = options.session ?? basename(dir);
  if (!/^[\w.-]+$/.test(session)) throw new ModelFolderError(`a compact model needs its session (the folder name or the "session" field), got "${session}"`);
  const compact = await loadCompactModel(dir);
  checkFinite([...compact.graph.weights].map(([k, v]) => [k, v.data!] as [string, NdArray]), join(dir, 'neuronK.safetensors'));
  const files = neuronFiles.sort((a, b) => Number(NEURON_FILE.exec(a)![1]) - Number(NEURON_FILE.exec(b)![1]));
  return {
    kind: 'compact',
    name: options.name ?? `compact ${session}`,
    meta: { sessions: [session], session },
    input: { channels: 3, height: COMPACT_IMAGE_SIZE, width: COMPACT_IMAGE_SIZE },
    neurons: compact.neurons.map((neuron) => ({ session, neuron })),
    files,
  };
}

/** An imported model: the engine rebuilds its graph(s), so unsupported operators and contradictions are refused here. */
async function inspectOnnx(dir: string, name: string): Promise<ModelInspection> {
  const model = await loadOnnxModel(dir);
  checkFinite([...model.graph.weights].map(([k, v]) => [k, v.data!] as [string, NdArray]), join(dir, 'model.json'));
  const graphs = model.meta.graph ? [model.meta.graph] : Object.values(model.meta.graphs ?? {});
  const { mean, std } = model.meta.input;
  const average = (v: readonly number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  return {
    kind: 'onnx',
    name,
    meta: {
      json: model.meta,
      architecture: model.meta.architecture,
      sessions: [...new Set(model.neurons.map((n) => n.session))],
      standardization: { mean: average(mean), std: average(std) },
      ops: model.ops,
    },
    input: { channels: model.meta.input.channels, height: model.meta.input.height, width: model.meta.input.width },
    neurons: model.neurons,
    files: ['model.json', ...graphs.map((f) => (pathInside(dir, f, join(dir, 'model.json'), 'graph'), f))],
  };
}

/** model.json names are often the path the model was written to: keep its last part. */
function nameOf(name: string | undefined, dir: string): string {
  const n = (name ?? '').replace(/\/+$/, '');
  return n ? basename(n) : basename(dir);
}
