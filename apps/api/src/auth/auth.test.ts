/**
 * Every operation needs a token of a high enough role, and tokens are stored only as hashes. The
 * operations are read off the schema, so a field added later is covered without a new test.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { GraphQLField, GraphQLSchema } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executableSchema } from '../graphql/schema.ts';
import { type AsToken, type TestService, startTestService } from '../testing/harness.ts';
import { FIELD_ROLES } from '../graphql/operation-guard.ts';

type Field = GraphQLField<unknown, unknown>;
type Root = 'Query' | 'Mutation' | 'Subscription';

const schema: GraphQLSchema = executableSchema();
const fieldsOf = (type: string) => (schema.getType(type) as unknown as { getFields(): Record<string, Field> }).getFields();

/** A value of a GraphQL input type, as variables carry it (required fields only). */
function dummy(type: string): unknown {
  if (type.endsWith('!')) return dummy(type.slice(0, -1));
  if (type.startsWith('[')) return [];
  switch (type) {
    case 'ID':
      return '00000000-0000-0000-0000-000000000000';
    case 'String':
      return 'x';
    case 'Int':
    case 'Float':
      return 0;
    case 'Boolean':
      return false;
  }
  const named = schema.getType(type) as unknown as { getValues?: () => { name: string }[]; getFields?: () => Record<string, { type: unknown }> };
  if (named.getValues) return named.getValues()[0].name;
  return Object.fromEntries(
    Object.entries(named.getFields!())
      .filter(([, f]) => String(f.type).endsWith('!'))
      .map(([name, f]) => [name, dummy(String(f.type))]),
  );
}

/** The smallest operation that selects `root.field`, with its variables. */
function operationOf(root: Root, name: string): { query: string; variables: Record<string, unknown> } {
  const field = fieldsOf(root)[name];
  const args = field.args.filter((a) => String(a.type).endsWith('!'));
  const declared = args.map((a) => `$${a.name}: ${String(a.type)}`).join(', ');
  const passed = args.map((a) => `${a.name}: $${a.name}`).join(', ');
  const type = schema.getType(String(field.type).replace(/[[\]!]/g, '')) as unknown as { getFields?: unknown };
  const selection = type.getFields ? ' { __typename }' : '';
  return {
    query: `${root.toLowerCase()}${declared ? `(${declared})` : ''} { ${name}${passed ? `(${passed})` : ''}${selection} }`,
    variables: Object.fromEntries(args.map((a) => [a.name, dummy(String(a.type))])),
  };
}

const ROOTS: Root[] = ['Query', 'Mutation', 'Subscription'];
const OPERATIONS = ROOTS.flatMap((root) => Object.keys(fieldsOf(root)).map((name) => ({ root, name, ...operationOf(root, name) })));
const RANK = { read: 0, run: 1, admin: 2 } as const;
const needed = (root: Root, name: string) => FIELD_ROLES[`${root}.${name}`] ?? (root === 'Mutation' ? 'run' : 'read');

