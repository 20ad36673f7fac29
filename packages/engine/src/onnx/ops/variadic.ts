/**
 * Max, Min and Sum: elementwise over any number of inputs with numpy broadcasting. The gradient of
 * Max and Min goes to the inputs that attain the result, split evenly between ties.
 */
import type { Value } from '../graph.ts';
import { isFloat } from '../ndarray.ts';
import { type OpDef, defineOp } from '../op.ts';
import { broadcastMap } from '../reference.ts';
import { broadcastShapes } from '../shape.ts';
import { unbroadcast } from './broadcast.ts';
import { add, cast, div, equal, mul } from './elementwise.ts';
import type { Operand } from './operand.ts';

function variadicNode(op: string, values: readonly Operand[]): Value {
  const first = values.find((v): v is Value => typeof v !== 'number');
  if (!first) throw new Error(`${op}: at least one operand must be a graph value`);
  return first.graph.node(op, values.map((v) => (typeof v === 'number' ? first.graph.scalar(v, first) : v)))[0];
}
/** Elementwise maximum of the operands (broadcast). */
export const max = (...values: Operand[]) => variadicNode('Max', values);
/** Elementwise minimum of the operands (broadcast). */
export const min = (...values: Operand[]) => variadicNode('Min', values);
/** Elementwise sum of the operands (broadcast). */
export const sum = (...values: Operand[]) => variadicNode('Sum', values);

function variadic(opType: string, fold: (a: number, b: number) => number, backward: (inputs: Value[], y: Value, dy: Value, needs: readonly boolean[]) => (Value | undefined)[]): OpDef {
  return defineOp({
    opType,
    attrs: {},
    differentiable: 'all',
    infer(inputs) {
      if (inputs.length === 0 || inputs.some((v) => !v)) throw new Error('needs one or more inputs, none omitted');
      const vs = inputs as Value[];
      if (!isFloat(vs[0].dtype) || vs.some((v) => v.dtype !== vs[0].dtype)) throw new Error(`operands must be floats of one type, got ${vs.map((v) => v.dtype).join(', ')}`);
      return { outputs: [{ dtype: vs[0].dtype, shape: vs.slice(1).reduce((s, v) => broadcastShapes(s, v.shape), vs[0].shape) }] };
    },
    evaluate(inputs) {
      return [broadcastMap(inputs[0]!.dtype, inputs as NonNullable<(typeof inputs)[number]>[], (...v) => v.reduce((a, b) => fold(a, b)))];
    },
    backward({ node, dy, needs }) {
      const inputs = node.inputs as Value[];
      return backward(inputs, node.outputs[0], dy[0]!, needs).map((d, i) => d && unbroadcast(d, inputs[i].shape));
    },
  });
}

/** dy to the inputs equal to the result y, divided by how many are (ties share). */
function toAttaining(inputs: Value[], y: Value, dy: Value, needs: readonly boolean[]): (Value | undefined)[] {
  if (inputs.length === 1) return [dy];
  const hits = inputs.map((x) => cast(equal(x, y), y.dtype));
  const shared = div(dy, hits.length === 2 ? add(hits[0], hits[1]) : sum(...hits));
  return hits.map((h, i) => (needs[i] ? mul(shared, h) : undefined));
}

export const VARIADIC_OPS: OpDef[] = [
  variadic('Max', Math.max, toAttaining),
  variadic('Min', Math.min, toAttaining),
  variadic('Sum', (a, b) => a + b, (inputs, _y, dy, needs) => inputs.map((_, i) => (needs[i] ? dy : undefined))),
];
