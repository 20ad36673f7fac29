/**
 * An ONNX model read from a file, rebuilt node by node in an engine graph, where every op has a
 * backward rule: the imported encoder gets gradients with respect to its input, derived by excite.
 *
 * - Float initializers become named weights; integer ones constants.
 * - Every node whose inputs are all known while building (initializers, constants, static shapes)
 *   is folded into a constant with the op's own reference kernel: exporters compute pads, reshape
 *   targets and slices with chains of Shape, Gather, Concat and friends, and once folded the graph
 *   keeps a symbolic batch. Shape arithmetic that involves the batch stays, carrying its symbolic
 *   contents (known-ints.ts).
 * - Inference-only nodes are what they are at inference: Dropout and Identity pass their input on.
 * - Opset 13-17 forms are rewritten into the opset-18 forms the engine's ops take (Reduce* axes).
 * - Identical nodes over identical inputs are built once, so that graphs of several sessions
 *   imported into one graph share their core.
 *
 * An operator excite lacks is an error naming the node, its op type, the opset and what is supported.
 */
import { DataFileError } from '../data/errors.ts';
import { GraphError } from '../onnx/errors.ts';
import type { Graph, Value } from '../onnx/graph.ts';
import { type NdArray, fromNumbers, isFloat, toNumbers } from '../onnx/ndarray.ts';
import type { AttrValue } from '../onnx/op.ts';
import { lookupOp, registeredOps } from '../onnx/ops/registry.ts';
import { type Ref, ref } from '../onnx/reference.ts';
import { isStatic } from '../onnx/shape.ts';
import type { OnnxAttr, OnnxModel, OnnxNode } from './onnx-file.ts';

/** Handled by the importer itself rather than by an engine op. */
const IMPORTER_OPS = ['Constant', 'Dropout', 'Identity'];

/** Reductions whose axes moved from an attribute to an input in opset 18. */
const AXES_TO_INPUT = new Set(['ReduceMean', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL1', 'ReduceL2', 'ReduceLogSum', 'ReduceLogSumExp', 'ReduceSumSquare']);

/** What the ops excite imports are, for error messages and docs. */
export function supportedOnnxOps(): string[] {
  return [...new Set([...registeredOps(), ...IMPORTER_OPS])].sort();
}

/**
 * State shared by imports into one graph: nodes already built (by op, attributes and inputs) and
 * weights already declared (by name and contents).
 */
export class ImportMemo {
  readonly nodes = new Map<string, Value[]>();
  private readonly ids = new WeakMap<Value, number>();
  private next = 0;

  id(v: Value | undefined): string {
    if (!v) return '-';
    let id = this.ids.get(v);
    if (id === undefined) this.ids.set(v, (id = this.next++));
    return String(id);
  }
}

export interface ImportOptions {
  /** the value the model's image input is bound to (in `graph`) */
  image: Value;
  memo?: ImportMemo;
  /** prefix for a weight whose name another import already took with other contents */
  weightPrefix?: string;
}

export interface ImportResult {
  /** the model's one output, in the target graph */
  output: Value;
  /** nodes the import added (after folding and sharing) */
  nodes: number;
  /** nodes folded into constants */
  folded: number;
}

const sameArray = (a: NdArray, b: NdArray) => a.dtype === b.dtype && a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]) && Buffer.compare(bytesOf(a), bytesOf(b)) === 0;
const bytesOf = (a: NdArray) => Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength);

