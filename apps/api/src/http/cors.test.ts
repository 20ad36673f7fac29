/**
 * The dashboard is served from another origin (port 3000) and calls the API from the browser:
 * preflights are answered without a token, and answers (refusals too) carry the CORS headers a
 * browser needs to read them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestService, startTestService } from '../testing/harness.ts';

const DASHBOARD = 'http://localhost:3000';

describe('CORS for the dashboard', () => {
  let t: TestService;

  beforeAll(async () => {
    t = await startTestService('pglite', { worker: false });
  });

  afterAll(async () => {
    await t?.stop();
  });

  it('answers a preflight of a GraphQL POST with a bearer token', async () => {
    const res = await t.fetch('/graphql', {
      method: 'OPTIONS',
      token: null,
      headers: { origin: DASHBOARD, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toMatch(/^(\*|http:\/\/localhost:3000)$/);
    expect(res.headers.get('access-control-allow-methods')).toContain('POST');
    const allowed = res.headers.get('access-control-allow-headers')!.toLowerCase();
    expect(allowed).toContain('authorization');
    expect(allowed).toContain('content-type');
  });

  it('lets the browser read answers and refusals, and blobs', async () => {
    const ok = await t.fetch('/graphql', { method: 'POST', headers: { origin: DASHBOARD, 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ health }' }) });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('access-control-allow-origin')).toBeTruthy();
    const refused = await t.fetch('/graphql', { method: 'POST', token: null, headers: { origin: DASHBOARD, 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ health }' }) });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('access-control-allow-origin')).toBeTruthy();
    const blob = await t.fetch(`/blobs/${'0'.repeat(64)}`, { headers: { origin: DASHBOARD } });
    expect(blob.status).toBe(404);
    expect(blob.headers.get('access-control-allow-origin')).toBeTruthy();
  });
});
