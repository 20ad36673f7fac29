/**
 * Where sinzlab/energy-guided-diffusion's source (the EGG paper's own code) comes from for
 * bench:egg-speed: kept in .cache/energy-guided-diffusion (ignored by git, never committed), taken
 * from $EXCITE_EGG_AUTHORS (a checkout), else extracted from a local git mirror
 * ($EXCITE_EGG_AUTHORS_GIT, or a mirror folder under /work/.mirror), else cloned from GitHub at the commit below
 * when allowed. The same pattern as guided-diffusion.ts.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gitMirror, materialize } from './source-cache.ts';

/** The commit of sinzlab/energy-guided-diffusion measured against (its last, 2023). */
export const EGG_AUTHORS_COMMIT = '357433e';
const GITHUB = 'https://github.com/sinzlab/energy-guided-diffusion.git';
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const EGG_AUTHORS_DIR = path.join(ROOT, '.cache', 'energy-guided-diffusion');

export const isAuthorsCheckout = (dir: string) => existsSync(path.join(dir, 'egg', 'guided_diffusion', 'gaussian_diffusion.py'));

function localMirror(): string | undefined {
  return gitMirror(process.env.EXCITE_EGG_AUTHORS_GIT ? [process.env.EXCITE_EGG_AUTHORS_GIT] : ['/work/.mirror/sinzlab+energy-guided-diffusion/repo', '/work/.mirror/sinzlab+energy-guided-diffusion']);
}


/**
 * The directory of the authors' source, extracted or cloned into .cache on first use, or a
 * sentence saying why there is none (the bench then skips the baseline).
 */
export function eggAuthorsSource(options: { allowClone?: boolean } = {}): { dir: string; origin: string } | { missing: string } {
  const env = process.env.EXCITE_EGG_AUTHORS;
  if (env) return isAuthorsCheckout(env) ? { dir: env, origin: env } : { missing: `EXCITE_EGG_AUTHORS=${env} is not a checkout of sinzlab/energy-guided-diffusion (no egg/guided_diffusion/gaussian_diffusion.py)` };
  const origin = () => {
    try {
      return readFileSync(path.join(EGG_AUTHORS_DIR, 'EXCITE_SOURCE'), 'utf8').trim();
    } catch {
      return EGG_AUTHORS_DIR;
    }
  };
  if (isAuthorsCheckout(EGG_AUTHORS_DIR)) return { dir: EGG_AUTHORS_DIR, origin: origin() };
  mkdirSync(path.dirname(EGG_AUTHORS_DIR), { recursive: true });
  const mirror = localMirror();
  try {
    if (mirror) {
      materialize(EGG_AUTHORS_DIR, isAuthorsCheckout, 'egg/guided_diffusion/gaussian_diffusion.py', (dir) => {
        // the sampler's package only: a mirror may lack the large notebooks' blobs
        const tar = execFileSync('git', ['--git-dir', mirror, 'archive', '--format=tar', 'HEAD', 'egg', 'README.md', 'setup.py'], { maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'ignore'] });
        execFileSync('tar', ['-x', '-C', dir], { input: tar });
        return `${execFileSync('git', ['--git-dir', mirror, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim()} from ${mirror}`;
      });
    } else if (options.allowClone) {
      materialize(EGG_AUTHORS_DIR, isAuthorsCheckout, 'egg/guided_diffusion/gaussian_diffusion.py', (dir) => {
        execFileSync('git', ['clone', '--quiet', GITHUB, dir], { stdio: ['ignore', 'ignore', 'inherit'] });
        execFileSync('git', ['-C', dir, 'checkout', '--quiet', EGG_AUTHORS_COMMIT], { stdio: ['ignore', 'ignore', 'inherit'] });
        rmSync(path.join(dir, '.git'), { recursive: true, force: true });
        return `${EGG_AUTHORS_COMMIT} from ${GITHUB}`;
      });
    } else {
      return { missing: `the authors' code (sinzlab/energy-guided-diffusion) is not in ${EGG_AUTHORS_DIR} and no local git mirror was found: set EXCITE_EGG_AUTHORS to a checkout or EXCITE_EGG_AUTHORS_GIT to a git directory, or pass --clone` };
    }
  } catch (e) {
    return { missing: `could not extract the authors' code: ${(e as Error).message.split('\n')[0]}` };
  }
  return { dir: EGG_AUTHORS_DIR, origin: origin() };
}
