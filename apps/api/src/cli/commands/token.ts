/**
 * `excite token create|list|revoke`: bearer tokens, straight in the database (DATABASE_URL, or the
 * embedded one in --data, which `excite serve` must not hold at the same time: a running embedded
 * service makes tokens through the createToken mutation instead).
 */
import { Command } from 'commander';
import { TOKEN_ROLES, type TokenRole, createToken, isRole, listTokens, revokeToken } from '../../auth/tokens.ts';
import { serviceConfig } from '../../config.ts';
import type { Database } from '../../db/database.ts';
import { openMigrated } from '../../service.ts';

async function withDatabase<T>(dataDir: string, body: (database: Database) => Promise<T>): Promise<T> {
  const database = await openMigrated(serviceConfig({ dataDir }));
  try {
    return await body(database);
  } finally {
    await database.close();
  }
}

const dataOption = ['--data <dir>', 'data directory of the embedded database (without DATABASE_URL)', './data'] as const;

export function tokenCommand(): Command {
  const token = new Command('token').description('bearer tokens of the service (roles: read < run < admin)');
  token
    .command('create')
    .description('a new token, printed once on stdout (only its SHA-256 is stored)')
    .requiredOption('--role <role>', `${TOKEN_ROLES.join(' | ')}`, (v: string): TokenRole => {
      if (!isRole(v)) throw new Error(`--role must be one of ${TOKEN_ROLES.join(', ')}, got "${v}"`);
      return v;
    })
    .option('--name <name>', 'who or what uses it', 'cli')
    .option(...dataOption)
    .option('--json', 'print {"token", "id", "role", "name"}')
    .action(async (o: { role: TokenRole; name: string; data: string; json?: boolean }) => {
      const created = await withDatabase(o.data, (database) => createToken(database.db, o.role, o.name));
      console.log(o.json ? JSON.stringify({ token: created.token, id: created.info.id, role: created.info.role, name: created.info.name }) : created.token);
      if (!o.json) console.error(`excite: token ${created.info.id} (${created.info.role}, "${created.info.name}") created; it is not shown again`);
    });
  token
    .command('list')
    .description('every token: id, role, name, prefix, created, last used, revoked')
    .option(...dataOption)
    .option('--json', 'one JSON document')
    .action(async (o: { data: string; json?: boolean }) => {
      const tokens = await withDatabase(o.data, (database) => listTokens(database.db));
      if (o.json) return void console.log(JSON.stringify({ tokens }));
      for (const t of tokens) {
        console.log([t.id, t.role.padEnd(5), `${t.prefix}...`, JSON.stringify(t.name), t.createdAt.toISOString(), t.lastUsedAt?.toISOString() ?? '-', t.revokedAt ? `revoked ${t.revokedAt.toISOString()}` : ''].join('  ').trimEnd());
      }
    });
  token
    .command('revoke')
    .description('revoke a token by id (API processes stop accepting it within 5 s)')
    .argument('<id>')
    .option(...dataOption)
    .action(async (id: string, o: { data: string }) => {
      const revoked = await withDatabase(o.data, (database) => revokeToken(database.db, id));
      if (!revoked) throw new Error(`no unrevoked token with id ${id}`);
      console.log(`excite: token ${id} revoked`);
    });
  return token;
}
