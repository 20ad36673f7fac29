/**
 * The guidance scale follows the prior's image size: one rule (guidanceScaleFor), applied where the
 * registry resolves a method's settings and where a guided method is called without a scale.
 */
import { describe, expect, it } from 'vitest';
import { eggMei, EGG_DEFAULTS } from './egg.ts';
import { REFERENCE_IMAGE, guidanceScaleFor, priorImageShape, sizeScaledLabel } from './guidance-scale.ts';
import { MENI_DEFAULTS } from './meni.ts';
import { defaultLabel } from './methods/method.ts';
import { METHODS, methodOf, resolveBatchSettings, resolveSettings } from './methods/registry.ts';
import { RECONSTRUCTION_DEFAULTS } from './reconstruction.ts';
import { tinyEncoder, tinyPrior } from './testing/tiny-models.ts';

const DEMO = { channels: 1, height: 40, width: 40 };

describe('guidanceScaleFor', () => {
  it('gives the reference at 3x256x256 and scales it by sqrt(C H W / 196608) elsewhere', () => {
    expect(guidanceScaleFor(10, REFERENCE_IMAGE)).toBe(10);
    expect(guidanceScaleFor(10, { channels: 3, height: 256, width: 256 })).toBe(10);
    expect(guidanceScaleFor(10, DEMO)).toBeCloseTo(10 * Math.sqrt(1600 / 196608), 12);
    expect(guidanceScaleFor(2, DEMO)).toBeCloseTo(2 * Math.sqrt(1600 / 196608), 12);
    // the step per pixel, lambda / sqrt(C H W), is the same for every size
    const perPixel = (s: typeof DEMO) => guidanceScaleFor(10, s) / Math.sqrt(s.channels * s.height * s.width);
    expect(perPixel(DEMO)).toBeCloseTo(perPixel(REFERENCE_IMAGE), 12);
    expect(perPixel({ channels: 3, height: 64, width: 64 })).toBeCloseTo(perPixel(REFERENCE_IMAGE), 12);
    expect(() => guidanceScaleFor(10, { channels: 0, height: 40, width: 40 })).toThrow(/empty/);
  });

  it('reads a prior’s shape from its channels and image size', () => {
    expect(priorImageShape({ channels: 1, imageSize: 40 })).toEqual(DEMO);
  });
});

describe('the registry’s size-scaled guidance scale', () => {
  const references = { egg: EGG_DEFAULTS.scale, 'egg-x0': EGG_DEFAULTS.scale, diverse: EGG_DEFAULTS.scale } as const;
  /** weak guidance keeps a fixed default: scaled down it would no longer guide */
  const fixed = { meni: MENI_DEFAULTS.scale, recon: RECONSTRUCTION_DEFAULTS.scale } as const;

  it('declares every prior-guided method’s scale as its reference at 3x256x256, no fixed default', () => {
    for (const method of METHODS.values()) {
      const spec = method.settings.scale;
      if (!method.needs.prior) {
        expect(spec, method.name).toBeUndefined();
        continue;
      }
      if (method.name in fixed) {
        expect(spec, method.name).toMatchObject({ kind: 'number', default: fixed[method.name as keyof typeof fixed], min: 0 });
        expect(spec!.kind === 'number' && spec!.sizeScaled, method.name).toBeFalsy();
        continue;
      }
      const reference = references[method.name as keyof typeof references];
      expect(spec, method.name).toMatchObject({ kind: 'number', sizeScaled: { reference }, min: 0 });
      expect(spec!.default, method.name).toBeUndefined();
      expect(defaultLabel(spec!)).toBe(sizeScaledLabel(reference));
      expect(spec!.description).toContain("follows the prior's image size");
    }
    expect(defaultLabel(methodOf('egg').settings.steps!)).toBe('100');
  });

  it('resolves an unset scale against the prior’s shape, keeps a given one, and leaves it unset without a shape', () => {
    for (const [name, reference] of Object.entries(references)) {
      const method = methodOf(name);
      expect(resolveSettings(method, {}, {}, { priorShape: DEMO }).scale, name).toBeCloseTo(reference * Math.sqrt(1600 / 196608), 12);
      expect(resolveSettings(method, {}, {}, { priorShape: REFERENCE_IMAGE }).scale, name).toBe(reference);
      expect(resolveSettings(method, { scale: 7 }, {}, { priorShape: DEMO }).scale, name).toBe(7);
      expect(resolveSettings(method, {}).scale, name).toBeUndefined();
    }
    const batch = resolveBatchSettings(['ga', 'egg', 'meni'], { steps: 5 }, {}, { priorShape: DEMO });
    expect(batch.get('ga')!.scale).toBeUndefined();
    expect(batch.get('egg')!.scale).toBeCloseTo(guidanceScaleFor(10, DEMO), 12);
    expect(batch.get('meni')!.scale).toBe(2);
  });

  it('a guided method called without a scale samples with its reference scaled to its prior', async () => {
    const encoder = tinyEncoder(1);
    const prior = tinyPrior(2);
    const items = [{ neuron: 1, seed: 3 }];
    const unset = await eggMei(encoder, prior, items, { steps: 3 });
    const scaled = await eggMei(encoder, prior, items, { steps: 3, scale: guidanceScaleFor(EGG_DEFAULTS.scale, priorImageShape(prior)) });
    const reference = await eggMei(encoder, prior, items, { steps: 3, scale: EGG_DEFAULTS.scale });
    expect(Array.from(unset.images.data)).toEqual(Array.from(scaled.images.data));
    expect(Array.from(unset.images.data)).not.toEqual(Array.from(reference.images.data));
  });
});
