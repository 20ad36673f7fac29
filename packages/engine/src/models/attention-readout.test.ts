import { describe, expect, it } from 'vitest';
import { evaluate } from '../onnx/evaluate.ts';
import { Graph } from '../onnx/graph.ts';
import { float32 } from '../onnx/ndarray.ts';
import { attentionReadout, positionCode } from './attention-readout.ts';
import { Parameters } from './parameters.ts';

const [C, H, W, D, neurons] = [8, 3, 4, 4, 3];
const weights = new Map([
  ['readout.kv.weight', float32([2 * D, C], Array.from({ length: 2 * D * C }, (_, i) => Math.sin(i * 0.7)))],
  ['readout.query', float32([neurons, D], Array.from({ length: neurons * D }, (_, i) => Math.cos(i * 1.1) * 3))],
  ['readout.weight', float32([neurons, D], Array.from({ length: neurons * D }, (_, i) => Math.sin(i * 0.3 + 1)))],
  ['readout.bias', float32([neurons], [0.1, -0.2, 0.3])],
]);

function rates(features: Float32Array, positionScale?: number): Float32Array {
  const g = new Graph('g');
  const f = g.input('features', 'float32', [1, C, H, W]);
  g.output(attentionReadout(f, new Parameters(g, weights), { neurons, keyDim: D, positionScale }), 'rates');
  return Float32Array.from(evaluate(g, { features: float32([1, C, H, W], features) }).rates.data as ArrayLike<number>);
}

describe('attention readout', () => {
  const map = Float32Array.from({ length: C * H * W }, (_, i) => Math.cos(i * 0.9));
  const code = positionCode(C, H, W);

  it('adds the position code at the given amplitude: scale 2 on a map is scale 1 on the map plus the code', () => {
    const shifted = Float32Array.from(map, (v, i) => v + code[i]);
    const a = rates(map, 2);
    const b = rates(shifted, 1);
    a.forEach((v, i) => expect(v).toBeCloseTo(b[i], 5));
    // scale 1 is the default, and scale 0 reads the map alone
    expect(Array.from(rates(map))).toEqual(Array.from(rates(map, 1)));
    const minus = Float32Array.from(map, (v, i) => v - code[i]);
    rates(map, 0).forEach((v, i) => expect(v).toBeCloseTo(rates(minus, 1)[i], 5));
    expect(Math.max(...Array.from(a, (v, i) => Math.abs(v - rates(map, 1)[i])))).toBeGreaterThan(1e-3);
  });
});
