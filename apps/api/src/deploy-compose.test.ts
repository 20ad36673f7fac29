/**
 * deploy/compose.yaml (docs/scaling.md) stays true to the repository without Docker: it parses as
 * YAML; its bind mount is the repository root; every service it depends on and every named volume
 * it mounts is declared; each `npx excite ...` command line names a command of the command line
 * with options that command has; DATABASE_URL points at the compose file's PostgreSQL with its
 * user, password and database; and the EXCITE_* variables it sets are ones the code reads, with
 * values the code accepts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseDevice } from '@excite/engine';
import { migrateCommand, serveCommand, workerCommand } from './cli/commands/serve.ts';
import { tokenCommand } from './cli/commands/token.ts';
import { DEFAULT_LIMITS, limitsFromEnv } from './config.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const file = join(root, 'deploy/compose.yaml');

interface Service {
  image?: string;
  command?: string;
  working_dir?: string;
  volumes?: string[];
  environment?: Record<string, string>;
  depends_on?: string[];
  ports?: string[];
}
interface Compose {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

const compose = parse(readFileSync(file, 'utf8'), { merge: true }) as Compose;
const services = Object.entries(compose.services);

/** The `excite` commands a compose command line may run. */
const COMMANDS: Record<string, () => Command> = { serve: serveCommand, worker: workerCommand, migrate: migrateCommand, token: tokenCommand };

/** The `npx excite ...` invocations of a command line (`sh -c "a && b"` gives two). */
function exciteInvocations(command: string): string[][] {
  const inner = command.match(/^sh -c "(.*)"$/)?.[1] ?? command;
  return inner.split('&&').map((part) => part.trim().split(/\s+/));
}

/** Problems of one `npx excite <command> [subcommand] --option value ...` against the CLI. */
function checkInvocation(words: string[]): string[] {
  if (words[0] !== 'npx' || words[1] !== 'excite') return [`"${words.join(' ')}" does not run npx excite`];
  const make = COMMANDS[words[2]];
  if (!make) return [`"${words[2]}" is not an excite command here (${Object.keys(COMMANDS).join(', ')})`];
  let command = make();
  let args = words.slice(3);
  if (command.commands.length) {
    const sub = command.commands.find((c) => c.name() === args[0]);
    if (!sub) return [`"excite ${words[2]} ${args[0]}" is not a subcommand`];
    command = sub;
    args = args.slice(1);
  }
  const problems: string[] = [];
  const given = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    if (!args[i].startsWith('--')) continue;
    const option = command.options.find((o) => o.long === args[i]);
    if (!option) problems.push(`excite ${words[2]}: no option ${args[i]}`);
    else {
      given.add(option.attributeName());
      if (option.required) i++; // its value
    }
  }
  for (const o of command.options) if (o.mandatory && !given.has(o.attributeName())) problems.push(`excite ${words[2]}: ${o.long} is required`);
  return problems;
}

describe('deploy/compose.yaml', () => {
  it('parses and declares the five processes of docs/scaling.md', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['api', 'db', 'migrate', 'worker-cpu', 'worker-gpu']);
  });

  it('mounts the repository root, and only volumes it declares', () => {
    for (const [name, s] of services) {
      for (const volume of s.volumes ?? []) {
        const [source] = volume.split(':');
        if (source.startsWith('.') || source.startsWith('/')) {
          const host = resolve(join(root, 'deploy'), source);
          expect(host, `${name}: ${volume}`).toBe(resolve(root));
          expect(existsSync(join(host, 'apps/api/bin/excite.js')), `${name}: ${volume} holds apps/api/bin/excite.js`).toBe(true);
        } else {
          expect(Object.keys(compose.volumes ?? {}), `${name}: volume "${source}"`).toContain(source);
        }
      }
    }
  });

  it('depends only on services it declares', () => {
    for (const [name, s] of services) for (const d of s.depends_on ?? []) expect(Object.keys(compose.services), `${name} depends on ${d}`).toContain(d);
  });

  it('runs excite commands and options that exist', () => {
    const problems = services.filter(([, s]) => s.command).flatMap(([name, s]) => exciteInvocations(s.command!).flatMap(checkInvocation).map((p) => `${name}: ${p}`));
    expect(problems).toEqual([]);
    // the API processes leave the jobs to the workers
    expect(compose.services.api.command).toContain('--no-worker');
  });

  it('points DATABASE_URL at its own PostgreSQL', () => {
    const db = compose.services.db.environment!;
    for (const [name, s] of services.filter(([n]) => n !== 'db')) {
      const url = new URL(s.environment?.DATABASE_URL ?? '');
      expect([url.protocol, url.hostname, url.username, url.password, url.pathname], name).toEqual(['postgres:', 'db', db.POSTGRES_USER, db.POSTGRES_PASSWORD, `/${db.POSTGRES_DB}`]);
    }
  });

  it('sets only EXCITE_* variables the code reads, to values it accepts', () => {
    for (const [name, s] of services) {
      for (const [key, value] of Object.entries(s.environment ?? {})) {
        if (!key.startsWith('EXCITE_')) continue;
        if (key === 'EXCITE_DEVICE') expect(() => parseDevice(value), `${name}: ${key}`).not.toThrow();
        else if (key.startsWith('EXCITE_LIMIT_')) {
          const limits = limitsFromEnv({ [key]: value });
          expect(Object.keys(limits), `${name}: ${key} names a limit of ${Object.keys(DEFAULT_LIMITS).join(', ')}`).toHaveLength(1);
        } else expect.fail(`${name}: ${key} is not checked here; add it to this test`);
      }
    }
  });
});
