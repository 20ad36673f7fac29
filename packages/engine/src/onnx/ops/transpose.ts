/** Transpose: permutes axes. */
import type { Value } from '../graph.ts';
import { type AttrSchema, type OpDef, defineOp } from '../op.ts';
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

function permOf(rank: number, attr: number[] | undefined): number[] {
  const perm = attr ?? Array.from({ length: rank }, (_, i) => rank - 1 - i);
  if (perm.length !== rank || [...perm].sort((a, b) => a - b).some((p, i) => p !== i)) throw new Error(`perm [${perm}] is not a permutation of ${rank} axes`);
  return perm;
}

const TRANSPOSE_ATTRS = { perm: { type: 'ints' } } as const satisfies AttrSchema;

export const TRANSPOSE_OPS: OpDef[] = [
  // infer fills in the default perm (the reversed axes): the node always carries one
  defineOp<typeof TRANSPOSE_ATTRS, { perm: number[] }>({
    opType: 'Transpose',
    attrs: TRANSPOSE_ATTRS,
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
      const perm = node.attrs.perm;
      const inverse = new Array<number>(perm.length);
      perm.forEach((p, i) => (inverse[p] = i));
      return [transpose(dy[0]!, inverse)];
    },
  }),
];
