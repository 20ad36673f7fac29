import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { V4_DATA, v4Title } from '@excite/engine/testing';

const run = promisify(execFile);
const bin = fileURLToPath(new URL('../../../bin/excite.js', import.meta.url));

describe.runIf(V4_DATA)(v4Title('excite eval --json'), () => {
  it('prints one JSON document with median_r, mean_r and per_neuron for a ground-truth compact model', async () => {
    const { stdout } = await run(process.execPath, [bin, 'eval', '--model', join(V4_DATA!, 'compact/201025/neuron3.safetensors'), '--data', join(V4_DATA!, 'sessions/201025'), '--images', '600:700', '--json']);
    const e = JSON.parse(stdout);
    expect(e.per_neuron).toHaveLength(1);
    expect(e.neurons).toEqual([3]);
    expect(e.images).toBe(100);
    expect(e.median_r).toBe(e.per_neuron[0]);
    expect(e.median_r).toBeGreaterThan(0.3);
  });

  it('--attention: the demo twin attends to part of the map, by every measure of how peaked attention is', async () => {
    const model = fileURLToPath(new URL('../../../../../models/demo/attention-val', import.meta.url));
    const { stdout } = await run(process.execPath, [bin, 'eval', '--model', model, '--data', join(V4_DATA!, 'sessions/210225'), '--images', '600:640', '--attention', '--json']);
    const a = JSON.parse(stdout).attention;
    expect(a.positions).toBe(1024);
    expect(a.median_max_weight).toBeGreaterThan(5 / a.positions);
    expect(a.median_effective_positions).toBeLessThan(0.5 * a.positions);
    // uniform attention holds half of itself in half of the map, at the uniform spread
    expect(a.median_half_mass_area).toBeLessThan(0.25);
    expect(a.median_spread).toBeLessThan(0.9 * a.uniform_spread);
    expect(a.localized_fraction).toBeGreaterThanOrEqual(0);
    expect(a.localized_fraction).toBeLessThanOrEqual(1);
  });

  it('refuses an empty image range with a clear message', async () => {
    const err = await run(process.execPath, [bin, 'eval', '--model', join(V4_DATA!, 'compact/201025/neuron3.safetensors'), '--data', join(V4_DATA!, 'sessions/201025'), '--images', '700:600']).catch((e) => e);
    expect(err.code).toBe(1);
    expect(err.stderr).toMatch(/image range 700:600 is empty or beyond the 1200 images/);
  });
});
