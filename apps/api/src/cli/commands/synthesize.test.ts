/**
 * The synthesis commands through the real CLI, on tiny random models written as model folders:
 * the JSON contracts of `excite synthesize` and `excite compare`, and their errors.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Graph, buildEncoder, unetGraph, writeEncoder, writePrior } from '@excite/engine';
import { TINY_ENCODER_SPEC, TINY_UNET } from '@excite/engine/testing';

// this suite's time limit: the CLI as processes, each synthesizing with every method: about 20 s a test
vi.setConfig({ testTimeout: 180_000 });

const run = promisify(execFile);
const bin = fileURLToPath(new URL('../../../bin/excite.js', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'excite-cli-synth-'));
const excite = (...args: string[]) => run(process.execPath, [bin, ...args], { cwd: root });

beforeAll(async () => {
  for (const [name, seed] of [['gen', 1], ['other', 2]] as const) {
    const g = new Graph();
    buildEncoder(g, g.input('image', 'float32', ['batch', 1, 12, 12]), TINY_ENCODER_SPEC, { seed });
    await writeEncoder(join(root, name), TINY_ENCODER_SPEC, new Map([...g.weights].map(([k, v]) => [k, v.data!])));
  }
  const { graph } = unetGraph(TINY_UNET, { seed: 3 });
  await writePrior(join(root, 'prior'), TINY_UNET, new Map([...graph.weights].map(([k, v]) => [k, v.data!])));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('excite synthesize --json', () => {
  it('writes the image and reports method, neuron, seed, seconds and activation', async () => {
    for (const method of ['ga', 'egg', 'egg-x0', 'meni']) {
      const { stdout } = await excite('synthesize', '--method', method, '--model', 'gen', '--prior', 'prior', '--neuron', '2', '--seed', '4', '--steps', '4', '--out', `${method}.png`, '--json');
      const r = JSON.parse(stdout);
      expect(r).toMatchObject({ method, neuron: 2, seed: 4, image: `${method}.png` });
      expect(r.seconds).toBeGreaterThan(0);
      expect(Number.isFinite(r.activation)).toBe(true);
      expect(existsSync(join(root, `${method}.png`))).toBe(true);
    }
  });

  it('names the problem: an unknown neuron, a missing prior', async () => {
    const unknown = await excite('synthesize', '--method', 'ga', '--model', 'gen', '--neuron', '7', '--json').catch((e) => e);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/neuron 7 is beyond the model's 3 neurons/);
    const session = await excite('synthesize', '--method', 'ga', '--model', 'gen', '--neuron', 'nope:1', '--json').catch((e) => e);
    expect(session.stderr).toMatch(/the model has no neuron 1 of session nope/);
  });
});

describe('excite compare --json', () => {
  it('scores every generated image with every evaluator in rows of the contract', async () => {
    const { stdout } = await excite('compare', '--generators', 'gen,other', '--evaluators', 'gen,other', '--neurons', 's1:1-2', '--methods', 'ga,egg', '--prior', 'prior', '--seeds', '0,1', '--steps', '3', '--out', 'cmp', '--json');
    const { rows } = JSON.parse(stdout);
    expect(rows).toHaveLength(2 * 2 * 2 * 2); // generators x methods x neurons x seeds
    for (const r of rows) {
      expect(Object.keys(r)).toEqual(expect.arrayContaining(['generator', 'method', 'neuron', 'seed', 'seconds', 'image', 'scores']));
      expect(Object.keys(r.scores)).toEqual(['gen', 'other']);
      expect(existsSync(join(root, r.image))).toBe(true);
    }
    // a generator scores its own images with the activation synthesis reached
    for (const r of rows.filter((r: { generator: string }) => r.generator === 'gen')) expect(r.scores.gen).toBeCloseTo(r.activation, 3);
  });
});
