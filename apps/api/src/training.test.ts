/** Trainings on the embedded database (PGlite): training-suite.ts. */
import { vi } from 'vitest';
import { trainingSuite } from './training-suite.ts';

// this suite's time limit: three tiny trainings (demo preset, 40 images, 1-2 epochs) and a GA run: about 30 s on a loaded 2-core machine
vi.setConfig({ testTimeout: 180_000, hookTimeout: 120_000 });

trainingSuite('pglite');
