import { describe, expect, it } from 'vitest';
import { evaluate } from '../onnx/evaluate.ts';
import { float32 } from '../onnx/ndarray.ts';
import { Rng } from '../random.ts';
import { naturalTopK } from './natural-top-k.ts';
import { tinyEncoder } from './testing/tiny-models.ts';

describe('natural top-k', () => {
  const encoder = tinyEncoder(1);
  const images = float32([10, 1, 12, 12], new Rng(9).normals(10 * 144, 1.5));
  const rates = evaluate(encoder.graph, { image: images }).rates.data;

  it('returns the k most activating images for a neuron, with their rates, scored in batches', async () => {
    for (const neuron of [1, 2]) {
      const expected = Array.from({ length: 10 }, (_, i) => i).sort((a, b) => rates[b * 3 + neuron] - rates[a * 3 + neuron]).slice(0, 3);
      const top = await naturalTopK(encoder, images, neuron, 3, { batchSize: 4 });
      expect(top.indices).toEqual(expected);
      top.indices.forEach((i, r) => {
        expect(top.activations[r]).toBeCloseTo(rates[i * 3 + neuron], 4);
        expect(Array.from(top.images.data.subarray(r * 144, (r + 1) * 144))).toEqual(Array.from(images.data.subarray(i * 144, (i + 1) * 144)));
      });
      expect(top.images.shape).toEqual([3, 1, 12, 12]);
    }
  });

  it('returns all images when k exceeds them, and checks the neuron', async () => {
    expect((await naturalTopK(encoder, images, 0, 50)).indices).toHaveLength(10);
    await expect(naturalTopK(encoder, images, 3, 1)).rejects.toThrow(/neuron 3 is not a column of the encoder's 3 rates/);
    await expect(naturalTopK(encoder, float32([1, 1, 8, 8]), 0, 1)).rejects.toThrow(/images are \[1,1,8,8\], the encoder takes \[N, 1, 12, 12\]/);
  });
});
