/**
 * The SDK guide's example (docs/sdk.md) runs as written: its shell block and its TypeScript block,
 * taken from the guide, run against a real service (a free port, `EXCITE_URL` and `EXCITE_TOKEN`
 * pointing at it as the guide tells a user to set them). The service registers "demo models" at
 * start as `npm start` does, from a folder laid out like the repository (`models/demo/attention-train`: a
 * tiny encoder of ten neurons of session 201025; `models/demo/prior`: a tiny prior), and the
 * blocks run in that folder, which has the repository's node_modules (`npx excite`, `npx tsx`,
 * `@excite/sdk` resolve as in the repository root).
 */
import { execFile } from 'node:child_process';
import { readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { writeTinyPrior } from '@excite/api/src/testing/fixtures.ts';
import { tempDir } from '@excite/api/src/testing/harness.ts';
import { type SdkTestService, startSdkTestService, writeTenNeuronEncoder } from './testing/service.ts';

// this suite's time limit: runs the SDK guide's example as a user would (its own processes may take 240 s)
vi.setConfig({ testTimeout: 300_000 });

const root = fileURLToPath(new URL('../../../', import.meta.url));
const DOC = 'docs/sdk.md';
const HEADING = '## Example: EGG and GA for ten neurons';

/** The fenced blocks of the guide's example section, by language. */
function exampleBlocks(doc: string): { sh: string; ts: string } {
  const start = doc.indexOf(`${HEADING}`);
  if (start < 0) throw new Error(`${DOC} has no section "${HEADING}"`);
  const rest = doc.slice(start + HEADING.length);
  const section = rest.slice(0, rest.search(/\n#{1,3} /) >>> 0);
  const blocks = [...section.matchAll(/^```(\w+)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1], code: m[2] }));
  const one = (lang: string) => {
    const found = blocks.filter((b) => b.lang === lang);
    if (found.length !== 1) throw new Error(`the example section should have one \`\`\`${lang} block, it has ${found.length}`);
    return found[0].code;
  };
  return { sh: one('sh'), ts: one('ts') };
}

const run = promisify(execFile);
const blocks = exampleBlocks(await readFile(join(root, DOC), 'utf8'));

describe('the SDK guide’s example (docs/sdk.md)', () => {
  let s: SdkTestService;
  let work: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    work = await tempDir('readme');
    await Promise.all([writeTenNeuronEncoder(join(work, 'models/demo/attention-train')), writeTinyPrior(join(work, 'models/demo/prior'))]);
    await symlink(join(root, 'node_modules'), join(work, 'node_modules'));
    await writeFile(join(work, 'package.json'), '{ "private": true, "type": "module" }\n');
    s = await startSdkTestService({ demoModels: join(work, 'models/demo') });
    // npx never fetches: excite and tsx are the repository's
    env = { ...process.env, EXCITE_URL: s.url, EXCITE_TOKEN: s.token, npm_config_offline: 'true', npm_config_update_notifier: 'false' };
  });

  afterAll(async () => {
    await s?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('the shell commands register the model, run EGG and GA for ten neurons and export the images', async () => {
    await writeFile(join(work, 'example.sh'), blocks.sh);
    const { stdout, stderr } = await run('bash', ['-euo', 'pipefail', 'example.sh'], { cwd: work, env, timeout: 240_000 }).catch((e) => {
      throw new Error(`the guide's shell example failed (${e.code}):\n${e.stdout}\n${e.stderr}`);
    });
    // not a terminal: a line per finished run
    expect(stderr.match(/: SUCCEEDED, activation /g)).toHaveLength(20);
    const csv = (await readFile(join(work, 'meis/images.csv'), 'utf8')).trim().split('\n');
    expect(csv).toHaveLength(1 + 20);
    // images export prints the CSV's path, then head shows its first lines
    expect(stdout).toBe(`meis/images.csv\n${csv.slice(0, 3).join('\n')}\n`);
    expect(csv[0]).toMatch(/^stimulus,png,npy,image,run,batch,generator,method,kind,session,neuron,seed,.*,score:attention-train$/);
    expect(csv.slice(1).map((row) => row.split(',').slice(7, 12).join(' '))).toEqual([
      ...Array.from({ length: 10 }, (_, k) => `EGG MEI 201025 ${k} 0`),
      ...Array.from({ length: 10 }, (_, k) => `GA MEI 201025 ${k} 0`),
    ]);
    expect((await readdir(join(work, 'meis'))).filter((f) => /\.(png|npy)$/.test(f))).toHaveLength(40);
  });

  it('the TypeScript example does the same through the SDK', async () => {
    await writeFile(join(work, 'example.ts'), blocks.ts);
    const { stdout } = await run('npx', ['tsx', 'example.ts'], { cwd: work, env, timeout: 240_000 }).catch((e) => {
      throw new Error(`the guide's TypeScript example failed (${e.code}):\n${e.stdout}\n${e.stderr}`);
    });
    expect(stdout.match(/^(EGG|GA) \d SUCCEEDED attention-train -?\d+\.\d\d$/gm)).toHaveLength(20);
    expect(stdout).toMatch(/^EGG 201025:9 step 100\/100 activation \d+\.\d{3}$/m);
    expect(stdout).toMatch(/^20 images, scores in meis-ts\/images\.csv$/m);
    expect((await readFile(join(work, 'meis-ts/images.csv'), 'utf8')).trim().split('\n')).toHaveLength(21);
  });

  it('the TypeScript example type-checks with the repository’s settings', async () => {
    const file = join(work, 'typecheck.ts');
    await writeFile(file, blocks.ts);
    const config = ts.getParsedCommandLineOfConfigFile(join(root, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => void console.error(d.messageText) });
    const program = ts.createProgram([file], { ...config!.options, noEmit: true });
    const errors = ts.getPreEmitDiagnostics(program).map((d) => `${d.file?.fileName ?? ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
    expect(errors).toEqual([]);
  });
});
