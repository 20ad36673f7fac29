/**
 * A real service for tests: on a free port, over PGlite (a fresh data directory, started from a
 * cached initialized cluster: PGlite's initdb takes ~8 s) or over PostgreSQL
 * (EXCITE_TEST_DATABASE_URL; each service gets a fresh database that is dropped afterwards), with
 * HTTP and graphql-ws clients (Node 20 has no global WebSocket: `ws` is passed in) that send an
 * admin token (`token`); `createToken` makes tokens of other roles, and each client call takes
 * another token (or null: none) for the tests of auth.
 */
import { existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Client, createClient } from 'graphql-ws';
import pg from 'pg';
import WebSocket from 'ws';
import { type TokenRole, createToken } from '../auth/tokens.ts';
import { type Limits, type ServiceConfig, serviceConfig } from '../config.ts';
import { MIGRATIONS_FOLDER, openDatabase } from '../db/database.ts';
import { JobQueue } from '../jobs/queue.ts';
import { type Service, startService } from '../service.ts';

export const POSTGRES_URL = process.env.EXCITE_TEST_DATABASE_URL || undefined;
export const POSTGRES_SKIP_MESSAGE = 'EXCITE_TEST_DATABASE_URL is not set: the PostgreSQL tests are skipped (.ci/run starts a PostgreSQL 15 and sets it; locally: eval "$(.ci/postgres.sh start)")';

export type Backend = 'pglite' | 'postgres';

/** A PostgreSQL database of its own, dropped by `drop`. */
export async function freshPostgresDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  if (!POSTGRES_URL) throw new Error(POSTGRES_SKIP_MESSAGE);
  const name = `excite_test_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: POSTGRES_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/**
 * Another PostgreSQL session holding `table` locked (ACCESS EXCLUSIVE) until `release`: the
 * service's statements on it wait on the server, so an operation outlasts any time limit on a busy
 * machine or an idle one (an empty database otherwise answers within a millisecond or two).
 */
export async function lockTable(databaseUrl: string, table: string): Promise<{ release: () => Promise<void> }> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  await client.query('BEGIN');
  await client.query(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`);
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      try {
        await client.query('COMMIT');
      } finally {
        await client.end();
      }
    },
  };
}

/**
 * An initialized, migrated PGlite cluster at `dir`: a copy of a template made once per PGlite
 * version and migration set (initdb alone takes ~8 s in WASM, migrations and pg-boss's schema
 * ~2.5 s more; a copy takes a fraction of a second).
 */
export async function initializedPglite(dir: string): Promise<void> {
  // the package's own package.json is not exported: find it beside the entry point
  const entry = fileURLToPath(import.meta.resolve('@electric-sql/pglite'));
  const { version } = JSON.parse(await readFile(join(dirname(entry), '..', 'package.json'), 'utf8')) as { version: string };
  const migrations = createHash('sha256')
    .update(await readFile(join(MIGRATIONS_FOLDER, 'meta', '_journal.json')))
    .update(await readFile(fileURLToPath(import.meta.resolve('pg-boss/package.json'))))
    .digest('hex')
    .slice(0, 12);
  const template = join(tmpdir(), `excite-pglite-${version}-${migrations}`);
  if (!existsSync(template)) {
    const building = `${template}.${process.pid}`;
    await rm(building, { recursive: true, force: true });
    const database = await openDatabase({ dataDir: building });
    await database.migrate();
    await (await JobQueue.start(database)).stop();
    await database.close();
    await rename(join(building, 'pglite'), template).catch(async (e) => {
      if (!existsSync(template)) throw e; // another test file made it meanwhile
    });
    await rm(building, { recursive: true, force: true });
  }
  await cp(template, dir, { recursive: true });
}

export interface GraphQLResponse<T> {
  status: number;
  data?: T;
  errors?: { message: string; extensions?: { code?: string } & Record<string, unknown> }[];
}

export interface UploadFile {
  path: string;
  bytes: Uint8Array;
}

/** Which token a call sends: the harness's admin token unless given (null: no Authorization header). */
export interface AsToken {
  token?: string | null;
}

/** Clients of a running service (in this process or another) that send `token` unless told otherwise. */
export interface ServiceClient {
  url: string;
  /** the token every call below sends unless told otherwise */
  token: string;
  gql<T = Record<string, any>>(query: string, variables?: Record<string, unknown>, as?: AsToken): Promise<GraphQLResponse<T>>;
  /** `gql` that fails the test on errors */
  ok<T = Record<string, any>>(query: string, variables?: Record<string, unknown>, as?: AsToken): Promise<T>;
  /** a graphql-ws client with the token */
  ws: Client;
  /** a graphql-ws client with another token (null: none); dispose it after use */
  wsClient(as: AsToken): Client;
  /** every event of a subscription until it completes */
  collect<T = Record<string, any>>(query: string, variables?: Record<string, unknown>, onEvent?: (event: T) => void): Promise<T[]>;
  upload(path: '/upload/model' | '/upload/dataset', files: UploadFile[], fields?: Record<string, string>, as?: AsToken): Promise<{ status: number; body: any }>;
  /** fetch of a path of the service (a blob's url) with the token */
  fetch(path: string, init?: RequestInit & AsToken): Promise<Response>;
}

