import { describe, expect, it } from 'vitest';
import { evaluate } from '../onnx/evaluate.ts';
import { Graph } from '../onnx/graph.ts';
import { float32 } from '../onnx/ndarray.ts';
import { gaussianReadout } from './gaussian-readout.ts';
import { Parameters } from './parameters.ts';

/** grid_sample(align_corners=True, zeros padding) at one point, written directly. */
function bilinear(map: Float32Array, H: number, W: number, x: number, y: number): number {
  const px = ((x + 1) / 2) * (W - 1);
  const py = ((y + 1) / 2) * (H - 1);
  const x0 = Math.floor(px);
  const y0 = Math.floor(py);
  let v = 0;
  for (const [yy, wy] of [[y0, 1 - (py - y0)], [y0 + 1, py - y0]])
    for (const [xx, wx] of [[x0, 1 - (px - x0)], [x0 + 1, px - x0]]) if (yy >= 0 && yy < H && xx >= 0 && xx < W) v += wy * wx * map[yy * W + xx];
  return v;
}

describe('Gaussian readout', () => {
  it('samples the feature map bilinearly at each neuron position (zero outside) and applies ELU(y - 1) + 1', () => {
    const [C, H, W] = [2, 4, 5];
    const mu = [0.3, -0.2, -1, 1, 0.95, 0.1]; // (x, y) of three neurons; the third reaches past the edge
    const weights = new Map([
      ['readout.mu', float32([3, 2], mu)],
      ['readout.sigma', float32([3, 1], [0.1, 0.1, 0.1])],
      ['readout.weight', float32([3, C], [1, -0.5, 0.3, 0.7, -1, 2])],
      ['readout.bias', float32([3], [0.2, 0, -0.1])],
    ]);
    const g = new Graph('g');
    const features = g.input('features', 'float32', [1, C, H, W]);
    g.output(gaussianReadout(features, new Parameters(g, weights), { neurons: 3, initSigma: 0.1 }), 'rates');
    const f = float32([1, C, H, W], Array.from({ length: C * H * W }, (_, i) => Math.sin(i * 1.3)));
    const rates = evaluate(g, { features: f }).rates.data;
    for (let n = 0; n < 3; n++) {
      let y = weights.get('readout.bias')!.data[n] as number;
      for (let c = 0; c < C; c++) y += (weights.get('readout.weight')!.data[n * C + c] as number) * bilinear(f.data.subarray(c * H * W, (c + 1) * H * W), H, W, mu[2 * n], mu[2 * n + 1]);
      const expected = y - 1 > 0 ? y : Math.exp(y - 1);
      expect(rates[n]).toBeCloseTo(expected, 6);
    }
  });
});
