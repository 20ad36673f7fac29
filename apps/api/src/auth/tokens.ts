/**
 * Bearer tokens with roles. A token is `exc_` and 32 random bytes (256 bits from the operating
 * system's CSPRNG) in base64url; the database keeps only its SHA-256. A slow password KDF (scrypt,
 * argon2) protects secrets people choose, whose few bits an attacker with the hashes could
 * enumerate; 256 random bits cannot be enumerated, so one fast hash is as safe and lets every
 * request find its token by an indexed lookup of the hash instead of trying a KDF per token.
 * A leaked table gives nobody a usable token. Roles are ordered: read < run < admin.
 */
import { createHash, randomBytes } from 'node:crypto';
import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import type { Db } from '../db/database.ts';
import { type TokenRole, TOKEN_ROLES, apiTokens } from '../db/schema.ts';
import { isUuid } from '../db/uuid.ts';

export type { TokenRole };
export { TOKEN_ROLES };

export const TOKEN_PREFIX = 'exc_';
/** exc_ + 43 base64url characters */
const TOKEN_SHAPE = /^exc_[A-Za-z0-9_-]{43}$/;

/** Who is calling: a valid token's id, name and role. */
export interface Principal {
  tokenId: string;
  name: string;
  role: TokenRole;
}

export interface TokenInfo {
  id: string;
  name: string;
  role: TokenRole;
  prefix: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

const RANK: Record<TokenRole, number> = { read: 0, run: 1, admin: 2 };

/** Whether `role` may do what `needed` may. */
export const allows = (role: TokenRole, needed: TokenRole): boolean => RANK[role] >= RANK[needed];

export const isRole = (value: unknown): value is TokenRole => TOKEN_ROLES.includes(value as TokenRole);

export const hashToken = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

function info(row: typeof apiTokens.$inferSelect): TokenInfo {
  return { id: row.id, name: row.name, role: row.role, prefix: row.prefix, createdAt: row.createdAt, lastUsedAt: row.lastUsedAt, revokedAt: row.revokedAt };
}

/** A new token: the secret is returned once and never stored. */
export async function createToken(db: Db, role: TokenRole, name: string): Promise<{ token: string; info: TokenInfo }> {
  if (!isRole(role)) throw new Error(`role must be one of ${TOKEN_ROLES.join(', ')}, got "${role}"`);
  const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
  const [row] = await db
    .insert(apiTokens)
    .values({ name, role, hash: hashToken(token), prefix: token.slice(0, TOKEN_PREFIX.length + 6) })
    .returning();
  return { token, info: info(row) };
}

/** Every token (or the one with `id`), oldest first. */
export async function listTokens(db: Db, id?: string): Promise<TokenInfo[]> {
  if (id !== undefined && !isUuid(id)) return [];
  return (await db.select().from(apiTokens).where(id === undefined ? undefined : eq(apiTokens.id, id)).orderBy(asc(apiTokens.seq))).map(info);
}

/** Revokes a token by id; false when there is no such unrevoked token. */
export async function revokeToken(db: Db, id: string): Promise<boolean> {
  if (!isUuid(id)) return false;
  const rows = await db
    .update(apiTokens)
    .set({ revokedAt: new Date() })
    .where(and(eq(apiTokens.id, id), isNull(apiTokens.revokedAt)))
    .returning({ id: apiTokens.id });
  return rows.length > 0;
}

/**
 * The token in an `Authorization: Bearer <token>` value (an HTTP header or the WebSocket's
 * connection parameter). Any other scheme, or a bare token, is no credential: undefined.
 */
export function bearerToken(header: unknown): string | undefined {
  if (typeof header !== 'string') return undefined;
  return /^\s*Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
}

/**
 * Resolves tokens to principals, with a short cache (a token revoked by another process stops
 * working within `cacheMs`; one revoked through `revoked` in this process at once), and records
 * when each token was last used (at most once a minute). Whoever holds a principal for longer than
 * one request (a WebSocket connection) asks again with `verify` and listens to `onRevoked`.
 */
export class TokenVerifier {
  private readonly cache = new Map<string, { principal: Principal | null; until: number }>();
  private readonly touched = new Map<string, number>();
  private readonly listeners = new Set<(tokenId: string) => void>();

  constructor(
    private readonly db: Db,
    private readonly cacheMs = 5_000,
  ) {}

  async verify(token: string | undefined): Promise<Principal | null> {
    if (!token || !TOKEN_SHAPE.test(token)) return null;
    const hash = hashToken(token);
    const now = Date.now();
    const cached = this.cache.get(hash);
    if (cached && cached.until > now) return cached.principal;
    const [row] = await this.db.select().from(apiTokens).where(eq(apiTokens.hash, hash));
    const principal = row && !row.revokedAt ? { tokenId: row.id, name: row.name, role: row.role } : null;
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(hash, { principal, until: now + this.cacheMs });
    if (principal && (this.touched.get(principal.tokenId) ?? 0) < now - 60_000) {
      this.touched.set(principal.tokenId, now);
      void this.db
        .update(apiTokens)
        .set({ lastUsedAt: sql`now()` })
        .where(eq(apiTokens.id, principal.tokenId))
        .catch(() => undefined);
    }
    return principal;
  }

  /** Forgets cached answers. */
  forget(): void {
    this.cache.clear();
  }

  /** Tells this process that the token `tokenId` was revoked: cached answers are forgotten and listeners hear of it. */
  revoked(tokenId: string): void {
    this.forget();
    for (const listener of this.listeners) listener(tokenId);
  }

  /** Calls `listener` with the id of every token revoked in this process; returns the unsubscribe. */
  onRevoked(listener: (tokenId: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/**
 * The embedded default's first start: with no token at all, one admin token is created and
 * returned (to be printed once). Serialized by a table lock so that two starting processes
 * cannot both create one.
 */
export async function ensureInitialAdmin(database: { transaction<T>(body: (scope: { db: Db; executeSql: (text: string) => Promise<unknown> }) => Promise<T>): Promise<T> }): Promise<string | undefined> {
  return database.transaction(async ({ db, executeSql }) => {
    await executeSql('LOCK TABLE api_tokens IN SHARE ROW EXCLUSIVE MODE');
    const [{ n }] = await db.select({ n: sql<number>`count(*)::int` }).from(apiTokens);
    if (n > 0) return undefined;
    return (await createToken(db, 'admin', 'initial admin')).token;
  });
}
