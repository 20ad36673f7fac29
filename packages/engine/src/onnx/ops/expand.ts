/** Expand: numpy broadcasting of a tensor to a shape. */
import type { Value } from '../graph.ts';
import { type OpDef, defineOp } from '../op.ts';
import { broadcastMap, ints } from '../reference.ts';
import { broadcastShapes, dimEquals, isStatic } from '../shape.ts';
import { unbroadcast } from './broadcast.ts';
import { shapeOf } from './reshape.ts';

export function expand(x: Value, shape: Value): Value {
  return x.graph.node('Expand', [x, shape])[0];
}

/**
 * Broadcasts x to like's shape. Symbolic dimensions that x already carries are written as 1 in a
 * constant target (broadcasting keeps them), so no Shape node is needed in the common case.
 */
export function expandTo(x: Value, like: Value): Value {
  const lead = like.rank - x.rank;
  if (lead >= 0 && like.shape.every((d, i) => dimEquals(d, i < lead ? 1 : x.shape[i - lead]))) return x;
  const target = like.shape.map((d, i) => {
    if (isStatic(d)) return d;
    return i >= lead && dimEquals(x.shape[i - lead], d) ? 1 : undefined;
  });
  const shape = target.every((d) => d !== undefined) ? x.graph.ints(target as number[]) : shapeOf(like);
  return expand(x, shape);
}

export const EXPAND_OPS: OpDef[] = [
  defineOp({
    opType: 'Expand',
    attrs: {},
    differentiable: [0],
    infer([x, shape]) {
      if (!x || !shape) throw new Error('needs an input and a shape');
      const target = shape.knownInts();
      if (!target) throw new Error('shape must be known while building (a constant or the output of Shape)');
      return { outputs: [{ dtype: x.dtype, shape: broadcastShapes(x.shape, target) }] };
    },
    evaluate([x, shape]) {
      const target = ints(shape);
      const zero = { dtype: x!.dtype, shape: target, data: new Float64Array(target.reduce((a, b) => a * b, 1)) };
      return [broadcastMap(x!.dtype, [x!, zero], (v) => v)];
    },
    backward({ node, dy }) {
      return [unbroadcast(dy[0]!, node.inputs[0]!.shape)];
    },
  }),
];
