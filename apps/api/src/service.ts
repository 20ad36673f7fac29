/**
 * The service, assembled: database (migrated), blobs, event bus, job queue, demo models, progress
 * hub, a worker (embedded default) and the HTTP/WebSocket server. `excite serve` runs it;
 * `excite worker` runs only the worker part against a shared PostgreSQL.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { TokenVerifier, ensureInitialAdmin } from './auth/tokens.ts';
import type { ServiceConfig } from './config.ts';
import { type Database, openDatabase } from './db/database.ts';
import { type Bus, LocalBus, PostgresBus } from './events/bus.ts';
import { ProgressHub } from './events/progress-hub.ts';
import { type HttpServer, startHttpServer } from './http/server.ts';
import { JobQueue } from './jobs/queue.ts';
import { Worker } from './jobs/worker.ts';
import { registerDemoModels } from './registry/demo-models.ts';
import type { Services } from './services.ts';
import { BlobStore } from './storage/blobs.ts';
import { collectLeftovers } from './storage/leftovers.ts';

export interface Service extends Services {
  url: string;
  port: number;
  worker?: Worker;
  /** the embedded database's first start: the admin token it created (print it once; only its hash is kept) */
  initialAdminToken?: string;
  stop(): Promise<void>;
}

/** Opens the database and applies the migrations (what `excite migrate` does, and every start). */
export async function openMigrated(config: Pick<ServiceConfig, 'dataDir' | 'databaseUrl'>): Promise<Database> {
  await mkdir(config.dataDir, { recursive: true });
  const database = await openDatabase(config);
  try {
    await database.migrate();
  } catch (e) {
    await database.close();
    throw new Error(`cannot apply the database migrations: ${(e as Error).message}`, { cause: e });
  }
  return database;
}

function busFor(database: Database): Bus {
  return database.kind === 'postgres' ? new PostgresBus(database) : new LocalBus();
}

/** Closes what was opened, last first; every step runs even when one fails. */
async function closeAll(steps: (() => Promise<void> | void)[], log: (line: string) => void): Promise<void> {
  for (const step of steps.reverse()) {
    try {
      await step();
    } catch (e) {
      log(`excite: while stopping: ${(e as Error).message}`);
    }
  }
}

/** What every excite process opens: the migrated database, the blobs, the bus and the queue. */
async function openCore(config: ServiceConfig, cleanup: (() => Promise<void> | void)[]) {
  const database = await openMigrated(config);
  cleanup.push(() => database.close());
  const blobs = new BlobStore(join(config.dataDir, 'blobs'));
  // embedded, this process is the only writer: what is in tmp/ a crash left behind
  if (database.kind === 'pglite') await blobs.clean();
  // interrupted uploads and materializations, unreferenced blobs (what "unreferenced" means: storage/leftovers.ts)
  try {
    const left = await collectLeftovers({ database, blobs, dataDir: config.dataDir, graceSeconds: config.leftoverGraceSeconds });
    if (left.uploads + left.cacheFolders + left.blobRows + left.blobFiles > 0) {
      config.log(`excite: removed what an interrupted run left: ${left.uploads} upload folder(s), ${left.cacheFolders} cache folder(s), ${left.blobRows + left.blobFiles} unreferenced blob(s)`);
    }
  } catch (e) {
    config.log(`excite: could not collect leftovers (the service starts anyway): ${(e as Error).message}`);
  }
  const bus = busFor(database);
  cleanup.push(() => bus.close());
  const queue = await JobQueue.start(database);
  cleanup.push(() => queue.stop());
  return { database, blobs, bus, queue };
}

export async function startService(config: ServiceConfig): Promise<Service> {
  const cleanup: (() => Promise<void> | void)[] = [];
  try {
    const { database, blobs, bus, queue } = await openCore(config, cleanup);
    const hub = new ProgressHub(bus);
    await hub.start();
    cleanup.push(() => hub.close());
    if (config.demoModels) await registerDemoModels({ database, blobs }, config.demoModels, config.log);
    let worker: Worker | undefined;
    if (config.worker) {
      worker = new Worker({ database, blobs, bus, queue, config });
      await worker.start();
      cleanup.push(() => worker!.stop());
    }
    // the embedded default is ready to use at once: its first start makes an admin token (PostgreSQL: excite token create)
    const initialAdminToken = database.kind === 'pglite' ? await ensureInitialAdmin(database) : undefined;
    const services: Services = { config, database, blobs, bus, hub, queue, tokens: new TokenVerifier(database.db), wakeWorker: () => worker?.wake(), localWorker: worker && { name: worker.name, device: worker.device } };
    const http: HttpServer = await startHttpServer(services, { port: config.port, host: config.host });
    cleanup.push(() => http.stop());
    let stopping: Promise<void> | undefined;
    return {
      ...services,
      url: http.url,
      port: http.port,
      worker,
      initialAdminToken,
      stop: () => (stopping ??= closeAll(cleanup, config.log)),
    };
  } catch (e) {
    await closeAll(cleanup, config.log);
    throw e;
  }
}

export interface WorkerProcess {
  worker: Worker;
  stop(): Promise<void>;
}

/** A worker without an API: it shares the jobs, blobs and events of the PostgreSQL it is given. */
export async function startWorkerProcess(config: ServiceConfig): Promise<WorkerProcess> {
  if (!config.databaseUrl) {
    throw new Error('excite worker needs DATABASE_URL: the embedded database belongs to the one excite serve process, whose own worker runs its jobs');
  }
  const cleanup: (() => Promise<void> | void)[] = [];
  try {
    const core = await openCore(config, cleanup);
    const worker = new Worker({ ...core, config });
    await worker.start();
    cleanup.push(() => worker.stop());
    let stopping: Promise<void> | undefined;
    return { worker, stop: () => (stopping ??= closeAll(cleanup, config.log)) };
  } catch (e) {
    await closeAll(cleanup, config.log);
    throw e;
  }
}
