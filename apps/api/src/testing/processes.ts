/** `excite` commands as child processes (the CLI's own entry point), for tests and benchmarks. */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type ServiceClient, serviceClient } from './harness.ts';

export const EXCITE_BIN = fileURLToPath(new URL('../../bin/excite.js', import.meta.url));

export interface ExciteProcess {
  child: ChildProcess;
  /** everything it printed so far (stdout and stderr) */
  output(): string;
  /** SIGTERM (or `signal`) and its exit code */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `excite <args>` and resolves once its output matches `ready` (with the match). */
export async function startExcite(args: string[], env: NodeJS.ProcessEnv, ready: RegExp, timeoutMs = 60_000): Promise<ExciteProcess & { match: RegExpExecArray }> {
  const child = spawn(process.execPath, [EXCITE_BIN, ...args], { env: { ...process.env, ...env } });
  let out = '';
  child.stdout!.on('data', (chunk) => (out += chunk));
  child.stderr!.on('data', (chunk) => (out += chunk));
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    child.kill(signal);
    const [code] = await once(child, 'exit');
    return code as number | null;
  };
  const until = Date.now() + timeoutMs;
  for (;;) {
    const match = ready.exec(out);
    if (match) return { child, output: () => out, stop, match };
    if (child.exitCode !== null || Date.now() > until) {
      await stop('SIGKILL');
      throw new Error(`excite ${args.join(' ')} did not start:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * An API process without a worker and `workers` `excite worker` processes sharing one database
 * (`env.DATABASE_URL`) and data folder, with an admin token the operator made first (which also
 * migrates the database): what the crash-recovery tests kill workers of.
 */
export async function startCluster(o: { data: string; env: NodeJS.ProcessEnv; workers: number }): Promise<{ api: ExciteProcess; workers: ExciteProcess[]; client: ServiceClient }> {
  const { stdout } = await promisify(execFile)(process.execPath, [EXCITE_BIN, 'token', 'create', '--role', 'admin', '--name', 'operator', '--data', o.data, '--json'], { env: { ...process.env, ...o.env } });
  const { token } = JSON.parse(stdout) as { token: string };
  const [api, ...workers] = await Promise.all([
    startExcite(['serve', '--no-worker', '--no-demo', '--no-dashboard', '--port', '0', '--host', '127.0.0.1', '--data', o.data], o.env, /serving GraphQL at (http:\/\/\S+)\/graphql/),
    ...Array.from({ length: o.workers }, () => startExcite(['worker', '--data', o.data], o.env, /excite: worker /)),
  ]);
  const client = serviceClient(api.match[1], token, () => `\napi:\n${api.output()}\nworkers:\n${workers.map((w) => w.output()).join('\n---\n')}`);
  return { api, workers, client };
}
