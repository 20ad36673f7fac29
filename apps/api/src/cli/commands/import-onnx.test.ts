/**
 * `excite import-onnx` through the real CLI, with encoders exported from PyTorch (the engine's
 * fixtures/onnx) named as V4 neurons: the model folder it writes is a generator (GA and EGG) and an
 * evaluator in `excite compare` beside the demo models; refusals exit with the reason.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it, vi } from 'vitest';

// this suite's time limit: CLI processes that import graphs and run GA and EGG on them
vi.setConfig({ testTimeout: 180_000 });

const run = promisify(execFile);
const bin = fileURLToPath(new URL('../../../bin/excite.js', import.meta.url));
const repo = fileURLToPath(new URL('../../../../../', import.meta.url));
const fixtures = join(repo, 'packages/engine/fixtures/onnx');
const demo = join(repo, 'models/demo');
const root = mkdtempSync(join(tmpdir(), 'excite-cli-onnx-'));
const excite = (...args: string[]) => run(process.execPath, [bin, ...args], { cwd: root });
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** META.json for a fixture graph, its columns named as neurons 0.. of V4 session 201025. */
function meta(file: string, o: { name: string; architecture: string; neurons: number; channels: number; mean: number[]; std: number[]; output: string }) {
  writeFileSync(join(root, file), JSON.stringify({
    name: o.name,
    architecture: o.architecture,
    input: { channels: o.channels, mean: o.mean, std: o.std },
    neurons: Array.from({ length: o.neurons }, (_, i) => `201025:${i}`),
    output: o.output,
    dataKey: null,
  }));
}

describe('excite import-onnx', () => {
  it('imports two architectures that then generate and evaluate in excite compare beside the demo models', async () => {
    meta('resnet.json', { name: 'lab-resnet', architecture: 'ResNet-18-like core + linear readout', neurons: 10, channels: 3, mean: [123.675, 116.28, 103.53], std: [58.395, 57.12, 57.375], output: 'softplus' });
    meta('vit.json', { name: 'lab-vit', architecture: 'small vision transformer + linear readout', neurons: 7, channels: 1, mean: [128], std: [64], output: 'exp' });
    const resnet = JSON.parse((await excite('import-onnx', join(fixtures, 'resnet/model.onnx'), '--meta', 'resnet.json', '--out', 'lab-resnet', '--json')).stdout);
    expect(resnet).toMatchObject({ name: 'lab-resnet', neurons: 10, input: { channels: 3, height: 64, width: 64 } });
    expect(resnet.ops).toBeGreaterThan(20);
    const vit = JSON.parse((await excite('import-onnx', join(fixtures, 'vit/model.onnx'), '--meta', 'vit.json', '--out', 'lab-vit', '--json')).stdout);
    expect(vit).toMatchObject({ name: 'lab-vit', neurons: 7, input: { channels: 1, height: 32, width: 32 } });

    const evaluators = ['lab-resnet', join(demo, 'attention-train'), join(demo, 'gaussian-cross'), 'lab-vit'];
    const { stdout } = await excite('compare', '--generators', 'lab-resnet', '--evaluators', evaluators.join(','), '--neurons', '201025:2', '--methods', 'ga,egg', '--prior', join(demo, 'prior'), '--seeds', '0', '--steps', '6', '--out', 'cmp', '--json');
    const { rows } = JSON.parse(stdout);
    expect(rows.map((r: { method: string }) => r.method)).toEqual(['ga', 'egg']);
    for (const r of rows) {
      expect(r.generator).toBe('lab-resnet');
      expect(existsSync(join(root, r.image))).toBe(true);
      for (const e of evaluators) expect(Number.isFinite(r.scores[e])).toBe(true);
      // the generator's own score is its response to the stored stimulus
      expect(r.scores['lab-resnet']).toBeCloseTo(r.activation, 4);
    }
    // the table a person reads: one column per evaluator
    const table = (await excite('compare', '--generators', 'lab-vit', '--evaluators', 'lab-vit,lab-resnet', '--neurons', '201025:1', '--methods', 'ga', '--seeds', '0', '--steps', '4', '--out', 'cmp2')).stdout;
    expect(table).toContain('lab-resnet');
    expect(table).toContain('lab-vit');
  });

  it('exits with the reason: a META.json that contradicts the graph, a missing --meta', async () => {
    meta('wrong.json', { name: 'wrong', architecture: 'resnet', neurons: 12, channels: 3, mean: [1, 2, 3], std: [1, 1, 1], output: 'identity' });
    const wrong = await excite('import-onnx', join(fixtures, 'resnet/model.onnx'), '--meta', 'wrong.json', '--out', 'wrong').catch((e) => e);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/neurons lists 12 but the graph model\.onnx gives 10 outputs/);
    expect(existsSync(join(root, 'wrong'))).toBe(false);
    const bare = await excite('import-onnx', join(fixtures, 'resnet/model.onnx'), '--out', 'bare').catch((e) => e);
    expect(bare.stderr).toMatch(/--meta META\.json is needed/);
  });
});