export interface TestService extends ServiceClient {
  service: Service;
  dataDir: string;
  /** PostgreSQL: the test's own database */
  databaseUrl?: string;
  /** a new token with `role` */
  createToken(role: TokenRole, name?: string): Promise<string>;
  /** rows of a table (no partial rows: counts before and after a refused call) */
  count(table: string): Promise<number>;
  /** what the service logged */
  log: string[];
  stop(): Promise<void>;
}

export interface TestServiceOptions {
  limits?: Partial<Limits>;
  demoModels?: string | false;
  worker?: boolean;
  /** other settings of the service (lease, checkpoint interval) */
  config?: Partial<Pick<ServiceConfig, 'leaseSeconds' | 'checkpointSeconds' | 'shutdownSeconds' | 'pollSeconds'>>;
}

/** Clients of the service at `url` (http://host:port) with `token`; `describe` adds to error messages (a log). */
export function serviceClient(url: string, token: string, describe: () => string = () => ''): ServiceClient {
  const bearer = (as?: AsToken): Record<string, string> => {
    const t = as && 'token' in as ? as.token : token;
    return t === null || t === undefined ? {} : { authorization: `Bearer ${t}` };
  };
  const wsClient = (as: AsToken) =>
    createClient({
      url: `${url.replace(/^http/, 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      lazy: true,
      connectionParams: () => {
        const { authorization } = bearer(as);
        return authorization ? { Authorization: authorization } : {};
      },
    });
  const ws = wsClient({ token });
  const gql = async <T>(query: string, variables?: Record<string, unknown>, as?: AsToken): Promise<GraphQLResponse<T>> => {
    const res = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(as) }, body: JSON.stringify({ query, variables }) });
    return { status: res.status, ...((await res.json()) as object) };
  };
  return {
    url,
    token,
    gql,
    async ok<T>(query: string, variables?: Record<string, unknown>, as?: AsToken) {
      const r = await gql<T>(query, variables, as);
      if (r.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(r.errors)}${describe()}`);
      return r.data!;
    },
    ws,
    wsClient,
    async collect<T>(query: string, variables?: Record<string, unknown>, onEvent?: (event: T) => void) {
      const events: T[] = [];
      for await (const result of ws.iterate<T>({ query, variables })) {
        if (result.errors?.length) throw Object.assign(new Error(result.errors.map((e) => e.message).join('; ')), { errors: result.errors });
        events.push(result.data as T);
        onEvent?.(result.data as T);
      }
      return events;
    },
    async upload(path, files, fields = {}, as?: AsToken) {
      const form = new FormData();
      for (const [k, v] of Object.entries(fields)) form.append(k, v);
      for (const f of files) form.append('file', new Blob([f.bytes]), f.path);
      const res = await fetch(`${url}${path}`, { method: 'POST', body: form, headers: bearer(as) });
      return { status: res.status, body: await res.json() };
    },
    fetch(path: string, init: RequestInit & AsToken = {}) {
      const { token: _, ...rest } = init;
      return fetch(`${url}${path}`, { ...rest, headers: { ...(rest.headers as Record<string, string>), ...bearer(init) } });
    },
  };
}

export async function startTestService(backend: Backend, options: TestServiceOptions = {}): Promise<TestService> {
  const dataDir = await mkdtemp(join(tmpdir(), 'excite-service-'));
  let drop: (() => Promise<void>) | undefined;
  let databaseUrl: string | undefined;
  if (backend === 'postgres') ({ url: databaseUrl, drop } = await freshPostgresDatabase());
  else await initializedPglite(join(dataDir, 'pglite'));
  const lines: string[] = [];
  const service = await startService(
    serviceConfig({
      dataDir,
      databaseUrl: databaseUrl ?? '',
      port: 0,
      host: '127.0.0.1',
      demoModels: options.demoModels ?? false,
      worker: options.worker ?? true,
      limits: options.limits,
      ...options.config,
      log: (line) => lines.push(line),
    }),
  );
  const newToken = async (role: TokenRole, name = `test ${role}`) => (await createToken(service.database.db, role, name)).token;
  const token = service.initialAdminToken ?? (await newToken('admin', 'test harness'));
  const client = serviceClient(service.url, token, () => `\nservice log:\n${lines.join('\n')}`);
  return {
    ...client,
    service,
    dataDir,
    databaseUrl,
    createToken: newToken,
    log: lines,
    async count(table: string) {
      const { rows } = await service.database.executeSql(`SELECT count(*)::int AS n FROM ${table}`);
      return rows[0].n as number;
    },
    async stop() {
      await client.ws.dispose();
      await service.stop();
      await drop?.();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** The files of a folder, as an upload sends them (paths inside `prefix`). */
export async function folderFiles(dir: string, prefix = ''): Promise<UploadFile[]> {
  const out: UploadFile[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const entry of await readdir(d)) {
      const path = join(d, entry);
      if ((await stat(path)).isDirectory()) await walk(path);
      else out.push({ path: join(prefix, relative(dir, path)), bytes: await readFile(path) });
    }
  };
  await walk(dir);
  return out;
}

export async function tempDir(label: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `excite-${label}-`));
  await mkdir(dir, { recursive: true });
  return dir;
}
