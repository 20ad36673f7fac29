/**
 * Paths a file names (an ensemble's members, a stored file's path in its model): relative, and
 * inside the folder once resolved, symbolic links followed. Anything else is refused with
 * PATH_OUTSIDE_FOLDER before a byte is read or written there.
 */
import { access, realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { DataFileError } from './errors.ts';

/** Whether anything exists at `path` (symbolic links followed). */
export const pathExists = (path: string): Promise<boolean> => access(path).then(
  () => true,
  () => false,
);

const within = (root: string, path: string) => {
  const r = relative(root, path);
  return r === '' || (!isAbsolute(r) && r !== '..' && !r.startsWith(`..${sep}`));
};

/**
 * `path` resolved against `root`, when it is a relative path that stays inside `root` (lexically).
 * `file` names the file that holds the path, in errors.
 */
export function pathInside(root: string, path: unknown, file: string, what = 'path'): string {
  if (typeof path !== 'string' || path === '' || path.includes('\0')) throw new DataFileError(file, `${what} ${JSON.stringify(path)} is not a path`, { code: 'PATH_OUTSIDE_FOLDER' });
  // Windows drive letters and backslashes are refused on every platform: the same files register everywhere
  if (isAbsolute(path) || /^[a-zA-Z]:/.test(path) || path.includes('\\')) throw new DataFileError(file, `${what} "${path}" is not a relative path inside the folder`, { code: 'PATH_OUTSIDE_FOLDER' });
  const full = resolve(root, path);
  if (!within(resolve(root), full)) throw new DataFileError(file, `${what} "${path}" leads outside the folder`, { code: 'PATH_OUTSIDE_FOLDER' });
  return full;
}

/** pathInside, and once symbolic links are followed the path (if it exists) is still inside `root`. */
export async function realPathInside(root: string, path: unknown, file: string, what = 'path'): Promise<string> {
  const full = pathInside(root, path, file, what);
  const real = await realpath(full).catch(() => undefined);
  if (real !== undefined && !within(await realpath(root), real)) throw new DataFileError(file, `${what} "${path as string}" leads outside the folder (through a symbolic link)`, { code: 'PATH_OUTSIDE_FOLDER' });
  return full;
}
