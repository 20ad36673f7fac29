/** Where the shipped demo models live: models/demo of the repository this CLI belongs to. */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
export const DEMO_MODELS = `${REPO_ROOT}models/demo`;

/** The demo prior, when it is there. */
export function defaultPrior(): string | undefined {
  const dir = `${DEMO_MODELS}/prior`;
  return existsSync(`${dir}/model.json`) ? dir : undefined;
}
