import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { initializedPglite, tempDir } from '../../testing/harness.ts';

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
async function serve(data: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [bin, 'serve', '--port', '0', '--data', data, '--no-demo'], { env });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (c) => (out += c));
  child.stderr!.on('data', (c) => (out += c));
  const until = Date.now() + 60_000;
  for (;;) {
    const m = /serving GraphQL at (http:\/\/\S+)\/graphql/.exec(out);
    if (m) return { child, url: m[1] };
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

    const { child, url } = await serve(data);
    const res = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ health }' }) });
    expect(await res.json()).toEqual({ data: { health: 'ok' } });

    const second = await run(process.execPath, [bin, 'serve', '--port', '0', '--data', data, '--no-demo'], { env }).catch((e) => e);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/in use by process \d+ \(another excite serve\?\)/);

    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
  });

  it('explains that a separate worker needs PostgreSQL', async () => {
    const err = await run(process.execPath, [bin, 'worker', '--data', join(root, 'w')], { env }).catch((e) => e);
    expect(err.code).toBe(1);
    expect(err.stderr).toMatch(/excite worker needs DATABASE_URL/);
  });
});
