/** Transpose: permutes axes. */
import type { Value } from '../graph.ts';
import { type OpDef, defineOp } from '../op.ts';
import { transposeRef } from '../reference.ts';

export function transpose(x: Value, perm: readonly number[]): Value {
  return x.graph.node('Transpose', [x], { perm: [...perm] })[0];
}

/** Swaps the last two axes (matrix transpose of a batch of matrices). */
export function transposeLast2(x: Value): Value {
  const perm = Array.from({ length: x.rank }, (_, i) => i);
  [perm[x.rank - 2], perm[x.rank - 1]] = [perm[x.rank - 1], perm[x.rank - 2]];
  return transpose(x, perm);
}

function permOf(rank: number, attr: unknown): number[] {
  const perm = (attr as number[] | undefined) ?? Array.from({ length: rank }, (_, i) => rank - 1 - i);
  if (perm.length !== rank || [...perm].sort((a, b) => a - b).some((p, i) => p !== i)) throw new Error(`perm [${perm}] is not a permutation of ${rank} axes`);
  return perm;
}

export const TRANSPOSE_OPS: OpDef[] = [
  defineOp({
    opType: 'Transpose',
    attrs: { perm: { type: 'ints' } },
    differentiable: [0],
    infer([x], attrs) {
      if (!x) throw new Error('missing input');
      const perm = permOf(x.rank, attrs.perm);
      return { outputs: [{ dtype: x.dtype, shape: perm.map((p) => x.shape[p]) }], attrs: { perm } };
    },
    evaluate([x], attrs) {
      return [transposeRef(x!, permOf(x!.shape.length, attrs.perm))];
    },
    backward({ node, dy }) {
      const perm = node.attrs.perm as number[];
      const inverse = new Array<number>(perm.length);
      perm.forEach((p, i) => (inverse[p] = i));
      return [transpose(dy[0]!, inverse)];
    },
  }),
];
