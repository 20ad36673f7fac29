import { describe, expect, it } from 'vitest';
import { diverseMeis } from './diverse-set.ts';
import { tinyEncoder, tinyPrior } from './testing/tiny-models.ts';

/** Mean cosine similarity between the images of each set (same neuron). */
function withinSetSimilarity(data: Float32Array, neurons: number[]): number {
  const n = data.length / neurons.length;
  const img = (i: number) => data.subarray(i * n, (i + 1) * n);
  let sum = 0;
  let pairs = 0;
  for (let i = 0; i < neurons.length; i++)
    for (let j = i + 1; j < neurons.length; j++) {
      if (neurons[i] !== neurons[j]) continue;
      const [a, b] = [img(i), img(j)];
      let ab = 0, aa = 0, bb = 0;
      for (let k = 0; k < n; k++) [ab, aa, bb] = [ab + a[k] * b[k], aa + a[k] * a[k], bb + b[k] * b[k]];
      sum += ab / Math.sqrt(aa * bb);
      pairs++;
    }
  return sum / pairs;
}

describe('diverse sets', () => {
  const encoder = tinyEncoder(1);
  const prior = tinyPrior(2);
  const items = [1, 1, 1, 2, 2, 2].map((neuron, i) => ({ neuron, seed: 30 + i }));
  const neurons = items.map((i) => i.neuron);

  it('makes the images of a set less alike than plain EGG does from the same seeds', async () => {
    // lambda 10 so that guidance acts within 5 steps (the size-scaled default on the tiny 1x8x8 prior is 10 x sqrt(64 / 196608) = 0.18)
    const plain = await diverseMeis(encoder, prior, items, { steps: 5, scale: 10, diversity: 0 });
    const diverse = await diverseMeis(encoder, prior, items, { steps: 5, scale: 10, diversity: 50 });
    expect(diverse.method).toBe('diverse');
    expect(withinSetSimilarity(diverse.encoderImages.data, neurons)).toBeLessThan(withinSetSimilarity(plain.encoderImages.data, neurons) - 0.05);
    expect(Array.from(plain.activation).every(Number.isFinite)).toBe(true);
  });

  it('needs different seeds within a set', async () => {
    expect(() => diverseMeis(encoder, prior, [{ neuron: 1, seed: 1 }, { neuron: 1, seed: 1 }])).toThrow(/neuron 1 has seed 1 twice/);
  });
});