describe('auth: bearer tokens with roles', () => {
  let t: TestService;
  const tokens: Record<'read' | 'run' | 'admin' | 'revoked', string> = {} as never;

  beforeAll(async () => {
    t = await startTestService('pglite', { limits: { rateLimitPerSecond: 0 } });
    tokens.admin = t.token;
    tokens.read = await t.createToken('read');
    tokens.run = await t.createToken('run');
    const created = await t.ok<{ createToken: { token: string; info: { id: string } } }>('mutation { createToken(input: { role: READ, name: "soon revoked" }) { token info { id } } }');
    tokens.revoked = created.createToken.token;
    await t.ok('mutation($id: ID!) { revokeToken(id: $id) { revokedAt } }', { id: created.createToken.info.id });
  });
  afterAll(() => t?.stop());

  /** The code an operation answers with over HTTP or WebSocket (undefined: it ran, whatever it found). */
  async function attempt(op: (typeof OPERATIONS)[number], as: AsToken): Promise<{ status?: number; code?: string }> {
    if (op.root !== 'Subscription') {
      const r = await t.gql(op.query, op.variables, as);
      const code = r.errors?.[0]?.extensions?.code;
      return { status: r.status, code: code === 'UNAUTHENTICATED' || code === 'FORBIDDEN' ? code : undefined };
    }
    const client = t.wsClient(as);
    try {
      // a subscription that was let through may wait for events: after a moment without a refusal it is running
      const running = new Promise<void>((resolve) => setTimeout(resolve, 300));
      const first = (async () => {
        for await (const _ of client.iterate({ query: op.query, variables: op.variables })) break;
      })();
      await Promise.race([first, running]);
      return {};
    } catch (e) {
      // a refused connection closes with 4401; a refused operation is an error with a code
      const event = e as { code?: number; errors?: { extensions?: { code?: string } }[] } | { message?: string; extensions?: { code?: string } }[];
      if (Array.isArray(event)) return { code: event[0]?.extensions?.code === 'FORBIDDEN' ? 'FORBIDDEN' : undefined };
      if (event.code === 4401) return { code: 'UNAUTHENTICATED' };
      return {};
    } finally {
      await client.dispose();
    }
  }

  it(`covers every root field of the schema (${OPERATIONS.length})`, () => {
    expect(OPERATIONS.length).toBeGreaterThan(25);
    expect(OPERATIONS.map((o) => o.name)).toEqual(expect.arrayContaining(['startRuns', 'cancelRun', 'createToken', 'runProgress', 'runs', 'tokens']));
  });

  for (const [label, as] of [
    ['no token', { token: null }],
    ['a malformed token', { token: 'not-a-token' }],
    ['an unknown token', { token: `exc_${'A'.repeat(43)}` }],
  ] as [string, AsToken][]) {
    it(`refuses every operation with ${label}: UNAUTHENTICATED (HTTP 401, WebSocket close 4401)`, async () => {
      for (const op of OPERATIONS) {
        const r = await attempt(op, as);
        expect(r.code, `${op.root}.${op.name}`).toBe('UNAUTHENTICATED');
        if (op.root !== 'Subscription') expect(r.status, `${op.root}.${op.name}`).toBe(401);
      }
    });
  }

  it('refuses a revoked token', async () => {
    const r = await attempt(OPERATIONS.find((o) => o.name === 'health')!, { token: tokens.revoked });
    expect(r).toEqual({ status: 401, code: 'UNAUTHENTICATED' });
  });

  for (const role of ['read', 'run', 'admin'] as const) {
    it(`lets ${role === 'admin' ? 'an' : 'a'} ${role} token do what its role covers, and refuses the rest with FORBIDDEN (HTTP 403)`, async () => {
      for (const op of OPERATIONS) {
        const r = await attempt(op, { token: tokens[role] });
        const allowed = RANK[role] >= RANK[needed(op.root, op.name)];
        expect(r.code, `${op.root}.${op.name} with ${role}`).toBe(allowed ? undefined : 'FORBIDDEN');
        if (!allowed && op.root !== 'Subscription') expect(r.status).toBe(403);
      }
    });
  }

  it('refuses a mutation sent over WebSocket with a read token', async () => {
    const client = t.wsClient({ token: tokens.read });
    const error = await (async () => {
      for await (const _ of client.iterate({ query: 'mutation { cancelRun(id: "x") { id } }' })) return null;
    })().catch((e) => e);
    await client.dispose();
    expect(error[0].extensions.code).toBe('FORBIDDEN');
  });

  it('guards uploads (admin) and blobs (any token); /health needs none', async () => {
    const file = [{ path: 'model.json', bytes: new TextEncoder().encode('{}') }];
    expect(await t.upload('/upload/model', file, {}, { token: null })).toMatchObject({ status: 401, body: { error: { code: 'UNAUTHENTICATED' } } });
    for (const role of ['read', 'run'] as const) {
      expect(await t.upload('/upload/model', file, {}, { token: tokens[role] })).toMatchObject({ status: 403, body: { error: { code: 'FORBIDDEN' } } });
      expect(await t.upload('/upload/dataset', file, {}, { token: tokens[role] })).toMatchObject({ status: 403, body: { error: { code: 'FORBIDDEN' } } });
    }
    expect(await t.upload('/upload/model', file, {}, { token: tokens.admin })).toMatchObject({ status: 400, body: { error: { code: 'INVALID_UPLOAD' } } });
    const blob = `/blobs/${'0'.repeat(64)}`;
    expect((await t.fetch(blob, { token: null })).status).toBe(401);
    expect((await t.fetch(blob, { token: tokens.read })).status).toBe(404);
    expect((await t.fetch('/health', { token: null })).status).toBe(200);
  });

  it('stores tokens only as SHA-256 hashes: not in any row, not in any file of the database', async () => {
    const created = await t.ok<{ createToken: { token: string; info: { id: string; prefix: string; role: string } } }>('mutation { createToken(input: { role: RUN, name: "pipeline" }) { token info { id prefix role } } }');
    const { token, info } = created.createToken;
    expect(token).toMatch(/^exc_[A-Za-z0-9_-]{43}$/);
    expect(info).toMatchObject({ role: 'RUN', prefix: token.slice(0, 10) });
    const secret = token.slice(10);
    const { rows } = await t.service.database.executeSql('SELECT * FROM api_tokens');
    const dump = JSON.stringify(rows);
    for (const t of Object.values(tokens)) expect(dump).not.toContain(t.slice(10));
    expect(dump).not.toContain(secret);
    expect(rows.find((r) => r.id === info.id)?.hash).toBe(createHash('sha256').update(token).digest('hex'));
    // nothing on disk either (the embedded database's files, after a checkpoint)
    await t.service.database.executeSql('CHECKPOINT');
    const files = (await readdir(join(t.dataDir, 'pglite'), { recursive: true, withFileTypes: true })).filter((f) => f.isFile());
    expect(files.length).toBeGreaterThan(10);
    for (const f of files) expect((await readFile(join(f.parentPath, f.name))).includes(secret), f.name).toBe(false);
    // the token works, and the admin sees it listed without its secret
    expect((await t.ok('{ viewer { name role } }', {}, { token })).viewer).toEqual({ name: 'pipeline', role: 'RUN' });
    expect(JSON.stringify(await t.ok('{ tokens { id prefix role revokedAt } }'))).not.toContain(secret);
  });
});
