/** The closed loop end to end on PostgreSQL 15 (EXCITE_TEST_DATABASE_URL; locally `eval "$(.ci/postgres.sh start)"`): closed-loop-suite.ts. */
import { describe, it, vi } from 'vitest';
import { closedLoopSuite } from './closed-loop-suite.ts';
import { POSTGRES_SKIP_MESSAGE, POSTGRES_URL } from './testing/harness.ts';

vi.setConfig({ testTimeout: 120_000, hookTimeout: 300_000 });

if (POSTGRES_URL) closedLoopSuite('postgres');
else describe.skip(POSTGRES_SKIP_MESSAGE, () => it('closed loop on PostgreSQL', () => {}));
