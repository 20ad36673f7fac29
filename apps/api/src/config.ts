/** The service's settings: where its data lives, which database, its limits. */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

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
  /** items of one page */
  maxPageSize: number;
}

export const DEFAULT_LIMITS: Limits = {
  maxBatchRuns: 1000,
  maxRunsPerJob: 8,
  maxSteps: 5000,
  maxUploadFileBytes: 2 ** 30,
  maxUploadBytes: 2 * 2 ** 30,
  maxUploadFiles: 2000,
  maxDatasetImages: 20_000,
  maxPageSize: 500,
};

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
    limits: { ...DEFAULT_LIMITS, ...overrides.limits },
    pollSeconds: overrides.pollSeconds ?? 0.5,
    log: overrides.log ?? ((line) => console.error(line)),
  };
}
