/**
 * The documentation stays true to the repository: every relative link of the README and docs/
 * leads to a file that exists (and to a heading of it, for #anchors), and no code, comment, schema
 * description or document cites documents a user of the repository does not have.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const documents = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens. */
const anchorOf = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');

function anchors(file: string): Set<string> {
  const text = readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, '');
  return new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => anchorOf(m[1])));
}

describe('the documentation', () => {
  it('links only to files and headings that exist', () => {
    const broken: string[] = [];
    for (const doc of documents) {
      const text = readFileSync(join(ROOT, doc), 'utf8').replace(/```[\s\S]*?```/g, '');
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/.test(target)) continue; // http(s), mailto
        const [path, anchor] = target.split('#');
        const file = path ? resolve(dirname(join(ROOT, doc)), path) : join(ROOT, doc);
        if (!existsSync(file)) broken.push(`${doc}: ${target} (no such file)`);
        else if (anchor && file.endsWith('.md') && !anchors(file).has(anchor)) broken.push(`${doc}: ${target} (no heading #${anchor} in ${relative(ROOT, file)})`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('cites nothing outside the repository: no shared documents, no spec section numbers', () => {
    const tracked = execFileSync('git', ['ls-files', '*.ts', '*.tsx', '*.graphql', '*.md', '*.py', '*.sh', '*.mjs'], { cwd: ROOT, encoding: 'utf8' }).split('\n').filter(Boolean);
    const self = relative(ROOT, fileURLToPath(import.meta.url));
    const citations: string[] = [];
    for (const file of tracked) {
      if (file === self || !existsSync(join(ROOT, file))) continue;
      const lines = readFileSync(join(ROOT, file), 'utf8').split('\n');
      lines.forEach((line, i) => {
        if (/shared\/docs|egg-spec|\bspec(ification)? (section|§) ?\d|\(spec \d|architecture\.md contract/i.test(line)) citations.push(`${file}:${i + 1}: ${line.trim()}`);
      });
    }
    expect(citations).toEqual([]);
  });
});
