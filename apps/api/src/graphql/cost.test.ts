/**
 * What one token's operations may make the service do: aliases are limited, every field that reads
 * the database costs (scalars too, and a field that runs its own statements costs more, per alias),
 * the cost walk stays bounded whatever fragments are spread, each token has a cost budget per
 * minute, strings in arguments are bounded, and WebSocket operations answer within the same time
 * limit as HTTP ones. Over HTTP and WebSocket alike.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { rm } from 'node:fs/promises';
import { type DocumentNode, Kind, type OperationDefinitionNode, parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, REPOSITORY_ROOT } from '../config.ts';
import { writeTinyEncoder } from '../testing/fixtures.ts';
import { POSTGRES_URL, type TestService, folderFiles, lockTable, startTestService, tempDir } from '../testing/harness.ts';
import { LOADER_COST, MAX_NAME_LENGTH, STATEMENT_COST, databaseCosts, guardOperation } from './operation-guard.ts';
import { resolvers } from './resolvers/index.ts';
import { executableSchema } from './schema.ts';

type Errors = { message: string; extensions?: Record<string, unknown> }[];

/** The errors (or data) of one operation over a new WebSocket connection of the harness's token. */
async function overWebSocket(t: TestService, query: string, variables?: Record<string, unknown>, token?: string): Promise<{ data?: unknown; errors?: Errors }> {
  const client = t.wsClient(token ? { token } : {});
  try {
    for await (const r of client.iterate({ query, variables })) return r.errors ? { errors: r.errors as unknown as Errors } : { data: r.data };
    return {};
  } catch (e) {
    if (Array.isArray(e)) return { errors: e as Errors };
    throw e;
  } finally {
    await client.dispose();
  }
}

const aliased = (n: number, field: string) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: ${field}`).join(' ')} }`;

describe('query cost: what the database is charged for', () => {
  it('charges every resolver that reads the database: statements of its own more than batched loads', () => {
    const costs = databaseCosts(resolvers as Record<string, unknown>);
    // fields that run statements per parent and alias
    for (const field of ['Query.viewer', 'Query.neuron', 'Query.comparison', 'Query.workers', 'Query.runs', 'Batch.runs', 'Encoder.neurons', 'Mutation.startRuns', 'Mutation.cancelRun', 'Subscription.runProgress']) {
      expect(costs.get(field), field).toBe(STATEMENT_COST);
    }
    // scalars and objects loaded through batch loaders
    for (const field of ['Encoder.neuronCount', 'Batch.done', 'Batch.counts', 'Image.method', 'Image.scores', 'Run.batch', 'Comparison.cells', 'Query.run']) {
      expect(costs.get(field), field).toBe(LOADER_COST);
    }
    // no database: no charge beyond the object
    for (const field of ['Query.health', 'Blob.url', 'RunProgress.fraction', 'Encoder.sessions']) expect(costs.get(field), field).toBeUndefined();
    // the service's settings are no database: the methods query (the engine's registry, limited by config) is a load
    expect(costs.get('Query.methods')).toBe(LOADER_COST);
    // the class: every resolver that takes the context is charged
    for (const [type, fields] of Object.entries(resolvers as Record<string, Record<string, unknown>>)) {
      for (const [name, resolver] of Object.entries(fields ?? {})) {
        const fn = typeof resolver === 'function' ? resolver : (resolver as { subscribe?: () => unknown })?.subscribe;
        if (typeof fn === 'function' && fn.length >= 3) expect(costs.get(`${type}.${name}`), `${type}.${name}`).toBeGreaterThan(0);
      }
    }
  });

  it("lets every operation of the SDK (the dashboard's too) run within the default limits, with pages of 200", () => {
    const folder = join(REPOSITORY_ROOT, 'packages/sdk/src/operations');
    const document = parse(readdirSync(folder).map((f) => readFileSync(join(folder, f), 'utf8')).join('\n'));
    const fragments = document.definitions.filter((d) => d.kind === Kind.FRAGMENT_DEFINITION);
    const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
    expect(operations.length).toBeGreaterThan(25);
    const schema = executableSchema();
    const costs = databaseCosts(resolvers as Record<string, unknown>);
    for (const operation of operations) {
      const { refused, cost } = guardOperation({
        schema,
        document: { kind: Kind.DOCUMENT, definitions: [operation, ...fragments] } as DocumentNode,
        variables: { first: 200, runsFirst: 200, neuronsFirst: 200 },
        principal: { tokenId: 'sdk', name: 'sdk', role: 'admin' },
        limits: DEFAULT_LIMITS,
        costs,
      });
      expect(refused, operation.name?.value).toBeNull();
      // the dashboard polls: a few dozen of its loads a minute fit in a token's budget
      expect(cost * 20, operation.name?.value).toBeLessThan(DEFAULT_LIMITS.queryCostPerMinute);
    }
  });
});

