/** The service end to end on the embedded database (PGlite): service-suite.ts. */
import { serviceSuite } from './service-suite.ts';

serviceSuite('pglite');
