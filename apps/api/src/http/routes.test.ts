/**
 * What the service answers outside its routes, and which credentials it takes: every unknown path
 * and method answers the JSON error shape (never Express's HTML page), and a token counts only in
 * `Authorization: Bearer <token>`.
 */
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestService, startTestService } from '../testing/harness.ts';

describe('routes and credentials', () => {
  let t: TestService;
  beforeAll(async () => {
    t = await startTestService('pglite', { worker: false, limits: { rateLimitPerSecond: 0 } });
  });
  afterAll(() => t?.stop());

  /** status, content type and body of a request (no token unless given) */
  async function call(method: string, path: string, headers: Record<string, string> = {}, body?: string) {
    const res = await fetch(`${t.url}${path}`, { method, headers, body });
    const text = await res.text();
    return { status: res.status, type: res.headers.get('content-type') ?? '', allow: res.headers.get('allow'), text, json: () => JSON.parse(text) };
  }

  for (const [method, path] of [
    ['GET', '/'],
    ['GET', '/nothing-here'],
    ['POST', '/graphql/extra'],
    ['GET', '/upload'],
    ['DELETE', '/blobs'],
    ['GET', '/blobs/a/b'],
    ['PATCH', '/%zz'],
  ]) {
    it(`answers ${method} ${path} with 404 NOT_FOUND in the JSON shape`, async () => {
      for (const headers of [{}, { authorization: `Bearer ${t.token}` }] as Record<string, string>[]) {
        const r = await call(method, path, headers);
        expect(r.status, r.text).toBe(404);
        expect(r.type).toMatch(/application\/json/);
        expect(r.json()).toEqual({ error: { code: 'NOT_FOUND', message: expect.stringContaining('no route') } });
      }
    });
  }

  for (const [method, path, allowed] of [
    ['GET', '/upload/model', 'POST'],
    ['PUT', '/upload/dataset', 'POST'],
    ['POST', '/health', 'GET'],
    ['DELETE', '/graphql', 'GET, POST'],
    ['PUT', `/blobs/${'0'.repeat(64)}`, 'GET'],
  ]) {
    it(`answers ${method} ${path} with 405 and the methods it takes, in the JSON shape`, async () => {
      const r = await call(method, path, { authorization: `Bearer ${t.token}` });
      expect(r.status, r.text).toBe(405);
      expect(r.type).toMatch(/application\/json/);
      expect(r.allow).toContain(allowed.split(', ')[0]);
      const body = r.json();
      const error = path === '/graphql' ? body.errors[0] : body.error;
      expect(path === '/graphql' ? error.extensions.code : error.code).toBe('NOT_FOUND');
      expect(error.message).toContain(allowed);
    });
  }

  it('serves the routes it has', async () => {
    expect((await call('GET', '/health')).json()).toEqual({ status: 'ok' });
    expect((await call('POST', '/graphql', { authorization: `Bearer ${t.token}`, 'content-type': 'application/json' }, JSON.stringify({ query: '{ health }' }))).json()).toEqual({ data: { health: 'ok' } });
    expect((await call('GET', `/blobs/${'0'.repeat(64)}`, { authorization: `Bearer ${t.token}` })).status).toBe(404);
  });

  for (const [label, header] of [
    ['a bare token', (token: string) => token],
    ['another scheme', (token: string) => `Basic ${token}`],
    ['a token after "Bearer" without a space', (token: string) => `Bearer${token}`],
  ] as const) {
    it(`refuses ${label} in Authorization: 401 UNAUTHENTICATED in the JSON shape`, async () => {
      const graphql = await call('POST', '/graphql', { authorization: header(t.token), 'content-type': 'application/json' }, JSON.stringify({ query: '{ health }' }));
      expect(graphql.status).toBe(401);
      expect(graphql.json().errors[0].extensions.code).toBe('UNAUTHENTICATED');
      expect(graphql.json().errors[0].message).toMatch(/Bearer <token>/);
      const blob = await call('GET', `/blobs/${'0'.repeat(64)}`, { authorization: header(t.token) });
      expect(blob.status).toBe(401);
      expect(blob.json()).toEqual({ error: { code: 'UNAUTHENTICATED', message: expect.stringMatching(/Bearer <token>/) } });
    });

    it(`refuses ${label} as the WebSocket's connection parameter: close 4401`, async () => {
      let closed!: (code: number) => void;
      const code = new Promise<number>((resolve) => (closed = resolve));
      const client = createClient({
        url: `${t.url.replace(/^http/, 'ws')}/graphql`,
        webSocketImpl: WebSocket,
        retryAttempts: 0,
        connectionParams: { Authorization: header(t.token) },
        on: { closed: (e) => closed((e as { code: number }).code) },
      });
      const result = await (async () => {
        for await (const r of client.iterate({ query: '{ health }' })) return r;
      })().catch((e) => e);
      expect(result).toMatchObject({ code: 4401 });
      expect(await code).toBe(4401);
      await client.dispose();
    });
  }

  it('still takes "Bearer <token>" (any case of the scheme) over HTTP and WebSocket', async () => {
    expect((await t.gql('{ health }')).status).toBe(200);
    const lower = await call('POST', '/graphql', { authorization: `bearer ${t.token}`, 'content-type': 'application/json' }, JSON.stringify({ query: '{ health }' }));
    expect(lower.status).toBe(200);
    const client = t.wsClient({});
    const result = await (async () => {
      for await (const r of client.iterate({ query: '{ health }' })) return r;
    })();
    expect(result).toEqual({ data: { health: 'ok' } });
    await client.dispose();
  });
});