describe('query cost and aliases (default limits)', () => {
  let t: TestService;
  beforeAll(async () => {
    t = await startTestService('pglite', { worker: false, limits: { rateLimitPerSecond: 0 } });
  });
  afterAll(() => t?.stop());

  it('refuses more aliases than allowed (20): QUERY_TOO_COMPLEX, over HTTP and WebSocket', async () => {
    const r = await t.gql(aliased(21, 'neuron(session: "s", index: 0) { id }'));
    expect(r.status).toBe(400);
    expect(r.errors?.[0].extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', aliases: 21, limit: 20 });
    expect(r.data).toBeUndefined();
    const ws = await overWebSocket(t, aliased(21, 'viewer { name }'));
    expect(ws.errors?.[0].extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', aliases: 21, limit: 20 });
    // within the limit it runs
    expect((await t.gql(aliased(20, 'viewer { name }'))).errors).toBeUndefined();
    expect((await overWebSocket(t, aliased(20, 'viewer { name }'))).errors).toBeUndefined();
  });

  it('keeps the cost walk bounded: fragments spread twice at every level', async () => {
    // 2^24 paths to `health`: a walk that expands every spread never ends (or overflows its stack)
    let query = 'fragment F0 on Query { health }\n';
    for (let i = 1; i <= 24; i++) query += `fragment F${i} on Query { ...F${i - 1} ...F${i - 1} }\n`;
    query += '{ ...F24 }';
    const r = await t.gql(query);
    expect(r.status).toBe(200);
    expect(r.data).toEqual({ health: 'ok' });
    expect(await overWebSocket(t, query)).toEqual({ data: { health: 'ok' } });
  });

  it('bounds strings in arguments and variables: BAD_USER_INPUT, and nothing is written', async () => {
    const tokens = await t.count('api_tokens');
    const long = 'x'.repeat(MAX_NAME_LENGTH + 1);
    const literal = await t.gql(`mutation { createToken(input: { role: READ, name: "${long}" }) { token } }`);
    expect(literal.status).toBe(400);
    expect(literal.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', limit: MAX_NAME_LENGTH });
    const filter = await t.gql('query($f: EncoderFilter) { encoders(filter: $f) { totalCount } }', { f: { name: 'y'.repeat(5_000) } });
    expect(filter.status).toBe(400);
    expect(filter.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: '$f.name', limit: MAX_NAME_LENGTH });
    const id = await t.gql('query($id: ID!) { run(id: $id) { id } }', { id: 'z'.repeat(100_000) });
    expect(id.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: '$id' });
    // variables nested as deep as the body allows are walked without recursion (no 500)
    const depth = 100_000;
    const deep = await t.fetch('/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"query":"{ health }","variables":{"deep":${'['.repeat(depth)}"${'w'.repeat(2_000)}"${']'.repeat(depth)}}}` });
    expect(deep.status).toBe(400);
    expect(((await deep.json()) as { errors: Errors }).errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', limit: 1_000 });
    const ws = await overWebSocket(t, 'mutation($name: String!) { createToken(input: { role: READ, name: $name }) { token } }', { name: long });
    expect(ws.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', limit: MAX_NAME_LENGTH });
    expect(await t.count('api_tokens')).toBe(tokens);
  });
});

describe('query cost of database fields (aliases allowed)', () => {
  let t: TestService;
  beforeAll(async () => {
    t = await startTestService('pglite', { worker: false, limits: { rateLimitPerSecond: 0, maxAliases: 10_000, maxQueryCost: 25_000 } });
  });
  afterAll(() => t?.stop());

  it('charges a field that runs a statement per alias, though it selects only scalars', async () => {
    // 150 statements: 150 x 250 > 25000 (counted as 150 objects before); the walk stops once over
    const r = await t.gql(aliased(150, 'viewer { name }'));
    expect(r.status).toBe(400);
    expect(r.errors?.[0].extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: 25_000 });
    expect(r.errors?.[0].extensions?.cost).toBeGreaterThan(25_000);
    const ws = await overWebSocket(t, aliased(150, 'neuron(session: "s", index: 1) { id }'));
    expect(ws.errors?.[0].extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX' });
    // a few of them run
    expect((await t.gql(aliased(50, 'viewer { name }'))).errors).toBeUndefined();
    expect(STATEMENT_COST * 150).toBeGreaterThan(25_000);
  });
});

describe('query cost of scalars read through loaders', () => {
  let t: TestService;
  beforeAll(async () => {
    t = await startTestService('pglite', { worker: false, limits: { rateLimitPerSecond: 0, maxQueryCost: 1_000 } });
  });
  afterAll(() => t?.stop());

  it('counts a scalar that reads the database (neuronCount) like an object', async () => {
    // 500 encoders x (object + neuronCount) + the list's statement: 1250 > 1000 (501 before)
    const r = await t.gql('{ encoders(first: 500) { nodes { neuronCount } } }');
    expect(r.status).toBe(400);
    expect(r.errors?.[0].extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', cost: 1_000 + STATEMENT_COST, limit: 1_000 });
    // plain columns do not count
    expect((await t.gql('{ encoders(first: 500) { nodes { id name } } }')).errors).toBeUndefined();
  });
});

describe('the query budget per token and minute', () => {
  let t: TestService;
  beforeAll(async () => {
    t = await startTestService('pglite', { worker: false, limits: { rateLimitPerSecond: 0, maxQueryCost: 2_000, queryCostPerMinute: 3_000 } });
  });
  afterAll(() => t?.stop());

  it('refuses a token that spent its budget: 429 RATE_LIMITED with Retry-After, over HTTP and WebSocket; other tokens go on', async () => {
    const token = await t.createToken('read');
    // each costs 1250 (see above): two fit in 3000, the third does not (the bucket refills 50 a second)
    const query = '{ encoders(first: 500) { nodes { neuronCount } } }';
    expect((await t.gql(query, {}, { token })).errors).toBeUndefined();
    expect((await t.gql(query, {}, { token })).errors).toBeUndefined();
    const res = await t.fetch('/graphql', { method: 'POST', token, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const body = (await res.json()) as { errors: Errors; data?: unknown };
    expect(body.errors[0].extensions).toMatchObject({ code: 'RATE_LIMITED' });
    expect(body.data).toBeUndefined();
    const ws = await overWebSocket(t, query, {}, token);
    expect(ws.errors?.[0].extensions).toMatchObject({ code: 'RATE_LIMITED' });
    // operations that read nothing cost nothing; another token has its own budget
    expect((await t.gql('{ health }', {}, { token })).errors).toBeUndefined();
    expect((await t.gql(query)).errors).toBeUndefined();
  });
});

describe('names and labels of runs and comparisons', () => {
  let t: TestService;
  let folder: string;
  let generator: string;
  beforeAll(async () => {
    folder = await tempDir('cost-strings');
    await writeTinyEncoder(join(folder, 'tiny-encoder'));
    t = await startTestService('pglite', { worker: false, limits: { rateLimitPerSecond: 0 } });
    const { body } = await t.upload('/upload/model', await folderFiles(join(folder, 'tiny-encoder')), { name: 'tiny-encoder' });
    generator = body.model.id;
  });
  afterAll(async () => {
    await t?.stop();
    if (folder) await rm(folder, { recursive: true, force: true });
  });

  const START = 'mutation($input: StartRunsInput!) { startRuns(input: $input) { id label } }';
  const COMPARE = 'mutation($input: StartComparisonInput!) { startComparison(input: $input) { id name } }';
  const runs = (label: string) => ({ input: { generator, methods: ['GA'], neurons: [{ session: 's1', index: 0 }], label } });
  const comparison = (name: string) => ({ input: { name, generators: [generator], methods: ['GA'], neurons: [{ session: 's1', index: 0 }] } });

  it('refuses a label or name over 200 characters with BAD_USER_INPUT and writes nothing', async () => {
    const before = { batches: await t.count('batches'), runs: await t.count('runs'), comparisons: await t.count('comparisons') };
    for (const [query, variables, argument] of [
      [START, runs('l'.repeat(100_000)), '$input.label'],
      [COMPARE, comparison('n'.repeat(MAX_NAME_LENGTH + 1)), '$input.name'],
    ] as const) {
      const r = await t.gql(query, variables);
      expect(r.status).toBe(400);
      expect(r.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument, limit: MAX_NAME_LENGTH });
      const ws = await overWebSocket(t, query, variables);
      expect(ws.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument });
    }
    expect({ batches: await t.count('batches'), runs: await t.count('runs'), comparisons: await t.count('comparisons') }).toEqual(before);
    // 200 characters are a name
    const ok = await t.ok<{ startRuns: { label: string } }>(START, runs('k'.repeat(MAX_NAME_LENGTH)));
    expect(ok.startRuns.label).toHaveLength(MAX_NAME_LENGTH);
  });
});

// The embedded database answers within the same turn of the event loop, so only a server's round
// trips let a timer fire first; the runs table is held locked so that the operation outlasts the limit.
describe.skipIf(!POSTGRES_URL)('the operation time limit over WebSocket (PostgreSQL)', () => {
  it('answers TIMEOUT over WebSocket as over HTTP, and the connection goes on', async () => {
    const slow = await startTestService('postgres', { worker: false, limits: { operationTimeoutMs: 50 } });
    const lock = await lockTable(slow.databaseUrl!, 'runs');
    try {
      const query = '{ runs(first: 500) { totalCount nodes { id images { id } } } batches { totalCount } }';
      expect((await slow.gql(query)).errors?.[0].extensions?.code).toBe('TIMEOUT');
      const ws = await overWebSocket(slow, query);
      expect(ws.errors?.[0].extensions).toMatchObject({ code: 'TIMEOUT' });
      expect(slow.log.join('\n')).toMatch(/over WebSocket took more than 50 ms/);
      await lock.release();
      expect(await overWebSocket(slow, '{ health }')).toEqual({ data: { health: 'ok' } });
    } finally {
      await lock.release();
      await slow.stop();
    }
  });
});
