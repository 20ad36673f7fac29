/**
 * Model directories (a contract: docs/formats.md, Model folders): `model.json` (kind, architecture, input space,
 * neurons, provenance, metrics) beside `weights.safetensors`; an ensemble is a folder whose
 * model.json lists member folders.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DataFileError } from '../data/errors.ts';
import { readJsonWithin } from '../data/json.ts';
import { realPathInside } from '../data/paths.ts';
import { readSafetensors, writeSafetensors } from '../data/safetensors.ts';
import type { NdArray } from '../onnx/ndarray.ts';
import type { EncoderSpec } from './encoder.ts';
import { checkEncoderMeta } from './encoder-schema.ts';

export const MODEL_FORMAT = 1;

/** Members one ensemble may list. */
export const MAX_ENSEMBLE_MEMBERS = 64;

export interface EncoderMeta {
  kind: 'encoder';
  format: number;
  name: string;
  architecture: Pick<EncoderSpec, 'core' | 'readout'>;
  input: EncoderSpec['input'];
  sessions: EncoderSpec['sessions'];
  /** how it was made: data, images, seed, epochs, time, machine, command */
  training?: Record<string, unknown>;
  /** held-out performance, e.g. { validation: { "201025": { median_r, mean_r } } } */
  metrics?: Record<string, unknown>;
}

export interface EnsembleMeta {
  kind: 'ensemble';
  format: number;
  name: string;
  /** member folders, relative to the ensemble's folder */
  members: string[];
  training?: Record<string, unknown>;
  metrics?: Record<string, unknown>;
}

export interface EncoderModel {
  dir: string;
  meta: EncoderMeta;
  spec: EncoderSpec;
  weights: Map<string, NdArray>;
}

export interface EncoderEnsemble {
  dir: string;
  meta: EnsembleMeta;
  members: EncoderModel[];
}

export function specOf(meta: EncoderMeta): EncoderSpec {
  return { core: meta.architecture.core, readout: meta.architecture.readout, input: meta.input, sessions: meta.sessions };
}

/** Pretty JSON with arrays of numbers kept on one line (neuron lists are long). */
function formatJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2).replace(/\[\s*(-?[\d.e+-]+(?:,\s*-?[\d.e+-]+)*)\s*\]/g, (_, items: string) => `[${items.split(/,\s*/).join(', ')}]`)}\n`;
}

export async function writeEncoder(dir: string, spec: EncoderSpec, weights: ReadonlyMap<string, NdArray>, meta: Partial<Pick<EncoderMeta, 'name' | 'training' | 'metrics'>> = {}): Promise<void> {
  await mkdir(dir, { recursive: true });
  const json: EncoderMeta = {
    kind: 'encoder',
    format: MODEL_FORMAT,
    name: meta.name ?? dir,
    architecture: { core: spec.core, readout: spec.readout },
    input: spec.input,
    sessions: spec.sessions,
    training: meta.training,
    metrics: meta.metrics,
  };
  // only what the spec's graph uses: readouts of other sessions are not carried along
  await writeSafetensors(join(dir, 'weights.safetensors'), weights, { format: String(MODEL_FORMAT) });
  await writeFile(join(dir, 'model.json'), formatJson(json));
}

export async function writeEnsemble(dir: string, members: readonly string[], meta: Partial<Pick<EnsembleMeta, 'name' | 'training' | 'metrics'>> = {}): Promise<void> {
  await mkdir(dir, { recursive: true });
  const json: EnsembleMeta = { kind: 'ensemble', format: MODEL_FORMAT, name: meta.name ?? dir, members: [...members], training: meta.training, metrics: meta.metrics };
  await writeFile(join(dir, 'model.json'), formatJson(json));
}

async function readMeta(dir: string): Promise<EncoderMeta | EnsembleMeta> {
  const file = join(dir, 'model.json');
  const json = await readJsonWithin(file, undefined, 'does not exist (a model directory holds model.json and weights.safetensors)');
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new DataFileError(file, 'is not a JSON object');
  const meta = json as EncoderMeta | EnsembleMeta;
  if (meta.kind !== 'encoder' && meta.kind !== 'ensemble') throw new DataFileError(file, `kind "${(meta as { kind?: string }).kind}" is not an encoder or an ensemble`);
  if (meta.format !== MODEL_FORMAT) throw new DataFileError(file, `format ${meta.format} is not supported (this excite reads format ${MODEL_FORMAT})`);
  return meta;
}

async function readEncoder(dir: string, meta: EncoderMeta): Promise<EncoderModel> {
  checkEncoderMeta(meta, join(dir, 'model.json'));
  const { tensors } = await readSafetensors(join(dir, 'weights.safetensors'));
  return { dir, meta, spec: specOf(meta), weights: tensors };
}

/**
 * The member folders an ensemble's model.json lists: each a relative path to a folder inside the
 * ensemble's own (symbolic links followed), never the ensemble itself, each once.
 */
export async function memberDirs(dir: string, meta: EnsembleMeta): Promise<string[]> {
  const file = join(dir, 'model.json');
  if (!Array.isArray(meta.members)) throw new DataFileError(file, 'members is not a list of member folders');
  if (meta.members.length > MAX_ENSEMBLE_MEMBERS) throw new DataFileError(file, `lists ${meta.members.length} members, more than the ${MAX_ENSEMBLE_MEMBERS} allowed`);
  const dirs: string[] = [];
  for (const m of meta.members) {
    const memberDir = await realPathInside(dir, m, file, 'member');
    if (memberDir === dir) throw new DataFileError(file, `member "${m}" is the ensemble's own folder`, { code: 'PATH_OUTSIDE_FOLDER' });
    if (dirs.includes(memberDir)) throw new DataFileError(file, `member "${m}" is listed twice`);
    dirs.push(memberDir);
  }
  return dirs;
}

/** Loads an encoder or an ensemble folder. */
export async function loadModel(path: string): Promise<EncoderModel | EncoderEnsemble> {
  const dir = resolve(path);
  const meta = await readMeta(dir);
  if (meta.kind === 'encoder') return readEncoder(dir, meta);
  const members = await Promise.all(
    (await memberDirs(dir, meta)).map(async (memberDir) => {
      const memberMeta = await readMeta(memberDir);
      if (memberMeta.kind !== 'encoder') throw new DataFileError(join(memberDir, 'model.json'), 'an ensemble member must be an encoder');
      return readEncoder(memberDir, memberMeta);
    }),
  );
  if (members.length === 0) throw new DataFileError(join(dir, 'model.json'), 'an ensemble needs at least one member');
  const first = JSON.stringify([members[0].spec.input, members[0].spec.sessions]);
  for (const m of members) {
    if (JSON.stringify([m.spec.input, m.spec.sessions]) !== first) throw new DataFileError(join(m.dir, 'model.json'), 'ensemble members must share input space, sessions and neurons');
  }
  return { dir, meta, members };
}

/** The members of a model (one for a single encoder). */
export function membersOf(model: EncoderModel | EncoderEnsemble): EncoderModel[] {
  return 'members' in model ? model.members : [model];
}
