/**
 * The checkpoint folder every trainer writes. A crash at any moment leaves either the previous
 * checkpoint or the new one, whole: each write puts all tensor files into a fresh generation
 * folder and syncs them, then replaces state.json (written aside, synced, renamed), which names
 * the generation it belongs to. Only then are older generations deleted.
 *
 *   DIR/state.json             { generation, files, state }
 *   DIR/gen-<n>/<file>.safetensors
 */
import { mkdir, open, readFile, readdir, rename, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { encodeSafetensors, readSafetensors } from '../data/safetensors.ts';
import type { NdArray } from '../onnx/ndarray.ts';

export interface CheckpointContent<S = unknown> {
  /** JSON-serializable state */
  state: S;
  /** tensor files by name (without extension) */
  tensors: Record<string, ReadonlyMap<string, NdArray>>;
}

interface StateFile {
  generation: number;
  files: string[];
  state: unknown;
}

const generationDir = (dir: string, generation: number) => join(dir, `gen-${generation}`);

/** Writes bytes and flushes them to the disk before returning (a rename after it is then safe). */
async function writeSynced(file: string, bytes: Uint8Array | string): Promise<void> {
  const handle = await open(file, 'w');
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Makes a folder's entries (created files, renames) durable where the platform can sync folders. */
async function syncFolder(dir: string): Promise<void> {
  // Windows cannot open a folder, some file systems refuse to sync one: the rename stays atomic
  const handle = await open(dir, 'r').catch(() => undefined);
  if (!handle) return;
  try {
    await handle.sync().catch(() => undefined);
  } finally {
    await handle.close();
  }
}

async function readStateFile(dir: string): Promise<StateFile | undefined> {
  const file = join(dir, 'state.json');
  if (!existsSync(file)) return undefined;
  const parsed = JSON.parse(await readFile(file, 'utf8')) as Partial<StateFile>;
  if (!Number.isInteger(parsed.generation) || !Array.isArray(parsed.files)) throw new Error(`the checkpoint in ${dir} was written by an older version of excite: delete it to start over`);
  return parsed as StateFile;
}

export async function writeCheckpoint(dir: string, content: CheckpointContent): Promise<void> {
  await mkdir(dir, { recursive: true });
  const generation = ((await readStateFile(dir))?.generation ?? 0) + 1;
  const folder = generationDir(dir, generation);
  // a generation left half-written by a crash is not referenced by state.json: start it afresh
  await rm(folder, { recursive: true, force: true });
  await mkdir(folder);
  const files = Object.keys(content.tensors);
  // encoded one file at a time so that only one file's bytes are held at once
  for (const name of files) await writeSynced(join(folder, `${name}.safetensors`), encodeSafetensors(content.tensors[name]));
  await syncFolder(folder);
  await syncFolder(dir);
  const state: StateFile = { generation, files, state: content.state };
  await writeSynced(join(dir, 'state.json.tmp'), JSON.stringify(state));
  await rename(join(dir, 'state.json.tmp'), join(dir, 'state.json'));
  await syncFolder(dir);
  for (const entry of await readdir(dir)) if (/^gen-\d+$/.test(entry) && entry !== `gen-${generation}`) await rm(join(dir, entry), { recursive: true, force: true });
}

/** The checkpoint in `dir`, or undefined when none was completed there. */
export async function readCheckpoint<S = unknown>(dir: string): Promise<{ state: S; tensors: Record<string, Map<string, NdArray>> } | undefined> {
  const saved = await readStateFile(dir);
  if (!saved) return undefined;
  const folder = generationDir(dir, saved.generation);
  const read = await Promise.all(saved.files.map(async (name) => [name, (await readSafetensors(join(folder, `${name}.safetensors`))).tensors] as const));
  return { state: saved.state as S, tensors: Object.fromEntries(read) };
}
