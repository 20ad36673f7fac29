/** What the benchmark scripts share: their flags, their log (stderr: stdout is for figures), and the Python that runs PyTorch. */
import { existsSync } from 'node:fs';

const args = process.argv.slice(2);

/** The value after `name` on the command line, else `fallback`. */
export const option = (name: string, fallback?: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};

/** Whether a flag without a value was given. */
export const flag = (name: string): boolean => args.includes(name);

/** A comma-separated flag as a list. */
export const list = (name: string, fallback: string): string[] => option(name, fallback)!.split(',').map((s) => s.trim()).filter(Boolean);

export const log = (line: string): void => console.error(line);

/** Debian's python3 (with python3-torch), or $EXCITE_TORCH_PYTHON. */
export const TORCH_PYTHON = process.env.EXCITE_TORCH_PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
