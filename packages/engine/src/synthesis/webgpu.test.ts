/**
 * The whole EGG loop (UNet forward and backward, encoder gradient) and GA on onnxruntime's WebGPU
 * provider give what the CPU gives. CI runs it on Mesa's lavapipe (EXCITE_TEST_WEBGPU=1, with
 * EXCITE_WEBGPU_CPU_OPS=Conv,ConvTranspose: see docs/gpu.md); elsewhere it is skipped.
 */
import { describe, expect, it, vi } from 'vitest';
import { eggMei, eggX0Mei } from './egg.ts';
import { gaMei } from './ga.ts';
import { tinyEncoder, tinyPrior } from './testing/tiny-models.ts';

// this suite's time limit: whole EGG and GA runs on a software Vulkan device: up to 40 s a test
vi.setConfig({ testTimeout: 240_000 });

const enabled = process.env.EXCITE_TEST_WEBGPU === '1';
if (!enabled) console.warn('WebGPU synthesis checks skipped: set EXCITE_TEST_WEBGPU=1 on a machine with a Vulkan driver (.ci/run does)');

const encoder = tinyEncoder(1);
const prior = tinyPrior(2);
const items = [
  { neuron: 1, seed: 3 },
  { neuron: 2, seed: 4 },
];

function relativeDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(a[i]));
  }
  return d / m;
}

describe.runIf(enabled)('synthesis on the WebGPU provider', () => {
  it('EGG (gradient through the UNet) matches the CPU', async () => {
    const cpu = await eggMei(encoder, prior, items, { steps: 5, session: { device: 'cpu' } });
    const gpu = await eggMei(encoder, prior, items, { steps: 5, session: { device: 'webgpu' } });
    expect(relativeDiff(cpu.images.data, gpu.images.data)).toBeLessThan(1e-3);
    expect(relativeDiff(cpu.activation, gpu.activation)).toBeLessThan(1e-3);
  });

  it('EGG with the UNet in float16 (use_fp16) stays within float16 rounding of float32', async () => {
    const full = await eggMei(encoder, prior, items, { steps: 5, session: { device: 'webgpu' } });
    const half = await eggMei(encoder, prior, items, { steps: 5, session: { device: 'webgpu' }, precision: 'float16' });
    const diff = relativeDiff(full.images.data, half.images.data);
    expect(diff).toBeGreaterThan(0);
    expect(diff).toBeLessThan(0.01);
  });

  it('EGG-x0 and GA match the CPU', async () => {
    const cpu = await eggX0Mei(encoder, prior, items, { steps: 5, session: { device: 'cpu' } });
    const gpu = await eggX0Mei(encoder, prior, items, { steps: 5, session: { device: 'webgpu' } });
    expect(relativeDiff(cpu.images.data, gpu.images.data)).toBeLessThan(1e-3);
    const gaCpu = await gaMei(encoder, items, { steps: 20, session: { device: 'cpu' } });
    const gaGpu = await gaMei(encoder, items, { steps: 20, session: { device: 'webgpu' } });
    expect(relativeDiff(gaCpu.images.data, gaGpu.images.data)).toBeLessThan(1e-3);
  });
});
