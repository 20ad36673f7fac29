/**
 * The database behind the service: an embedded PGlite in `<data>/pglite` by default, a PostgreSQL
 * server when DATABASE_URL is set. Everything above this file sees one interface: a Drizzle
 * database over the same schema (db/schema.ts), raw SQL for the job queue (`executeSql`, the
 * adapter pg-boss takes), transactions that hand both to their body, and the same drizzle-kit
 * migrations. Only opening, transactions and LISTEN differ per driver, and only here.
 */
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite, type Transaction as PGliteTransaction } from '@electric-sql/pglite';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import * as schema from './schema.ts';

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

export interface SqlResult {
  rows: Record<string, unknown>[];
  rowCount?: number;
}

/** Raw SQL with $1.. parameters; several statements when there are no parameters (pg-boss's migrations). */
export type ExecuteSql = (text: string, values?: unknown[]) => Promise<SqlResult>;

/** What a transaction's body gets: both faces of the same connection. */
export interface TransactionScope {
  db: Db;
  executeSql: ExecuteSql;
}

export interface Database {
  kind: 'pglite' | 'postgres';
  /** where it is, for logs (the URL without its password) */
  location: string;
  db: Db;
  executeSql: ExecuteSql;
  /** runs `body` in one transaction: all of its writes, or none */
  transaction<T>(body: (scope: TransactionScope) => Promise<T>): Promise<T>;
  /** applies the drizzle/ migrations (serialized between processes on PostgreSQL) */
  migrate(): Promise<void>;
  /** runs `body` while no other process runs an `exclusive` body (PostgreSQL: an advisory lock; embedded: one process anyway) */
  exclusive<T>(body: () => Promise<T>): Promise<T>;
  /**
   * LISTEN on a PostgreSQL channel through a dedicated connection (PostgreSQL only: the embedded
   * database has a single process, whose events travel in memory).
   */
  listen?(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

export const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../../../drizzle', import.meta.url));

/** Opens PostgreSQL at `databaseUrl`, or else the embedded database under `dataDir`. */
export function openDatabase(options: { dataDir: string; databaseUrl?: string }): Promise<Database> {
  return options.databaseUrl ? openPostgres(options.databaseUrl) : openPglite(join(options.dataDir, 'pglite'));
}

/** The URL without its password. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://<unparsable URL>';
  }
}

// ---------------------------------------------------------------------------------------------
// PGlite

async function openPglite(dir: string): Promise<Database> {
  await mkdir(dir, { recursive: true });
  const releaseLock = await lockDirectory(dir);
  let client: PGlite;
  try {
    client = await PGlite.create(dir);
  } catch (e) {
    await releaseLock();
    throw new Error(`cannot open the embedded database in ${dir}: ${(e as Error).message}`, { cause: e });
  }
  const db = drizzlePglite({ client, schema }) as unknown as Db;
  const executeSqlOn =
    (c: PGlite | PGliteTransaction): ExecuteSql =>
    async (text, values) => {
      if (values && values.length > 0) {
        const r = await c.query<Record<string, unknown>>(text, values);
        return { rows: r.rows, rowCount: r.affectedRows };
      }
      // no parameters: possibly several statements (the simple query protocol)
      const results = await c.exec(text);
      const last = results.at(-1);
      return { rows: (last?.rows as Record<string, unknown>[]) ?? [], rowCount: last?.affectedRows };
    };
  return {
    kind: 'pglite',
    location: dir,
    db,
    executeSql: executeSqlOn(client),
    // PGlite runs one transaction at a time and queues every other query behind it
    transaction: (body) => client.transaction((tx) => body({ db: drizzlePglite({ client: tx as unknown as PGlite, schema }) as unknown as Db, executeSql: executeSqlOn(tx) })),
    migrate: () => migratePglite(db as never, { migrationsFolder: MIGRATIONS_FOLDER }),
    exclusive: (body) => body(),
    async close() {
      try {
        await client.close();
      } finally {
        await releaseLock();
      }
    },
  };
}

/**
 * PGlite's files are one process's: a second `excite serve` on the same data directory would
 * corrupt them. A lock file with the owner's pid keeps it out (a dead owner's lock is taken over).
 */
async function lockDirectory(dir: string): Promise<() => Promise<void>> {
  const file = join(dir, '..', 'pglite.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(file, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      return () => rm(file, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const owner = Number((await readFile(file, 'utf8').catch(() => '')).trim());
      if (owner && owner !== process.pid && isAlive(owner)) {
        throw new Error(`the embedded database in ${dir} is in use by process ${owner} (another excite serve?); stop it, or use another --data directory, or PostgreSQL (DATABASE_URL) to share one database`);
      }
      await rm(file, { force: true });
    }
  }
  throw new Error(`cannot lock ${file}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

/** Any number holds for the lock; it only has to be the same in every excite process. */
const MIGRATION_LOCK = 0x65786369; // "exci"

async function openPostgres(url: string): Promise<Database> {
  const pool = new pg.Pool({ connectionString: url, max: Number(process.env.EXCITE_DB_POOL ?? 10), application_name: 'excite' });
  // an idle client that loses its server must not take the process down
  pool.on('error', (e) => console.error(`excite: database connection error: ${e.message}`));
  try {
    const c = await pool.connect();
    c.release();
  } catch (e) {
    await pool.end();
    throw new Error(`cannot connect to DATABASE_URL ${redactUrl(url)}: ${(e as Error).message}`, { cause: e });
  }
  const db = drizzlePg({ client: pool, schema }) as unknown as Db;
  const executeSqlOn =
    (c: pg.Pool | pg.PoolClient): ExecuteSql =>
    async (text, values) => {
      const r = (await c.query(text, values)) as pg.QueryResult | pg.QueryResult[];
      const last = Array.isArray(r) ? r.at(-1) : r;
      return { rows: last?.rows ?? [], rowCount: last?.rowCount ?? undefined };
    };
  const listeners = new Set<pg.Client>();
  return {
    kind: 'postgres',
    location: redactUrl(url),
    db,
    executeSql: executeSqlOn(pool),
    async transaction(body) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await body({ db: drizzlePg({ client, schema }) as unknown as Db, executeSql: executeSqlOn(client) });
        await client.query('COMMIT');
        return result;
      } catch (e) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw e;
      } finally {
        client.release();
      }
    },
    async migrate() {
      // one process migrates at a time: the others wait, then find nothing left to do
      const client = await pool.connect();
      try {
        await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
        await migratePg(drizzlePg({ client, schema }), { migrationsFolder: MIGRATIONS_FOLDER });
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
        client.release();
      }
    },
    async exclusive(body) {
      // the lock is held by a session of its own; the body uses the pool (pg-boss's installation)
      const client = await pool.connect();
      try {
        await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
        return await body();
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
        client.release();
      }
    },
    async listen(channel, onPayload) {
      const client = new pg.Client({ connectionString: url, application_name: 'excite-listen' });
      client.on('error', (e) => console.error(`excite: LISTEN ${channel}: ${e.message}`));
      await client.connect();
      client.on('notification', (n) => n.channel === channel && n.payload !== undefined && onPayload(n.payload));
      await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
      listeners.add(client);
      return async () => {
        listeners.delete(client);
        await client.end().catch(() => undefined);
      };
    },
    async close() {
      await Promise.all([...listeners].map((c) => c.end().catch(() => undefined)));
      await pool.end();
    },
  };
}
