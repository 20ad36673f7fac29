/** Lets builders take plain numbers where a scalar of the other operand's dtype is meant. */
import type { Value } from '../graph.ts';

export type Operand = Value | number;

export function lift(a: Operand, b: Operand): [Value, Value] {
  if (typeof a === 'number' && typeof b === 'number') throw new Error('at least one operand must be a graph value');
  const av = typeof a === 'number' ? (b as Value).graph.scalar(a, b as Value) : a;
  const bv = typeof b === 'number' ? av.graph.scalar(b, av) : b;
  return [av, bv];
}
