/**
 * The demo models (models/demo: attention-train, attention-val, gaussian-cross, prior) are
 * registered at start-up, so a fresh `npm start` can synthesize at once. A model that is absent or
 * incomplete (still training) is skipped with a line in the log; registering one that is already
 * registered is a no-op (the same files register once), so every start picks up new ones.
 */
import { join } from 'node:path';
import { pathExists } from '@excite/engine';
import { type Registry, registerModelFolder } from './register-model.ts';

export const DEMO_MODEL_NAMES = ['attention-train', 'attention-val', 'gaussian-cross', 'prior'] as const;

export async function registerDemoModels(registry: Registry, dir: string, log: (line: string) => void): Promise<void> {
  for (const name of DEMO_MODEL_NAMES) {
    const folder = join(dir, name);
    if (!(await pathExists(join(folder, 'model.json')))) {
      log(`excite: demo model ${name} is not in ${dir} yet (npm run train:demo / train:prior): skipped`);
      continue;
    }
    try {
      const { row, created } = await registerModelFolder(registry, folder, { name, source: 'demo' });
      if (created) log(`excite: registered the demo ${row.kind} ${name}`);
    } catch (e) {
      log(`excite: demo model ${name} was not registered: ${(e as Error).message}`);
    }
  }
}
