import { describe, expect, it } from 'vitest';
import { GRAD_CASES, REQUIRED_GRADIENT_OPS } from './gradcheck-cases.ts';
import { gradcheck } from './gradcheck.ts';
import { lookupOp, registeredOps } from '../onnx/ops/registry.ts';

describe('backward rules against central finite differences (float64) and onnxruntime CPU', () => {
  for (const c of GRAD_CASES) {
    it(`${c.op}: ${c.name}`, async () => {
      const r = await gradcheck(c, { device: 'cpu' });
      expect(r.checks).toBeGreaterThan(0);
      expect(r.rel_err).toBeLessThanOrEqual(1e-3);
      expect(r.ort_err).toBeLessThanOrEqual(1e-4);
    });
  }
});

describe('coverage of the gradient table', () => {
  it('has a check for every operator the engine promises gradients for', () => {
    const covered = new Set(GRAD_CASES.map((c) => c.op));
    expect(REQUIRED_GRADIENT_OPS.filter((op) => !covered.has(op))).toEqual([]);
  });

  it('has a check for every registered operator with a backward rule', () => {
    const covered = new Set(GRAD_CASES.map((c) => c.op));
    const withRule = registeredOps().filter((op) => lookupOp(op)!.backward);
    expect(withRule.filter((op) => !covered.has(op) && op !== 'Cast')).toEqual([]);
  });

  it('includes whole-model checks of an encoder and a UNet block', () => {
    const models = GRAD_CASES.filter((c) => c.op === 'model').map((c) => c.name);
    expect(models.some((m) => m.includes('attention readout'))).toBe(true);
    expect(models.some((m) => m.includes('UNet block'))).toBe(true);
  });
});
