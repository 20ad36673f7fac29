/**
 * Reverse-mode differentiation of an ONNX graph into standard ONNX ops: appends to the graph the
 * vector-Jacobian product of chosen outputs, each weighted by a seed input of its shape, with
 * respect to chosen inputs and/or weights. One session of the result serves any energy: the
 * caller feeds the seeds (e.g. one-hot for one neuron's rate).
 */
import { GraphError } from './errors.ts';
import type { Graph, Node, Value } from './graph.ts';
import { isFloat } from './ndarray.ts';
import { add } from './ops/elementwise.ts';
import { lookupOp } from './ops/registry.ts';
import { shapeEquals } from './shape.ts';

export interface BackwardSpec {
  /** outputs to differentiate; each gets a seed input `${name}_seed` unless a seed value is given */
  outputs: readonly (string | { output: string; seed?: Value })[];
  /** inputs and/or weights to differentiate with respect to */
  wrt: readonly string[];
  /** graph output name of each gradient (default `${name}_grad`) */
  gradName?: (name: string) => string;
}

export interface Backward {
  seeds: Value[];
  /** gradient outputs, in the order of `wrt` */
  grads: Value[];
}

export function appendBackward(graph: Graph, spec: BackwardSpec): Backward {
  const gradName = spec.gradName ?? ((n: string) => `${n}_grad`);
  const wrt = spec.wrt.map((n) => graph.value(n));
  for (const w of wrt) {
    if (w.kind !== 'input' && w.kind !== 'weight') throw new GraphError(`can only differentiate with respect to inputs and weights, "${w.name}" is a ${w.kind}`);
    if (!isFloat(w.dtype)) throw new GraphError(`cannot differentiate with respect to "${w.name}" of type ${w.dtype}`);
  }
  const forwardNodes = [...graph.nodes];

  // values that depend on a wrt value
  const varying = new Set<Value>(wrt);
  for (const n of forwardNodes) if (n.inputs.some((i) => i && varying.has(i))) for (const o of n.outputs) varying.add(o);

  const adjoint = new Map<Value, Value>();
  const accumulate = (v: Value, g: Value) => {
    if (!shapeEquals(v.shape, g.shape)) throw new GraphError(`gradient of "${v.name}" has shape [${g.shape}], expected [${v.shape}]`);
    const prev = adjoint.get(v);
    adjoint.set(v, prev ? add(prev, g) : g);
  };

  const seeds: Value[] = [];
  for (const o of spec.outputs) {
    const { output, seed } = typeof o === 'string' ? { output: o, seed: undefined } : o;
    const y = graph.value(output);
    if (!varying.has(y)) throw new GraphError(`output "${output}" does not depend on any of ${spec.wrt.join(', ')}`);
    const s = seed ?? graph.input(`${output}_seed`, y.dtype, y.shape);
    seeds.push(s);
    accumulate(y, s);
  }

  // where a gradient was stopped, reported if some wrt value ends up without one
  let firstBlock: GraphError | undefined;
  for (let k = forwardNodes.length - 1; k >= 0; k--) {
    const node = forwardNodes[k];
    const dy = node.outputs.map((o) => adjoint.get(o));
    if (dy.every((d) => !d)) continue;
    const op = lookupOp(node.opType)!;
    const diff = op.differentiable === 'all' ? node.inputs.map((_, i) => i) : (op.differentiable ?? []);
    const needs = node.inputs.map((i, idx) => !!i && varying.has(i) && isFloat(i.dtype) && diff.includes(idx));
    const blocked = node.inputs.findIndex((i, idx) => !!i && varying.has(i) && !needs[idx]);
    if (blocked >= 0 && !firstBlock) {
      const input = node.inputs[blocked]!;
      const why = isFloat(input.dtype) ? 'the operator is not differentiable with respect to it' : `it is ${input.dtype}`;
      firstBlock = new GraphError(`no gradient flows into input ${blocked} ("${input.name}"), which depends on ${spec.wrt.join(', ')}: ${why}`, node.name, node.opType);
    }
    if (!needs.some(Boolean)) continue;
    if (!op.backward) throw new GraphError('has no backward rule but lies on a differentiated path', node.name, node.opType);
    let grads: (Value | undefined)[];
    try {
      grads = graph.scope(`grad/${node.name}`, () => op.backward!({ node, dy, needs }));
    } catch (e) {
      if (e instanceof GraphError && e.node) throw e;
      throw new GraphError(`backward rule failed: ${(e as Error).message}`, node.name, node.opType);
    }
    node.inputs.forEach((input, i) => {
      if (needs[i] && grads[i]) accumulate(input!, grads[i]!);
    });
  }

  const grads = wrt.map((w) => {
    const g = adjoint.get(w);
    if (!g && firstBlock) throw firstBlock;
    if (!g) throw new GraphError(`no differentiable path from "${w.name}" to ${spec.outputs.map((o) => (typeof o === 'string' ? o : o.output)).join(', ')}`);
    return graph.output(g, gradName(w.name));
  });
  return { seeds, grads };
}

export type { Node };
