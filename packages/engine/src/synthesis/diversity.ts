/**
 * The diversity term for diverse sets (the paper's outlook, no public code): several images
 * of one neuron that stay exciting while differing. Added to a base energy:
 *
 *   E_i = E_base,i + weight * mean_{j in set(i), j != i} cos(x_i, x_j)
 *
 * with x the encoder's input images (what the neuron sees) and cos their cosine similarity. Why
 * cosine: preprocessing gives every image the same norm c, so the squared distance is
 * 2c^2 (1 - cos) and both penalize the same thing, but cosine is bounded in [-1, 1] and independent
 * of c, so `weight` means the same at any c: it trades a rate difference of `weight` against going
 * from identical to orthogonal images. Members of different sets (other neurons) do not interact.
 * The sum over i counts each pair twice, so each member is pushed away from the others equally.
 */
import { float32 } from '../onnx/ndarray.ts';
import { add, div, mul, sqrt } from '../onnx/ops/elementwise.ts';
import { matmul } from '../onnx/ops/matmul.ts';
import { reduceSum } from '../onnx/ops/reduce.ts';
import { flatten } from '../onnx/ops/reshape.ts';
import { transposeLast2 } from '../onnx/ops/transpose.ts';
import type { Energy } from './energy.ts';

/** M [batch, batch]: 1 / (set size - 1) between distinct members of one set, else 0. */
export function diversityMask(sets: readonly (number | string)[]): Float32Array {
  const n = sets.length;
  const m = new Float32Array(n * n);
  for (let i = 0; i < n; i++) {
    const others = sets.filter((s, j) => j !== i && s === sets[i]).length;
    for (let j = 0; j < n; j++) if (j !== i && sets[j] === sets[i]) m[i * n + j] = 1 / others;
  }
  return m;
}

/** `base` plus weight x the mean cosine similarity to the other members of image i's set `sets[i]`. */
export function withDiversity(base: Energy, sets: readonly (number | string)[], weight = 1): Energy {
  if (sets.length !== base.images) throw new Error(`${sets.length} set labels for ${base.images} images`);
  return {
    images: base.images,
    couplesImages: true,
    neuronPerImage: base.neuronPerImage,
    build(terms) {
      const b = base.build(terms);
      const x = flatten(terms.image, 1); // [batch, D]
      const g = x.graph;
      const unit = div(x, sqrt(add(reduceSum(mul(x, x), [1], true), 1e-12)));
      const cos = matmul(unit, transposeLast2(unit)); // [batch, batch]
      const mask = g.input('diversity_mask', x.dtype, ['batch', 'batch']);
      const similarity = reduceSum(mul(mask, cos), [1], false);
      return {
        energy: add(b.energy, mul(similarity, weight)),
        activation: b.activation,
        feeds: { ...b.feeds, diversity_mask: float32([sets.length, sets.length], diversityMask(sets)) },
      };
    },
  };
}
