/**
 * Where tests find the macaque V4 data (docs/testing.md, The V4 data): $EXCITE_V4_DATA when set,
 * else a few fixed places outside the repository. Tests only: the product never
 * reads it.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const CANDIDATES = process.env.EXCITE_V4_DATA
  ? [process.env.EXCITE_V4_DATA]
  : [fileURLToPath(new URL('../../../../../shared/data/v4', import.meta.url)), '/work/shared/data/v4'];

/** The data folder, or undefined when it is absent (tests then skip and say why). */
export const V4_DATA: string | undefined = CANDIDATES.find((dir) => existsSync(dir));

const SKIP_REASON = `no V4 data at ${CANDIDATES.join(' or ')}; set EXCITE_V4_DATA to a copy of shared/data/v4`;
if (!V4_DATA) console.warn(`V4 data tests skipped: ${SKIP_REASON}`);

/** A suite title that says when and why the suite is skipped. */
export function v4Title(title: string): string {
  return V4_DATA ? title : `${title} (skipped: ${SKIP_REASON})`;
}
