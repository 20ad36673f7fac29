/**
 * The dashboard beside the API: `excite serve` runs apps/dashboard's production build with
 * `next start` as a child process on its own port (3000). The build is made on demand: when there
 * is none, or when the sources it was made from changed (a hash of the dashboard's and the SDK's
 * sources and of Next's version, kept in .next/excite-sources). The API serves meanwhile; a
 * dashboard that cannot be built or started is reported and the API serves on without it.
 *
 * The dashboard's server reads the API at EXCITE_API_SERVER_URL (the service's own address); the
 * browser's live parts (subscriptions) find it on the page's own host at the API's port
 * (EXCITE_API_PORT), unless EXCITE_API_URL names it (a proxy, another host).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { REPOSITORY_ROOT } from '../config.ts';

export const DASHBOARD_DIR = join(REPOSITORY_ROOT, 'apps/dashboard');
const SOURCES_STAMP = '.next/excite-sources';
/** Folders and files whose content the build depends on (relative to the repository root). */
const SOURCES = ['apps/dashboard/src', 'apps/dashboard/next.config.ts', 'apps/dashboard/package.json', 'apps/dashboard/tsconfig.json', 'packages/sdk/src', 'packages/sdk/package.json'];
const EXIT_WITH_PARENT = new URL('./exit-with-parent.mjs', import.meta.url).href;

export interface DashboardOptions {
  port: number;
  /** the interface to listen on (default: all) */
  host?: string;
  /** the API's port, on the page's host */
  apiPort: number;
  /** the GraphQL endpoint as the dashboard's server reaches it (default: the API's port on 127.0.0.1) */
  apiUrl?: string;
  log: (line: string) => void;
  /** the dashboard's folder (default apps/dashboard) */
  dir?: string;
}

export interface Dashboard {
  /** resolves with the dashboard's URL once it answers; rejects if it cannot be built or started */
  ready: Promise<string>;
  /** stops the build or the server, whichever runs */
  stop(): Promise<void>;
}

/** A hash of what the build is made of: every source file's path and bytes, and Next's version. */
export async function dashboardSourcesHash(nextVersion: string): Promise<string> {
  const hash = createHash('sha256').update(`next ${nextVersion}\n`);
  for (const source of SOURCES) {
    const path = join(REPOSITORY_ROOT, source);
    if (!existsSync(path)) continue;
    const files = source.endsWith('src') ? (await readdir(path, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name)) : [path];
    // tests do not go into the build
    for (const file of files.filter((f) => !/\.test\.tsx?$/.test(f)).sort()) hash.update(`${relative(REPOSITORY_ROOT, file)}\n`).update(await readFile(file));
  }
  return hash.digest('hex');
}

/** `next` of the dashboard's dependencies: its CLI and version (null when the workspace is not installed). */
function nextOf(dir: string): { bin: string; version: string } | null {
  try {
    const require = createRequire(join(dir, 'package.json'));
    const pkg = require.resolve('next/package.json');
    return { bin: join(pkg, '..', 'dist/bin/next'), version: (require(pkg) as { version: string }).version };
  } catch {
    return null;
  }
}

/** Runs `next <args>` in the dashboard's folder; the child's output is kept for errors (`onLine`: each line). */
function runNext(bin: string, dir: string, args: string[], env: NodeJS.ProcessEnv, onLine?: (line: string) => void): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, ['--import', EXIT_WITH_PARENT, bin, ...args], {
    cwd: dir,
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1', EXCITE_SERVE_PID: String(process.pid), ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let out = '';
  const take = (chunk: Buffer) => {
    const text = chunk.toString();
    out = (out + text).slice(-20_000);
    if (onLine) for (const line of text.split('\n')) if (line.trim()) onLine(line);
  };
  child.stdout!.on('data', take);
  child.stderr!.on('data', take);
  return { child, output: () => out };
}

const exited = (child: ChildProcess) => new Promise<number | null>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code))));

export function startDashboard(options: DashboardOptions): Dashboard {
  const dir = options.dir ?? DASHBOARD_DIR;
  let current: ChildProcess | undefined;
  let stopped = false;

  const ready = (async () => {
    const next = nextOf(dir);
    if (!next) throw new Error(`next is not installed for ${dir} (npm install)`);
    const stamp = join(dir, SOURCES_STAMP);
    const sources = await dashboardSourcesHash(next.version);
    const built = existsSync(join(dir, '.next/BUILD_ID')) && (await readFile(stamp, 'utf8').catch(() => '')) === sources;
    if (!built) {
      options.log('excite: building the dashboard (its first start, or its sources changed; about a minute)');
      const build = runNext(next.bin, dir, ['build'], {});
      current = build.child;
      const code = await exited(build.child);
      if (stopped) throw new Error('stopped');
      if (code !== 0 || !existsSync(join(dir, '.next/BUILD_ID'))) throw new Error(`next build failed (exit ${code}):\n${build.output().slice(-4000)}`);
      await writeFile(stamp, sources);
    }
    const args = ['start', '--port', String(options.port), ...(options.host ? ['--hostname', options.host] : [])];
    const server = runNext(next.bin, dir, args, { EXCITE_API_PORT: String(options.apiPort), ...(options.apiUrl ? { EXCITE_API_SERVER_URL: options.apiUrl } : {}) });
    current = server.child;
    const host = !options.host || options.host === '0.0.0.0' || options.host === '::' ? 'localhost' : options.host;
    const url = `http://${host}:${options.port}`;
    // "Ready" comes before Next has looked for the build: ready is when a page answers
    for (;;) {
      if (server.child.exitCode !== null || server.child.signalCode !== null) throw new Error(`next start exited (${server.child.exitCode ?? server.child.signalCode}):\n${server.output().slice(-4000)}`);
      if (/Ready in/.test(server.output())) {
        const answer = await fetch(`${url}/`, { signal: AbortSignal.timeout(10_000) }).catch(() => null);
        if (answer && answer.status < 500) return url;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  // the caller reports a failure; an unobserved rejection must not end the process
  ready.catch(() => {});

  return {
    ready,
    async stop() {
      stopped = true;
      const child = current;
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited(child);
      clearTimeout(timer);
    },
  };
}