/** Imports `model` into `image`'s graph; returns the value of its one output. */
export function importOnnxGraph(model: OnnxModel, options: ImportOptions): ImportResult {
  const g = options.image.graph;
  const memo = options.memo ?? new ImportMemo();
  const fail = (problem: string, code: 'INVALID_ONNX' | 'UNSUPPORTED_OPERATOR' = 'INVALID_ONNX', cause?: unknown) => new DataFileError(model.file, problem, { code, cause });

  const [input, ...extraInputs] = model.inputs;
  if (!input || extraInputs.length) {
    const list = model.inputs.map((i) => `${i.name} (${i.dtype ?? 'not a tensor'} [${i.shape?.map((d) => d ?? '?') ?? ''}])`).join(', ');
    throw fail(`the graph takes ${model.inputs.length} inputs (${list || 'none'}); excite feeds one image [batch, channels, height, width]: export one graph per session key instead of a session input`);
  }
  if (input.dtype !== 'float32') throw fail(`the graph's input "${input.name}" is ${input.dtype ?? 'not a tensor'}; excite feeds float32 images`);
  if (model.outputs.length !== 1) throw fail(`the graph has ${model.outputs.length} outputs (${model.outputs.map((o) => o.name).join(', ')}); excite reads one [batch, neurons] output`);

  const values = new Map<string, Value>();
  /** outputs that exist in the file but not at inference (Dropout's mask), with the reason */
  const absent = new Map<string, string>();
  values.set(input.name, options.image);

  const valueOf = (name: string, node: OnnxNode): Value | undefined => {
    if (name === '') return undefined;
    const known = values.get(name);
    if (known) return known;
    const init = model.initializers.get(name);
    if (init) {
      const v = isFloat(init.dtype) ? weightFor(name, init) : g.constant(init, 'const');
      values.set(name, v);
      return v;
    }
    throw fail(`node "${node.name}" (${node.opType}) reads "${name}", ${absent.get(name) ?? 'which no node or initializer defines before it'}`);
  };

  const weightFor = (name: string, data: NdArray): Value => {
    const taken = g.weights.get(name);
    if (!taken) return g.weight(name, data);
    if (sameArray(taken.data!, data)) return taken;
    const prefixed = `${options.weightPrefix ?? 'import'}/${name}`;
    return g.weights.get(prefixed) ?? g.weight(prefixed, data);
  };

  let added = 0;
  let folded = 0;
  for (const node of model.nodes) {
    const where = `node "${node.name}" (${node.opType}, opset ${model.opset})`;
    if (node.domain && node.domain !== 'ai.onnx') {
      throw fail(`${where}: operators of domain "${node.domain}" are not supported; excite imports the standard ONNX operators: ${supportedOnnxOps().join(', ')}`, 'UNSUPPORTED_OPERATOR');
    }
    if (node.opType === 'Constant') {
      values.set(node.outputs[0], g.constant(constantOf(node, model.file), 'const'));
      continue;
    }
    if (node.opType === 'Identity' || node.opType === 'Dropout') {
      values.set(node.outputs[0], valueOf(node.inputs[0], node)!);
      if (node.outputs[1]) absent.set(node.outputs[1], `the mask of ${where}, which does not exist at inference`);
      continue;
    }
    const op = lookupOp(node.opType);
    if (!op) {
      throw fail(`${where} is not supported: excite derives gradients for these operators: ${supportedOnnxOps().join(', ')}`, 'UNSUPPORTED_OPERATOR');
    }
    const inputs = node.inputs.map((name) => valueOf(name, node));
    const attrs: Record<string, AttrValue | undefined> = {};
    for (const [k, v] of Object.entries(node.attrs)) attrs[k] = v as AttrValue;
    if (model.opset < 18 && AXES_TO_INPUT.has(node.opType) && attrs.axes !== undefined) {
      inputs[1] = g.ints(attrs.axes as number[]);
      delete attrs.axes;
    }
    const key = `${node.opType}|${JSON.stringify(attrs, jsonSafe)}|${inputs.map((v) => memo.id(v)).join(',')}`;
    let outs = memo.nodes.get(key);
    if (!outs) {
      try {
        outs = g.node(node.opType, inputs, attrs, { name: node.name });
      } catch (e) {
        throw fail(`${where}: ${e instanceof GraphError ? e.message.replace(/^node "[^"]*" \([^)]*\): /, '') : (e as Error).message}`, 'INVALID_ONNX', e);
      }
      const built = outs[0].producer!;
      if (inputs.every(foldable)) {
        outs = fold(g, built, inputs, where, fail);
        folded++;
      } else {
        added++;
      }
      memo.nodes.set(key, outs);
    }
    node.outputs.forEach((name, k) => {
      if (!name) return;
      if (k < outs!.length) values.set(name, outs![k]);
      else absent.set(name, `output ${k} of ${where}, which excite does not compute`);
    });
  }
  const output = values.get(model.outputs[0].name);
  if (!output) throw fail(`no node computes the graph's output "${model.outputs[0].name}"`);
  return { output, nodes: added, folded };
}

/** A value known while building: initializer, constant, or integers whose contents are all static. */
function foldable(v: Value | undefined): boolean {
  if (!v) return true;
  if (v.kind === 'constant' || v.kind === 'weight') return true;
  const k = v.symbolicContents;
  return !!k && k.every(isStatic);
}

function refOf(v: Value): Ref {
  if (v.data) return ref(v.dtype, v.shape as number[], toNumbers(v.data));
  return ref(v.dtype, v.shape as number[], v.symbolicContents as number[]);
}

/** Replaces the node just built by constants holding its outputs (the op's reference kernel). */
function fold(g: Graph, node: NonNullable<Value['producer']>, inputs: readonly (Value | undefined)[], where: string, fail: (p: string, c?: 'INVALID_ONNX', cause?: unknown) => Error): Value[] {
  let results: Ref[];
  try {
    results = lookupOp(node.opType)!.evaluate(inputs.map((v) => v && refOf(v)), node.attrs);
  } catch (e) {
    throw fail(`${where}: folding it into a constant failed: ${(e as Error).message}`, 'INVALID_ONNX', e);
  }
  g.removeLastNode(node);
  return results.map((r, k) => g.constant(fromNumbers(node.outputs[k].dtype, r.shape, r.data), 'folded'));
}

function constantOf(node: OnnxNode, file: string): NdArray {
  const a = node.attrs;
  if (a.value !== undefined && typeof a.value === 'object' && 'dtype' in a.value) return a.value;
  if (typeof a.value_float === 'number') return fromNumbers('float32', [], [a.value_float]);
  if (Array.isArray(a.value_floats)) return fromNumbers('float32', [a.value_floats.length], a.value_floats as number[]);
  if (typeof a.value_int === 'number') return fromNumbers('int64', [], [a.value_int]);
  if (Array.isArray(a.value_ints)) return fromNumbers('int64', [a.value_ints.length], a.value_ints as number[]);
  throw new DataFileError(file, `node "${node.name}" (Constant): only tensor, float and int values are supported (got ${Object.keys(a).join(', ') || 'none'})`, { code: 'INVALID_ONNX' });
}

function jsonSafe(_key: string, v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number | bigint>, (x) => String(x));
  return v;
}

export type { OnnxAttr };
