/** The service's settings: where its data lives, which database, its limits. */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ARCHIVE_LIMITS, type ArchiveLimits } from '@excite/engine';

export interface Limits {
  /** runs one startRuns or startComparison call may create */
  maxBatchRuns: number;
  /** runs one queue job computes together (one batched engine call) */
  maxRunsPerJob: number;
  /** steps of one run */
  maxSteps: number;
  /** bytes of one uploaded file */
  maxUploadFileBytes: number;
  /** bytes of one upload in all */
  maxUploadBytes: number;
  /** files in one upload */
  maxUploadFiles: number;
  /** images in one dataset */
  maxDatasetImages: number;
  /** entries of an uploaded images.zip (images or not) */
  maxArchiveEntries: number;
  /** inflated bytes of one image in an images.zip */
  maxArchiveEntryBytes: number;
  /** inflated bytes of all images of an images.zip */
  maxArchiveBytes: number;
  /** inflated / compressed size of an images.zip entry over 1 MiB */
  maxArchiveRatio: number;
  /** items of one page */
  maxPageSize: number;
  /** nesting of fields in one GraphQL operation */
  maxQueryDepth: number;
  /**
   * cost of one GraphQL operation: the objects it may resolve plus what its fields cost the
   * database (graphql/operation-guard.ts)
   */
  maxQueryCost: number;
  /** cost one token's operations may add up to per minute (the bucket holds one minute's worth; per API process; 0: no budget) */
  queryCostPerMinute: number;
  /** aliased fields in one GraphQL operation (`a: runs { ... } b: runs { ... }`) */
  maxAliases: number;
  /** bytes of a GraphQL request body (HTTP) or message (WebSocket) */
  maxRequestBytes: number;
  /** requests per second per token, sustained (HTTP requests and WebSocket operations; per API process) */
  rateLimitPerSecond: number;
  /** requests a token may make at once above the sustained rate */
  rateLimitBurst: number;
  /** a GraphQL operation answers within this, or TIMEOUT (HTTP 503); over WebSocket too (a subscription: its start) (ms) */
  operationTimeoutMs: number;
  /** a client must send its request headers within this (ms) */
  headersTimeoutMs: number;
  /** a connection with nothing to send or receive is closed after this (ms; uploads in progress are not idle) */
  idleTimeoutMs: number;
  /** subscriptions one WebSocket connection may hold open */
  maxSubscriptionsPerConnection: number;
}

export const DEFAULT_LIMITS: Limits = {
  maxBatchRuns: 1000,
  maxRunsPerJob: 8,
  maxSteps: 5000,
  maxUploadFileBytes: 2 ** 30,
  maxUploadBytes: 2 * 2 ** 30,
  maxUploadFiles: 2000,
  maxDatasetImages: 20_000,
  maxArchiveEntries: ARCHIVE_LIMITS.maxEntries,
  maxArchiveEntryBytes: ARCHIVE_LIMITS.maxEntryBytes,
  maxArchiveBytes: ARCHIVE_LIMITS.maxTotalBytes,
  maxArchiveRatio: ARCHIVE_LIMITS.maxRatio,
  maxPageSize: 500,
  maxQueryDepth: 12,
  maxQueryCost: 25_000,
  queryCostPerMinute: 500_000,
  maxAliases: 20,
  maxRequestBytes: 1 << 20,
  rateLimitPerSecond: 100,
  rateLimitBurst: 300,
  operationTimeoutMs: 30_000,
  headersTimeoutMs: 15_000,
  idleTimeoutMs: 120_000,
  maxSubscriptionsPerConnection: 500,
};

/** The archive limits of the engine's image-archive reader. */
export const archiveLimits = (l: Limits): ArchiveLimits => ({ maxEntries: l.maxArchiveEntries, maxEntryBytes: l.maxArchiveEntryBytes, maxTotalBytes: l.maxArchiveBytes, maxRatio: l.maxArchiveRatio });

