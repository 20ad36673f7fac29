/**
 * Reference code (the PyTorch side of a benchmark) kept in .cache: where a local git mirror is,
 * and filling a cache folder atomically. guided-diffusion.ts and egg-authors-source.ts use both.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** The first of `candidates` that is a git directory with a commit, if any. */
export function gitMirror(candidates: readonly string[]): string | undefined {
  return candidates.find((dir) => {
    try {
      execFileSync('git', ['--git-dir', dir, 'rev-parse', '--verify', '--quiet', 'HEAD^{commit}'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * Fills `dest` atomically (another process may be doing the same): `fill` writes into a fresh
 * folder and returns where the code came from, recorded in EXCITE_SOURCE; `isCheckout` says
 * whether a folder holds what is needed (`need` names it in the error).
 */
export function materialize(dest: string, isCheckout: (dir: string) => boolean, need: string, fill: (dir: string) => string): void {
  const part = `${dest}.part-${process.pid}`;
  rmSync(part, { recursive: true, force: true });
  mkdirSync(part, { recursive: true });
  try {
    const origin = fill(part);
    writeFileSync(path.join(part, 'EXCITE_SOURCE'), `${origin}\n`);
    if (!isCheckout(part)) throw new Error(`${origin} holds no ${need}`);
    renameSync(part, dest);
  } catch (e) {
    if (!isCheckout(dest)) throw e;
  } finally {
    rmSync(part, { recursive: true, force: true });
  }
}
