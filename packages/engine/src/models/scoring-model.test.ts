import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resizeBilinear } from '../data/images.ts';
import { evaluate } from '../onnx/evaluate.ts';
import { Graph } from '../onnx/graph.ts';
import { float32 } from '../onnx/ndarray.ts';
import { DEMO_ENCODER, type EncoderSpec, buildEncoder } from './encoder.ts';
import { writeEncoder } from './model-dir.ts';
import { loadScoringModel, pixelScoringGraph } from './scoring-model.ts';

const root = mkdtempSync(join(tmpdir(), 'excite-scoring-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('scoring models', () => {
  it('convert pixel-space RGB images into an encoder input space: gray, resize, standardize', async () => {
    const spec: EncoderSpec = { ...DEMO_ENCODER, core: { ...DEMO_ENCODER.core, channels: 8, layers: 2 }, readout: { type: 'attention', keyDim: 4, dropout: 0.1, l1: 1 }, input: { height: 16, width: 16, fit: 'resize', mean: 110, std: 60 }, sessions: [{ id: 's', neurons: [0, 1] }] };
    const g = new Graph();
    buildEncoder(g, g.input('image', 'float32', ['batch', 1, 16, 16]), spec, { seed: 3 });
    await writeEncoder(join(root, 'enc'), spec, new Map([...g.weights].map(([k, v]) => [k, v.data!])));
    const model = await loadScoringModel(join(root, 'enc'));
    expect(model.input).toEqual({ channels: 1, height: 16, width: 16 });
    const rgb = float32([1, 3, 24, 24], Array.from({ length: 3 * 576 }, (_, i) => 128 + 100 * Math.sin(i / 17)));
    const viaPixels = evaluate(pixelScoringGraph(model, { channels: 3, height: 24, width: 24 }), { pixels: rgb }).rates.data;
    // the same conversion by hand: mean of R, G, B; bilinear resize (half-pixel); (p - mean) / std
    const gray = float32([1, 24, 24], Array.from({ length: 576 }, (_, p) => (rgb.data[p] + rgb.data[576 + p] + rgb.data[1152 + p]) / 3));
    const small = resizeBilinear(gray, 16, 16);
    const image = float32([1, 1, 16, 16], Array.from(small.data, (p) => (p - 110) / 60));
    const direct = evaluate(model.graph, { image }).rates.data;
    direct.forEach((v, i) => expect(viaPixels[i]).toBeCloseTo(v, 5));
  });
});
