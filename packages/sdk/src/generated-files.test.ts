/** The SDK's generated files are what graphql-codegen makes of schema.graphql and src/operations (`npm run codegen` rewrites them). */
import { readFile } from 'node:fs/promises';
import { isAbsolute, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generate } from '@graphql-codegen/cli';
import { describe, expect, it } from 'vitest';
import codegenConfig, { GENERATED_FILES } from '../codegen.ts';

const sdkDir = fileURLToPath(new URL('..', import.meta.url));

describe('generated files', () => {
  it('the SDK types and documents are fresh (npm run codegen)', async () => {
    const outputs: { filename: string; content: string }[] = await generate({ ...codegenConfig, cwd: sdkDir, silent: true }, false);
    const byFile = new Map(outputs.map((o) => [isAbsolute(o.filename) ? relative(sdkDir, o.filename) : o.filename, o.content]));
    expect([...byFile.keys()].sort()).toEqual([...GENERATED_FILES].sort());
    for (const file of GENERATED_FILES) {
      const committed = await readFile(join(sdkDir, file), 'utf8');
      expect(byFile.get(file) === committed, `packages/sdk/${file} is stale: run npm run codegen`).toBe(true);
    }
  });
});
