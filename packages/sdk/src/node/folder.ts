/** A folder on disk as the upload endpoints take it: its files, named by their paths under the folder's own name. */
import { openAsBlob } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { UploadFile } from '../upload.ts';

/**
 * Every file under `dir` (files are read from disk as the upload sends them, not loaded first).
 * Hidden entries (`.checkpoint/`, `.DS_Store`) stay home. Paths start with the folder's name,
 * which the service takes as a compact model's session and a dataset's default name.
 */
export async function readFolder(dir: string, options: { prefix?: string } = {}): Promise<UploadFile[]> {
  const root = resolve(dir);
  if (!(await stat(root)).isDirectory()) throw new Error(`${dir} is not a folder`);
  const prefix = options.prefix ?? basename(root);
  const files: UploadFile[] = [];
  const walk = async (folder: string, path: string): Promise<void> => {
    for (const entry of (await readdir(folder)).sort()) {
      if (entry.startsWith('.')) continue;
      const full = join(folder, entry);
      const inside = path ? `${path}/${entry}` : entry;
      if ((await stat(full)).isDirectory()) await walk(full, inside);
      else files.push({ path: inside, data: await openAsBlob(full) });
    }
  };
  await walk(root, prefix);
  if (files.length === 0) throw new Error(`${dir} holds no files`);
  return files;
}
