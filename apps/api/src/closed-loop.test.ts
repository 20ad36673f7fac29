/** The closed loop end to end on the embedded database (PGlite): closed-loop-suite.ts. */
import { vi } from 'vitest';
import { closedLoopSuite } from './closed-loop-suite.ts';

vi.setConfig({ testTimeout: 120_000, hookTimeout: 300_000 });

closedLoopSuite('pglite');
