/**
 * The adjoint of numpy broadcasting: sums a gradient over the axes along which an operand of
 * shape `target` was broadcast, so it gets `target`'s shape back.
 */
import type { Value } from '../graph.ts';
import { type Shape, dimEquals } from '../shape.ts';
import { reduceSum } from './reduce.ts';
import { squeeze } from './reshape.ts';

export function unbroadcast(dy: Value, target: Shape): Value {
  const lead = dy.rank - target.length;
  if (lead < 0) throw new Error(`cannot unbroadcast [${dy.shape}] to the larger rank of [${target}]`);
  const axes: number[] = [];
  for (let i = 0; i < dy.rank; i++) {
    if (i < lead) axes.push(i);
    else if (dimEquals(target[i - lead], 1) && !dimEquals(dy.shape[i], 1)) axes.push(i);
  }
  if (axes.length === 0) return dy;
  const summed = reduceSum(dy, axes, true);
  return lead > 0 ? squeeze(summed, Array.from({ length: lead }, (_, i) => i)) : summed;
}
