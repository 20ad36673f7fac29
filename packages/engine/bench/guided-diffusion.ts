/**
 * Where openai/guided-diffusion's source comes from for the PyTorch references (check:adm,
 * bench:gpu): kept in .cache/guided-diffusion (ignored by git, never committed), taken from
 * $EXCITE_GUIDED_DIFFUSION (a checkout), else extracted from a local git mirror
 * ($EXCITE_GUIDED_DIFFUSION_GIT, or the workplace mirror), else cloned from GitHub at the commit below.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gitMirror, materialize } from './source-cache.ts';

/** The commit of openai/guided-diffusion checked against (its last, 2022). */
export const GUIDED_DIFFUSION_COMMIT = '22e0df8183507e13a7813f8d38d51b072ca1e67c';
const GITHUB = 'https://github.com/openai/guided-diffusion.git';
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const GUIDED_DIFFUSION_DIR = path.join(ROOT, '.cache', 'guided-diffusion');

export const isCheckout = (dir: string) => existsSync(path.join(dir, 'guided_diffusion', 'unet.py'));

function localMirror(): string | undefined {
  return gitMirror(process.env.EXCITE_GUIDED_DIFFUSION_GIT ? [process.env.EXCITE_GUIDED_DIFFUSION_GIT] : ['/work/.mirror/openai+guided-diffusion/repo', '/work/.mirror/openai+guided-diffusion']);
}

/** Where guided-diffusion's source can come from without the network, or undefined. */
export function offlineSource(): string | undefined {
  const env = process.env.EXCITE_GUIDED_DIFFUSION;
  if (env) return isCheckout(env) ? env : undefined;
  if (isCheckout(GUIDED_DIFFUSION_DIR)) return GUIDED_DIFFUSION_DIR;
  return localMirror();
}

/** The directory of guided-diffusion's source, extracted or cloned into .cache on first use. */
export function guidedDiffusionSource(options: { allowClone?: boolean } = {}): string {
  const env = process.env.EXCITE_GUIDED_DIFFUSION;
  if (env) {
    if (!isCheckout(env)) throw new Error(`EXCITE_GUIDED_DIFFUSION=${env} is not a guided-diffusion checkout (no guided_diffusion/unet.py)`);
    return env;
  }
  if (isCheckout(GUIDED_DIFFUSION_DIR)) return GUIDED_DIFFUSION_DIR;
  mkdirSync(path.dirname(GUIDED_DIFFUSION_DIR), { recursive: true });
  const mirror = localMirror();
  if (mirror) {
    materialize(GUIDED_DIFFUSION_DIR, isCheckout, 'guided_diffusion/unet.py', (dir) => {
      const tar = execFileSync('git', ['--git-dir', mirror, 'archive', '--format=tar', 'HEAD'], { maxBuffer: 1 << 28 });
      execFileSync('tar', ['-x', '-C', dir], { input: tar });
      return `${execFileSync('git', ['--git-dir', mirror, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim()} from ${mirror}`;
    });
  } else if (options.allowClone) {
    materialize(GUIDED_DIFFUSION_DIR, isCheckout, 'guided_diffusion/unet.py', (dir) => {
      execFileSync('git', ['clone', '--quiet', GITHUB, dir], { stdio: ['ignore', 'ignore', 'inherit'] });
      execFileSync('git', ['-C', dir, 'checkout', '--quiet', GUIDED_DIFFUSION_COMMIT], { stdio: ['ignore', 'ignore', 'inherit'] });
      rmSync(path.join(dir, '.git'), { recursive: true, force: true });
      return `${GUIDED_DIFFUSION_COMMIT} from ${GITHUB}`;
    });
  } else {
    throw new Error(`guided-diffusion's source is not in ${GUIDED_DIFFUSION_DIR} and no local mirror was found (set EXCITE_GUIDED_DIFFUSION to a checkout)`);
  }
  return GUIDED_DIFFUSION_DIR;
}
