/** Graph to ONNX ModelProto bytes (protobufjs), with weights as initializers or as fed inputs. */
import { GraphError } from './errors.ts';
import { nodesFor } from './evaluate.ts';
import type { Graph, Value } from './graph.ts';
import type { NdArray } from './ndarray.ts';
import { AttributeType, ModelProto } from './onnx-proto.ts';
import { lookupOp } from './ops/registry.ts';
import { ONNX_DTYPE } from './ops/elementwise.ts';

export interface SerializeOptions {
  /**
   * 'initializers' bakes weights into the model; 'inputs' makes each a graph input fed at run time;
   * 'external' keeps them initializers stored as ONNX external data (createSession only: the bytes
   * travel beside the model, see runtime/external-weights.ts)
   */
  weights?: 'initializers' | 'inputs' | 'external';
  /** key/value metadata stored in the model */
  metadata?: Record<string, string>;
  /** keep only these outputs (default: all graph outputs) */
  outputs?: readonly string[];
}

export const IR_VERSION = 8;
export const PRODUCER = 'excite';

function valueInfo(v: Value) {
  return {
    name: v.name,
    type: {
      tensor_type: {
        elem_type: ONNX_DTYPE[v.dtype],
        shape: { dim: v.shape.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) },
      },
    },
  };
}

function tensorProto(name: string, a: NdArray) {
  const bytes = new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength);
  return { name, dims: [...a.shape], data_type: ONNX_DTYPE[a.dtype], raw_data: bytes };
}

function attributeProto(name: string, value: unknown, type: string) {
  switch (type) {
    case 'int':
      return { name, type: AttributeType.INT, i: value as number };
    case 'float':
      return { name, type: AttributeType.FLOAT, f: value as number };
    case 'ints':
      return { name, type: AttributeType.INTS, ints: value as number[] };
    case 'floats':
      return { name, type: AttributeType.FLOATS, floats: value as number[] };
    case 'string':
      return { name, type: AttributeType.STRING, s: new TextEncoder().encode(value as string) };
    case 'tensor':
      return { name, type: AttributeType.TENSOR, t: tensorProto('', value as NdArray) };
    default:
      throw new Error(`attribute type ${type}`);
  }
}

export function serialize(graph: Graph, options: SerializeOptions = {}): Uint8Array {
  if (options.weights === 'external') throw new Error("weights: 'external' needs createSession or serializeExternalWeights");
  const fedWeights = options.weights === 'inputs';
  const outputs = options.outputs ? options.outputs.map((n) => graph.value(n)) : graph.outputs;
  if (outputs.length === 0) throw new GraphError(`graph "${graph.name}" has no outputs`);
  // only what the outputs need: onnxruntime asks for every graph input to be fed
  const needed = nodesFor(graph, outputs);
  const used = new Set<Value>(outputs);
  for (const n of needed) for (const i of n.inputs) if (i) used.add(i);
  const weights = [...graph.weights.values()].filter((w) => used.has(w));
  const nodes = needed.map((n) => {
    const op = lookupOp(n.opType)!;
    return {
      name: n.name,
      op_type: n.opType,
      // omitted optional inputs: '' in between, none at the end (onnxruntime's optimizer can crash on a trailing '')
      input: n.inputs.slice(0, n.inputs.findLastIndex((i) => i !== undefined) + 1).map((i) => i?.name ?? ''),
      output: n.outputs.map((o) => o.name),
      attribute: Object.entries(n.attrs).map(([k, v]) => attributeProto(k, v, op.attrs[k].type)),
    };
  });
  const model = {
    ir_version: IR_VERSION,
    producer_name: PRODUCER,
    opset_import: [{ domain: '', version: graph.opset }],
    metadata_props: Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value })),
    graph: {
      name: graph.name,
      node: nodes,
      input: [...graph.inputs.filter((i) => used.has(i)), ...(fedWeights ? weights : [])].map(valueInfo),
      output: outputs.map(valueInfo),
      initializer: [...(fedWeights ? [] : weights), ...graph.constants.filter((c) => used.has(c))].map((v) => tensorProto(v.name, v.data!)),
    },
  };
  return ModelProto.encode(ModelProto.fromObject(model)).finish();
}

/** Decodes model bytes into a plain object (for inspection and tests). */
export function decodeModel(bytes: Uint8Array): Record<string, unknown> {
  return ModelProto.toObject(ModelProto.decode(bytes), { longs: Number, bytes: Array, defaults: true }) as Record<string, unknown>;
}
