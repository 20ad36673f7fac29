/**
 * A WebSocket connection does not keep a token alive: a token revoked while its connection is open
 * can do nothing more on it, and its connections close with 4403, whether it was revoked through
 * this process (at once) or by another one (the CLI writes the database: within the token cache).
 */
import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { revokeToken } from './tokens.ts';
import { type TestService, startTestService } from '../testing/harness.ts';

interface Socket {
  client: Client;
  /** the close event's code and reason, once the server closed the connection */
  closed: Promise<{ code: number; reason: string }>;
}

/** A graphql-ws client with `token` whose connection stays open while a subscription runs. */
function socket(t: TestService, token: string): Socket {
  let onClose!: (e: { code: number; reason: string }) => void;
  const closed = new Promise<{ code: number; reason: string }>((resolve) => (onClose = resolve));
  const client = createClient({
    url: `${t.url.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    connectionParams: { Authorization: `Bearer ${token}` },
    on: { closed: (e) => onClose(e as { code: number; reason: string }) },
  });
  return { client, closed };
}

/** Subscribes; resolves once the server acknowledged the connection, and records what ends the subscription. */
async function hold(s: Socket): Promise<{ ended: Promise<unknown> }> {
  let connected!: () => void;
  const ready = new Promise<void>((resolve) => (connected = resolve));
  s.client.on('connected', () => connected());
  const ended = (async () => {
    try {
      for await (const _ of s.client.iterate({ query: 'subscription { runStatusChanged { runId } }' })) {
        // no runs start in these tests
      }
      return 'completed';
    } catch (e) {
      return e;
    }
  })();
  await ready;
  return { ended };
}

/** The answer of one operation over the socket: its data or the error/close event that ended it. */
async function once(s: Socket, query: string): Promise<{ data?: unknown; error?: unknown }> {
  try {
    for await (const result of s.client.iterate({ query })) return result.errors ? { error: result.errors } : { data: result.data };
    return {};
  } catch (error) {
    return { error };
  }
}

describe('tokens and sockets', () => {
  let t: TestService;
  beforeAll(async () => {
    t = await startTestService('pglite', { worker: false, limits: { rateLimitPerSecond: 0 } });
  });
  afterAll(() => t?.stop());

  async function newToken(role: 'read' | 'admin', name: string): Promise<{ token: string; id: string }> {
    const { createToken } = await t.ok<{ createToken: { token: string; info: { id: string } } }>(`mutation($name: String!) { createToken(input: { role: ${role.toUpperCase()}, name: $name }) { token info { id } } }`, { name });
    return { token: createToken.token, id: createToken.info.id };
  }

  it('a revoked admin token can mint nothing over its open socket: the socket closes with 4403', async () => {
    const admin = await newToken('admin', 'soon revoked admin');
    const s = socket(t, admin.token);
    const { ended } = await hold(s);
    // the token works on its socket
    expect(await once(s, '{ viewer { name } }')).toEqual({ data: { viewer: { name: 'soon revoked admin' } } });

    await t.ok('mutation($id: ID!) { revokeToken(id: $id) { revokedAt } }', { id: admin.id });
    const tokens = await t.count('api_tokens');
    const minted = await once(s, 'mutation { createToken(input: { role: ADMIN, name: "minted by a revoked token" }) { token } }');
    expect(minted.data).toBeUndefined();
    expect(await s.closed).toMatchObject({ code: 4403 });
    expect((await s.closed).reason).toMatch(/revoked/);
    expect(await t.count('api_tokens')).toBe(tokens);
    // the running subscription ended with the close
    expect(await ended).toMatchObject({ code: 4403 });
    await s.client.dispose();
  });

  it('a token revoked by another process is refused at its next operation on an open socket', async () => {
    const reader = await newToken('read', 'revoked elsewhere');
    const s = socket(t, reader.token);
    await hold(s);
    expect(await once(s, '{ viewer { name } }')).toEqual({ data: { viewer: { name: 'revoked elsewhere' } } });
    // as `excite token revoke` does: the database only, nothing in this process hears of it
    expect(await revokeToken(t.service.database.db, reader.id)).toBe(true);
    // the verifier's cache (5 s) lapses; forgetting it stands for that wait
    t.service.tokens.forget();
    const after = await once(s, '{ viewer { name } }');
    expect(after.data).toBeUndefined();
    expect(await s.closed).toMatchObject({ code: 4403 });
    await s.client.dispose();
  });

  it('closes an idle socket of a token revoked by another process, within the token cache and the sweep', async () => {
    const reader = await newToken('read', 'idle, revoked elsewhere');
    const s = socket(t, reader.token);
    const { ended } = await hold(s);
    expect(await revokeToken(t.service.database.db, reader.id)).toBe(true);
    // no operation on the socket: the server's sweep finds the revocation once the cache lapses (5 s + 1 s)
    expect(await s.closed).toMatchObject({ code: 4403 });
    expect(await ended).toMatchObject({ code: 4403 });
    await s.client.dispose();
  }, 20_000);

  it('leaves the sockets of other tokens open', async () => {
    const kept = await newToken('read', 'kept');
    const other = await newToken('read', 'revoked neighbour');
    const s = socket(t, kept.token);
    await hold(s);
    await t.ok('mutation($id: ID!) { revokeToken(id: $id) { revokedAt } }', { id: other.id });
    expect(await once(s, '{ viewer { name } }')).toEqual({ data: { viewer: { name: 'kept' } } });
    await s.client.dispose();
  });
});
