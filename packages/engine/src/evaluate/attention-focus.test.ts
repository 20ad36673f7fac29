import { describe, expect, it } from 'vitest';
import { Graph } from '../onnx/graph.ts';
import { type NdArray, float32 } from '../onnx/ndarray.ts';
import { DEMO_ENCODER, type EncoderSpec, buildEncoder } from '../models/encoder.ts';
import type { EncoderModel } from '../models/model-dir.ts';
import { Rng } from '../random.ts';
import { attentionFocus, halfMassAndSpread } from './attention-focus.ts';

const spec: EncoderSpec = {
  core: { ...DEMO_ENCODER.core, channels: 8, layers: 2 },
  readout: { type: 'attention', keyDim: 8, dropout: 0.1, l1: 1 },
  input: { height: 16, width: 16, fit: 'resize', mean: 0, std: 1 },
  sessions: [{ id: 's', neurons: [0, 1, 2] }],
};

function model(query: (n: number, d: number) => number): EncoderModel {
  const g = new Graph('init');
  buildEncoder(g, g.input('image', 'float32', ['batch', 1, 16, 16]), spec, { seed: 3 });
  const weights = new Map<string, NdArray>([...g.weights].map(([k, v]) => [k, v.data!]));
  const q = new Float32Array(3 * 8);
  for (let n = 0; n < 3; n++) for (let d = 0; d < 8; d++) q[n * 8 + d] = query(n, d);
  weights.set('readout.s.query', float32([3, 8], q));
  return { dir: 'test-model', meta: {} as EncoderModel['meta'], spec, weights };
}

const images = float32([4, 1, 16, 16], new Rng(1).normals(4 * 256));

describe('attention focus', () => {
  it('a zero query attends uniformly: largest weight 1/S and S effective positions', async () => {
    const f = await attentionFocus(model(() => 0), 's', images);
    expect(f.positions).toBe(8 * 8); // 16 - 9 + 1 after the 9x9 input convolution
    for (const w of f.maxWeight[0]) expect(w).toBeCloseTo(1 / 64, 6);
    for (const e of f.effectivePositions[0]) expect(e).toBeCloseTo(64, 3);
    expect(f.focusedFraction).toBe(0);
    for (const h of f.halfMassArea[0]) expect(h).toBeCloseTo(0.5, 6);
    for (const r of f.spread[0]) expect(r).toBeCloseTo(f.uniformSpread, 4);
    expect(f.uniformSpread).toBeCloseTo(Math.sqrt((2 * (64 - 1)) / 12), 10);
    expect(f.localizedFraction).toBe(0);
  });

  it('half-mass area and spread: one position, a compact block, and two far-apart positions', () => {
    const [H, W] = [10, 10];
    const one = new Float64Array(100);
    one[34] = 1;
    expect(halfMassAndSpread(one, H, W)).toEqual({ halfMassArea: 0.01, spread: 0 });
    // a 2x2 block: two positions hold half, each 1/sqrt(2) from the block's centre
    const block = new Float64Array(100);
    for (const k of [44, 45, 54, 55]) block[k] = 0.25;
    const b = halfMassAndSpread(block, H, W);
    expect(b.halfMassArea).toBe(0.02);
    expect(b.spread).toBeCloseTo(Math.SQRT1_2, 12);
    // the same mass at two corners: as few positions hold half, but it is spread over the map
    const corners = new Float64Array(100);
    corners[0] = 0.6;
    corners[99] = 0.4;
    const c = halfMassAndSpread(corners, H, W);
    expect(c.halfMassArea).toBe(0.01);
    // variance about the weighted centre: 0.6 * 0.4 * (9^2 + 9^2)
    expect(c.spread).toBeCloseTo(Math.sqrt(0.24 * 162), 10);
  });

  it('a large query concentrates the attention on few positions', async () => {
    const f = await attentionFocus(model((n, d) => (d === n ? 400 : -200)), 's', images);
    expect(f.medianMaxWeight).toBeGreaterThan(0.3);
    expect(f.medianEffectivePositions).toBeLessThan(6.4);
    expect(f.focusedFraction).toBeGreaterThan(0.5);
    expect(f.medianHalfMassArea).toBeLessThan(0.1);
    expect(f.localizedFraction).toBeGreaterThan(0.5);
  });
});
