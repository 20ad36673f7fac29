/**
 * Generated files are what their sources make: the resolver types are graphql-codegen's output for
 * schema.graphql (`npm run codegen` rewrites them), and the migrations in /drizzle describe
 * db/schema.ts (`npm run db:generate` adds the next one).
 */
import { execFile } from 'node:child_process';
import { cp, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { generate } from '@graphql-codegen/cli';
import { describe, expect, it } from 'vitest';
import codegenConfig, { GENERATED_RESOLVER_TYPES } from '../codegen.ts';
import { MIGRATIONS_FOLDER } from './db/database.ts';
import { tempDir } from './testing/harness.ts';

const apiDir = fileURLToPath(new URL('..', import.meta.url));

describe('generated files', () => {
  it('the resolver types are fresh (npm run codegen)', async () => {
    const [output] = await generate({ ...codegenConfig, cwd: apiDir, silent: true }, false);
    const committed = await readFile(join(apiDir, GENERATED_RESOLVER_TYPES), 'utf8');
    expect(output.content === committed, `${GENERATED_RESOLVER_TYPES} is stale: run npm run codegen`).toBe(true);
  });

  it('the migrations describe the Drizzle schema (npm run db:generate)', async () => {
    const dir = await tempDir('migrations');
    try {
      await cp(MIGRATIONS_FOLDER, join(dir, 'drizzle'), { recursive: true });
      const before = await readdir(join(dir, 'drizzle'), { recursive: true });
      const drizzleKit = fileURLToPath(new URL('../../../node_modules/.bin/drizzle-kit', import.meta.url));
      // drizzle-kit takes the output folder relative to its working directory
      const { stdout } = await promisify(execFile)(drizzleKit, ['generate', '--dialect', 'postgresql', '--schema', join(apiDir, 'src/db/schema.ts'), '--out', 'drizzle'], { cwd: dir });
      expect(stdout, 'db/schema.ts changed without a migration: run npm run db:generate').toMatch(/No schema changes/);
      expect(await readdir(join(dir, 'drizzle'), { recursive: true })).toEqual(before);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
