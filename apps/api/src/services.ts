/** What request handlers and resolvers use of a running service. */
import type { TokenVerifier } from './auth/tokens.ts';
import type { ServiceConfig } from './config.ts';
import type { Database } from './db/database.ts';
import type { Bus } from './events/bus.ts';
import type { ProgressHub } from './events/progress-hub.ts';
import type { JobQueue } from './jobs/queue.ts';
import type { BlobStore } from './storage/blobs.ts';

export interface Services {
  config: ServiceConfig;
  database: Database;
  blobs: BlobStore;
  bus: Bus;
  hub: ProgressHub;
  queue: JobQueue;
  /** bearer tokens to principals */
  tokens: TokenVerifier;
  /** tells a worker in this process that jobs were queued (no-op without one) */
  wakeWorker(): void;
  /** the worker in this process (excite serve's embedded default), if any */
  localWorker?: { name: string; device: string };
}