/** Limits set in the environment: EXCITE_LIMIT_<NAME> with the name in capitals and underscores (EXCITE_LIMIT_RATE_LIMIT_PER_SECOND=500). */
export function limitsFromEnv(env: NodeJS.ProcessEnv = process.env): Partial<Limits> {
  const out: Partial<Limits> = {};
  for (const name of Object.keys(DEFAULT_LIMITS) as (keyof Limits)[]) {
    const value = env[`EXCITE_LIMIT_${name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`];
    if (value === undefined || value === '') continue;
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0) throw new Error(`EXCITE_LIMIT_${name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()} must be a number >= 0, got "${value}"`);
    out[name] = n;
  }
  return out;
}

function envSeconds(name: string, fallback: number): number {
  const value = process.env[name];
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a number of seconds > 0, got "${value}"`);
  return n;
}

function envCount(name: string, fallback: number): number {
  const value = process.env[name];
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a whole number >= 0, got "${value}"`);
  return n;
}

export interface ServiceConfig {
  /** blobs, the embedded database and caches (default ./data) */
  dataDir: string;
  /** PostgreSQL instead of the embedded database */
  databaseUrl?: string;
  /** 0 picks a free port */
  port: number;
  host?: string;
  /** run a worker in this process (the embedded default; `excite serve --no-worker` for API-only processes) */
  worker: boolean;
  /** folder of demo models registered at start-up (absent models are skipped); false: none */
  demoModels: string | false;
  limits: Limits;
  /** how often the worker looks for jobs, seconds (pg-boss: at least 0.5) */
  pollSeconds: number;
  /**
   * a worker holds its runs' lease this long and renews it every third of it; a run whose lease
   * lapsed (its worker died) is taken over by another worker (EXCITE_LEASE_SECONDS, default 60)
   */
  leaseSeconds: number;
  /** a running job checkpoints its runs this often, so a retry resumes (EXCITE_CHECKPOINT_SECONDS, default 30) */
  checkpointSeconds: number;
  /** on shutdown a worker waits this long for the step in flight before it hands its runs back (EXCITE_SHUTDOWN_SECONDS, default 60) */
  shutdownSeconds: number;
  /**
   * compiled sessions a worker keeps between jobs, so jobs with the same generator and prior skip
   * compiling their graphs (EXCITE_SESSION_CACHE, default 4; 0: none). Each holds its graph's
   * weights on the device: about 2.2 GB per graph with ADM-256.
   */
  sessionCache: number;
  /**
   * leftovers of interrupted uploads and unreferenced blobs are removed at start-up once older
   * than this (storage/leftovers.ts; EXCITE_LEFTOVER_GRACE_SECONDS, default 3600)
   */
  leftoverGraceSeconds: number;
  log: (line: string) => void;
}

export const REPOSITORY_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const DEMO_MODELS = resolve(REPOSITORY_ROOT, 'models/demo');

export function serviceConfig(overrides: Partial<Omit<ServiceConfig, 'limits'>> & { limits?: Partial<Limits> } = {}): ServiceConfig {
  return {
    dataDir: resolve(overrides.dataDir ?? './data'),
    databaseUrl: overrides.databaseUrl ?? (process.env.DATABASE_URL || undefined),
    port: overrides.port ?? 4000,
    host: overrides.host,
    worker: overrides.worker ?? true,
    demoModels: overrides.demoModels ?? DEMO_MODELS,
    limits: { ...DEFAULT_LIMITS, ...limitsFromEnv(), ...overrides.limits },
    pollSeconds: overrides.pollSeconds ?? 0.5,
    leaseSeconds: overrides.leaseSeconds ?? envSeconds('EXCITE_LEASE_SECONDS', 60),
    checkpointSeconds: overrides.checkpointSeconds ?? envSeconds('EXCITE_CHECKPOINT_SECONDS', 30),
    shutdownSeconds: overrides.shutdownSeconds ?? envSeconds('EXCITE_SHUTDOWN_SECONDS', 60),
    sessionCache: overrides.sessionCache ?? envCount('EXCITE_SESSION_CACHE', 4),
    leftoverGraceSeconds: overrides.leftoverGraceSeconds ?? envSeconds('EXCITE_LEFTOVER_GRACE_SECONDS', 3600),
    log: overrides.log ?? ((line) => console.error(line)),
  };
}
