import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { initializedPglite, tempDir } from '../../testing/harness.ts';

// this suite's time limit: starts excite serve as a process, dashboard included: about 50 s a test on a loaded machine
vi.setConfig({ testTimeout: 300_000 });

const run = promisify(execFile);
const bin = fileURLToPath(new URL('../../../bin/excite.js', import.meta.url));
const root = await tempDir('cli');
const env = { ...process.env, DATABASE_URL: '' };
const children: ChildProcess[] = [];
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await rm(root, { recursive: true, force: true });
});

/** Starts `excite serve` and waits for the line with its URL. */
async function serve(data: string): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const child = spawn(process.execPath, [bin, 'serve', '--port', '0', '--data', data, '--no-demo', '--no-dashboard'], { env });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (c) => (out += c));
  child.stderr!.on('data', (c) => (out += c));
  const until = Date.now() + 60_000;
  for (;;) {
    const m = /serving GraphQL at (http:\/\/\S+)\/graphql/.exec(out);
    if (m) return { child, url: m[1], output: () => out };
    if (child.exitCode !== null || Date.now() > until) throw new Error(`excite serve did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('excite migrate, serve, worker', () => {
  it('migrates, serves GraphQL at the printed URL, refuses a second server on the same data, stops on SIGTERM', async () => {
    const data = join(root, 'data');
    await initializedPglite(join(data, 'pglite'));
    const migrated = await run(process.execPath, [bin, 'migrate', '--data', data], { env });
    expect(migrated.stdout).toMatch(/migrations applied \(embedded database and blobs in .*data\)/);

    const { child, url, output } = await serve(data);
    // the first start prints an admin token, once
    const token = /^\s+(exc_\S+)$/m.exec(output())?.[1];
    expect(token).toBeDefined();
    expect((await fetch(`${url}/health`)).status).toBe(200);
    const query = (authorization?: string) =>
      fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) }, body: JSON.stringify({ query: '{ health viewer { role name } }' }) });
    expect(await (await query(`Bearer ${token}`)).json()).toEqual({ data: { health: 'ok', viewer: { role: 'ADMIN', name: 'initial admin' } } });
    const anonymous = await query();
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as { errors: { extensions: { code: string } }[] }).errors[0].extensions.code).toBe('UNAUTHENTICATED');

    const second = await run(process.execPath, [bin, 'serve', '--port', '0', '--data', data, '--no-demo', '--no-dashboard'], { env }).catch((e) => e);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/in use by process \d+ \(another excite serve\?\)/);

    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);

    // a second start prints no token; excite token makes, lists and revokes them (the server stopped: the embedded database is one process's)
    const again = await serve(data);
    expect(again.output()).not.toMatch(/exc_/);
    again.child.kill('SIGTERM');
    await once(again.child, 'exit');
    const created = JSON.parse((await run(process.execPath, [bin, 'token', 'create', '--role', 'read', '--name', 'analysis', '--data', data, '--json'], { env })).stdout);
    expect(created).toMatchObject({ token: expect.stringMatching(/^exc_[A-Za-z0-9_-]{43}$/), role: 'read', name: 'analysis' });
    await run(process.execPath, [bin, 'token', 'revoke', created.id, '--data', data], { env });
    const listed = (await run(process.execPath, [bin, 'token', 'list', '--data', data], { env })).stdout;
    expect(listed).toMatch(/admin .*"initial admin"/);
    expect(listed).toMatch(new RegExp(`${created.id}  read .*"analysis".*revoked`));
    expect(listed).not.toContain(created.token);
  });

  it('explains that a separate worker needs PostgreSQL', async () => {
    const err = await run(process.execPath, [bin, 'worker', '--data', join(root, 'w')], { env }).catch((e) => e);
    expect(err.code).toBe(1);
    expect(err.stderr).toMatch(/excite worker needs DATABASE_URL/);
  });
});
