/**
 * The same gradient checks with onnxruntime's WebGPU provider. CI runs them on Mesa's software
 * Vulkan device (lavapipe, Mesa >= 25) with EXCITE_TEST_WEBGPU=1; elsewhere they are skipped.
 */
import { describe, expect, it } from 'vitest';
import { GRAD_CASES } from './gradcheck-cases.ts';
import { gradcheck } from './gradcheck.ts';

const enabled = process.env.EXCITE_TEST_WEBGPU === '1';
if (!enabled) console.warn('WebGPU gradient checks skipped: set EXCITE_TEST_WEBGPU=1 on a machine with a Vulkan driver (.ci/run does)');

describe.runIf(enabled)('backward rules on the WebGPU provider', () => {
  for (const c of GRAD_CASES) {
    it(`${c.op}: ${c.name}`, async () => {
      const r = await gradcheck(c, { device: 'webgpu' });
      expect(r.device).toBe('webgpu');
      expect(r.rel_err).toBeLessThanOrEqual(1e-3);
      expect(r.ort_err).toBeLessThanOrEqual(1e-4);
    });
  }
});
