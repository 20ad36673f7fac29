/** The service's limits: depth, cost, body size, per-token rate, time; each refused with its code and status. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POSTGRES_URL, type TestService, lockTable, startTestService } from '../testing/harness.ts';

describe('limits', () => {
  let t: TestService;
  beforeAll(async () => {
    t = await startTestService('pglite', { limits: { maxQueryDepth: 6, maxQueryCost: 2_000, maxRequestBytes: 20_000, rateLimitPerSecond: 5, rateLimitBurst: 10 } });
  });
  afterAll(() => t?.stop());

  it('refuses operations nested too deep or too costly, counting `first` at its value', async () => {
    const deep = await t.gql('{ runs { nodes { batch { runs { nodes { batch { runs { nodes { id } } } } } } } } }');
    expect(deep.status).toBe(400);
    expect(deep.errors?.[0].extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: 6 });
    // 500 runs x 10 images x (image + run): over 2000
    const costly = await t.gql('query($n: Int) { runs(first: $n) { nodes { images { run { id } } } } }', { n: 500 });
    expect(costly.errors?.[0].extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: 2000 });
    expect(costly.errors?.[0].extensions?.cost).toBeGreaterThan(2000);
    // the same with a small page passes; so does a fragment-wrapped dashboard query
    expect((await t.gql('query($n: Int) { runs(first: $n) { nodes { images { run { id } } } } }', { n: 5 })).errors).toBeUndefined();
    expect((await t.gql('fragment R on Run { id status } { runs(first: 20) { nodes { ...R images { id } } } }')).errors).toBeUndefined();
    // over WebSocket too
    const client = t.wsClient({});
    const refused = await (async () => {
      for await (const _ of client.iterate({ query: 'subscription { runStatusChanged { run { batch { runs { nodes { batch { runs { nodes { id } } } } } } } } }' })) return null;
    })().catch((e) => e);
    await client.dispose();
    expect(refused[0].extensions.code).toBe('QUERY_TOO_COMPLEX');
  });

  it('refuses a body over the size limit with 413 REQUEST_TOO_LARGE', async () => {
    const r = await t.gql(`{ health }`, { padding: 'x'.repeat(30_000) });
    expect(r.status).toBe(413);
    expect(r.errors?.[0].extensions?.code).toBe('REQUEST_TOO_LARGE');
  });

  it('limits each token to its rate: 429 RATE_LIMITED with Retry-After, other tokens unaffected', async () => {
    const token = await t.createToken('read');
    const started = performance.now();
    const answers = await Promise.all(Array.from({ length: 30 }, () => t.fetch('/graphql', { method: 'POST', token, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ health }' }) })));
    const seconds = (performance.now() - started) / 1000;
    const limited = answers.filter((a) => a.status === 429);
    // a burst of 10, and 5 more each second the requests took to arrive: a busy machine only spreads them out
    expect(limited.length).toBeGreaterThanOrEqual(Math.max(1, 30 - 10 - Math.ceil(seconds * 5)));
    expect(Number(limited[0].headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(((await limited[0].json()) as { errors: { extensions: { code: string } }[] }).errors[0].extensions.code).toBe('RATE_LIMITED');
    expect((await t.gql('{ health }')).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1000));
    expect((await t.gql('{ health }', {}, { token })).status).toBe(200);
  });

  // the embedded database answers within the same turn of the event loop, so only a server's round
  // trips let a timer fire first; the runs table is held locked so that the operation outlasts the limit
  it.skipIf(!POSTGRES_URL)('answers 503 TIMEOUT when an operation takes longer than allowed (PostgreSQL)', async () => {
    const slow = await startTestService('postgres', { limits: { operationTimeoutMs: 50 } });
    const lock = await lockTable(slow.databaseUrl!, 'runs');
    try {
      const r = await slow.gql('{ runs(first: 500) { totalCount nodes { id images { id } } } batches { totalCount } }');
      expect(r.status).toBe(503);
      expect(r.errors?.[0].extensions?.code).toBe('TIMEOUT');
      await lock.release();
      // the server goes on
      expect((await slow.fetch('/health')).status).toBe(200);
    } finally {
      await lock.release();
      await slow.stop();
    }
  });
});
