/** Trainings on PostgreSQL (EXCITE_TEST_DATABASE_URL): training-suite.ts. */
import { describe, it, vi } from 'vitest';
import { POSTGRES_SKIP_MESSAGE, POSTGRES_URL } from './testing/harness.ts';
import { trainingSuite } from './training-suite.ts';

vi.setConfig({ testTimeout: 180_000, hookTimeout: 120_000 });

if (POSTGRES_URL) trainingSuite('postgres');
else describe.skip('trainings on postgres', () => it(POSTGRES_SKIP_MESSAGE, () => undefined));
