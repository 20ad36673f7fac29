/**
 * The Python that reference tests call: Debian's /usr/bin/python3 (where apt installs python3-torch
 * and python3-onnx; a pyenv python3 on PATH lacks them), and whether it can import given modules.
 */
import { execFileSync } from 'node:child_process';

export const PYTHON = '/usr/bin/python3';

/** Whether PYTHON imports every one of `modules` (comma-separated, as Python's import statement takes them). */
export function pythonHas(modules: string): boolean {
  try {
    execFileSync(PYTHON, ['-c', `import ${modules}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
