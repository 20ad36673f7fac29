/**
 * The float64 reference evaluator: runs a graph with each op's reference kernel. It is slow and
 * exact; gradient checks and tests compare onnxruntime and the backward rules against it.
 */
import { GraphError } from './errors.ts';
import type { Graph, Node, Value } from './graph.ts';
import { type NdArray, toNumbers } from './ndarray.ts';
import { lookupOp } from './ops/registry.ts';
import { type Ref, ref } from './reference.ts';
import { bindSymbols, resolveShape } from './shape.ts';

export type Feed = NdArray | Ref;

function toRef(a: Feed): Ref {
  return a.data instanceof Float64Array && a.dtype !== 'float16' ? (a as Ref) : ref(a.dtype, a.shape, toNumbers(a as NdArray));
}

/** Nodes needed to compute `targets`, in graph order. */
export function nodesFor(graph: Graph, targets: readonly Value[]): Node[] {
  const needed = new Set<Node>();
  const stack = targets.map((t) => t.producer).filter((n): n is Node => !!n);
  while (stack.length) {
    const n = stack.pop()!;
    if (needed.has(n)) continue;
    needed.add(n);
    for (const i of n.inputs) if (i?.producer) stack.push(i.producer);
  }
  return graph.nodes.filter((n) => needed.has(n));
}

/**
 * Evaluates `outputs` (default: the graph outputs). Feeds give graph inputs and may override
 * weights; every node's result is checked against its inferred shape.
 */
export function evaluate(graph: Graph, feeds: Record<string, Feed>, outputs?: readonly string[]): Record<string, Ref> {
  const targets = outputs ? outputs.map((n) => graph.value(n)) : graph.outputs;
  const values = new Map<Value, Ref>();
  const symbols = new Map<string, number>();
  for (const input of graph.inputs) {
    const feed = feeds[input.name];
    if (!feed) continue;
    try {
      bindSymbols(input.shape, feed.shape, symbols);
    } catch (e) {
      throw new GraphError(`input "${input.name}": ${(e as Error).message}`);
    }
    values.set(input, toRef(feed));
  }
  for (const v of [...graph.weights.values(), ...graph.constants]) {
    const feed = feeds[v.name];
    values.set(v, toRef(feed ?? v.data!));
  }
  for (const node of nodesFor(graph, targets)) {
    const args = node.inputs.map((i) => {
      if (!i) return undefined;
      const r = values.get(i);
      if (!r) throw new GraphError(`input "${i.name}" has no value (not fed?)`, node.name, node.opType);
      return r;
    });
    let results: Ref[];
    try {
      results = lookupOp(node.opType)!.evaluate(args, node.attrs);
    } catch (e) {
      throw new GraphError(`reference kernel failed: ${(e as Error).message}`, node.name, node.opType);
    }
    node.outputs.forEach((o, k) => {
      const expected = resolveShape(o.shape, symbols);
      const got = results[k].shape;
      if (expected.length !== got.length || expected.some((d, i) => d !== got[i])) {
        throw new GraphError(`output ${k} has shape [${got}], shape inference said [${expected}]`, node.name, node.opType);
      }
      values.set(o, results[k]);
    });
  }
  const out: Record<string, Ref> = {};
  for (const t of targets) {
    const r = values.get(t);
    if (!r) throw new GraphError(`"${t.name}" could not be computed from the feeds`);
    out[t.name] = r;
  }
  return out;
}
