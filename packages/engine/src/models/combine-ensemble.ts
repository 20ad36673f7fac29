/**
 * One ensemble from several trained models (`excite ensemble`): every member of every model given,
 * copied into a new ensemble folder. A generator of more members makes MEIs that lean less on any
 * one member's idiosyncrasies (docs/benchmarks.md, Ground truth first), and a lab's models of the
 * same sessions are often trained apart (other seeds, other runs, snapshots of one training).
 */
import { realpath, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { DataFileError } from '../data/errors.ts';
import { pathExists } from '../data/paths.ts';
import { MAX_ENSEMBLE_MEMBERS, type EncoderModel, loadModel, membersOf, writeEncoder, writeEnsemble } from './model-dir.ts';

export interface CombineOptions {
  /** the ensemble's name in model.json (default: the output folder) */
  name?: string;
}

export interface CombineResult {
  dir: string;
  /** the new member folders, relative to dir, in order */
  members: string[];
  /** the member folders each came from, relative to the working directory (model.json's training.combined_from) */
  sources: string[];
}

/**
 * Writes `out` as an ensemble of the members of `models` (encoder or ensemble folders), in order.
 * Members must share the input space, sessions and neurons (as in any ensemble), and a member may
 * come only once. Nothing is written unless all of it can be: an existing `out` is refused, and the
 * folder is assembled beside it and renamed into place once it loads.
 */
export async function combineEnsemble(out: string, models: readonly string[], options: CombineOptions = {}): Promise<CombineResult> {
  if (models.length === 0) throw new Error('an ensemble needs at least one model');
  const dir = resolve(out);
  if (await pathExists(dir)) throw new Error(`${out} already exists: name a new folder for the ensemble`);
  const members: EncoderModel[] = [];
  for (const path of models) members.push(...membersOf(await loadModel(path)));
  if (members.length > MAX_ENSEMBLE_MEMBERS) throw new Error(`${members.length} members, more than the ${MAX_ENSEMBLE_MEMBERS} an ensemble may list`);
  const seen = new Set<string>();
  for (const m of members) {
    const key = await realpath(m.dir);
    if (seen.has(key)) throw new Error(`member ${m.dir} is given twice (it would count double in the ensemble's mean)`);
    seen.add(key);
  }
  const shared = (m: EncoderModel) => JSON.stringify([m.spec.input, m.spec.sessions]);
  const odd = members.find((m) => shared(m) !== shared(members[0]));
  if (odd) throw new DataFileError(join(odd.dir, 'model.json'), `has another input space, sessions or neurons than ${join(members[0].dir, 'model.json')}: ensemble members must share them`);

  const sources = members.map((m) => relative(process.cwd(), m.dir));
  const staging = join(dirname(dir), `.${basename(dir)}.partial-${process.pid}`);
  await rm(staging, { recursive: true, force: true });
  try {
    const name = options.name ?? out;
    const names = members.map((_, i) => `member-${i}`);
    // each member as it was (weights, training, metrics), named after its new place
    for (const [i, m] of members.entries()) await writeEncoder(join(staging, names[i]), m.spec, m.weights, { name: `${name}/${names[i]}`, training: m.meta.training, metrics: m.meta.metrics });
    await writeEnsemble(staging, names, { name, training: { combined_from: sources } });
    await loadModel(staging); // what was written reads back as one ensemble
    await rename(staging, dir);
    return { dir, members: names, sources };
  } catch (e) {
    await rm(staging, { recursive: true, force: true });
    throw e;
  }
}
