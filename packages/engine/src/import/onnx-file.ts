/**
 * Reading an ONNX ModelProto written by someone else (torch.onnx.export, tf2onnx): its opset, its
 * graph's inputs and outputs, initializers (inline, or as external data beside the file) and nodes
 * with their attributes as plain values. Nothing here knows operators; import-graph.ts turns this
 * into an engine graph.
 */
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DataFileError } from '../data/errors.ts';
import { pathInside } from '../data/paths.ts';
import { type DType, type NdArray, fromNumbers, ndarray } from '../onnx/ndarray.ts';
import { AttributeType, ModelProto } from '../onnx/onnx-proto.ts';

/** The opsets of the default domain that excite reads (what exporters of the last years write). */
export const OPSETS = { min: 13, max: 18 } as const;

/** An attribute as an op's schema takes it; TENSOR attributes (Constant, ConstantOfShape) as arrays. */
export type OnnxAttr = number | string | number[] | string[] | NdArray;

export interface OnnxValueInfo {
  name: string;
  /** undefined: not a tensor (sequences, maps) or an element type excite has no use for */
  dtype?: DType;
  /** per axis: a size, a symbol (dim_param), or undefined where the graph leaves it open */
  shape?: (number | string | undefined)[];
}

export interface OnnxNode {
  name: string;
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attrs: Record<string, OnnxAttr>;
}

export interface OnnxModel {
  /** where it was read from, for messages */
  file: string;
  producer: string;
  opset: number;
  /** graph inputs that are not initializers */
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  initializers: Map<string, NdArray>;
  nodes: OnnxNode[];
}

/** ONNX TensorProto.DataType codes excite reads. */
const DTYPES: Record<number, DType> = { 1: 'float32', 6: 'int32', 7: 'int64', 9: 'bool', 10: 'float16', 11: 'float64' };
const TYPE_NAMES: Record<number, string> = { 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 8: 'string', 12: 'uint32', 13: 'uint64', 16: 'bfloat16' };

interface TensorMessage {
  name?: string;
  dims?: number[];
  data_type?: number;
  float_data?: number[];
  int32_data?: number[];
  int64_data?: number[];
  double_data?: number[];
  raw_data?: Uint8Array;
  external_data?: { key: string; value: string }[];
  data_location?: number;
}

export async function readOnnxModel(file: string): Promise<OnnxModel> {
  const bytes = await readFile(file).catch((e: NodeJS.ErrnoException) => {
    throw new DataFileError(file, e.code === 'ENOENT' ? 'does not exist' : `cannot be read (${e.code ?? e.message})`, { cause: e });
  });
  return parseOnnxModel(bytes, file);
}

/** Parses model bytes; external data is read from files beside `file`, never outside its folder. */
export async function parseOnnxModel(bytes: Uint8Array, file: string): Promise<OnnxModel> {
  const invalid = (problem: string, cause?: unknown) => new DataFileError(file, problem, { code: 'INVALID_ONNX', cause });
  let proto: Record<string, any>;
  try {
    proto = ModelProto.toObject(ModelProto.decode(bytes), { longs: Number, arrays: true, defaults: false });
  } catch (e) {
    throw invalid(`is not an ONNX model (${(e as Error).message})`, e);
  }
  const graph = proto.graph;
  if (!graph || !graph.node?.length) throw invalid('is not an ONNX model: it holds no graph');
  const opsets = (proto.opset_import ?? []) as { domain?: string; version?: number }[];
  const main = opsets.find((o) => !o.domain || o.domain === 'ai.onnx');
  const opset = main?.version ?? 0;
  if (opset < OPSETS.min || opset > OPSETS.max) {
    throw invalid(`uses opset ${opset || '(none)'} of the ONNX domain; excite reads opsets ${OPSETS.min} to ${OPSETS.max} (export again with opset_version between them)`);
  }
  if (graph.sparse_initializer?.length) throw invalid('holds sparse initializers, which excite does not read (export with dense weights)');

  const initializers = new Map<string, NdArray>();
  for (const t of (graph.initializer ?? []) as TensorMessage[]) {
    initializers.set(t.name ?? '', await tensorOf(t, file, invalid));
  }
  const nodes: OnnxNode[] = [];
  for (const [i, n] of ((graph.node ?? []) as Record<string, any>[]).entries()) {
    const attrs: Record<string, OnnxAttr> = {};
    for (const a of (n.attribute ?? []) as Record<string, any>[]) attrs[a.name] = await attrOf(a, n, file, invalid);
    nodes.push({ name: n.name || `${n.op_type}_${i}`, opType: n.op_type ?? '', domain: n.domain ?? '', inputs: n.input ?? [], outputs: n.output ?? [], attrs });
  }
  const info = (v: Record<string, any>): OnnxValueInfo => {
    const tensor = v.type?.tensor_type;
    const dims = tensor?.shape?.dim as { dim_value?: number; dim_param?: string }[] | undefined;
    return {
      name: v.name,
      dtype: tensor ? DTYPES[tensor.elem_type] : undefined,
      shape: dims?.map((d) => (d.dim_value !== undefined && d.dim_value > 0 ? d.dim_value : d.dim_param || undefined)),
    };
  };
  return {
    file,
    producer: [proto.producer_name, proto.producer_version].filter(Boolean).join(' '),
    opset,
    // IR versions before 4 list initializers among the inputs as well
    inputs: ((graph.input ?? []) as Record<string, any>[]).filter((v) => !initializers.has(v.name)).map(info),
    outputs: ((graph.output ?? []) as Record<string, any>[]).map(info),
    initializers,
    nodes,
  };
}

async function attrOf(a: Record<string, any>, node: Record<string, any>, file: string, invalid: (p: string) => Error): Promise<OnnxAttr> {
  switch (a.type) {
    case AttributeType.FLOAT:
      return a.f ?? 0;
    case AttributeType.INT:
      return a.i ?? 0;
    case AttributeType.STRING:
      return new TextDecoder().decode(a.s ?? new Uint8Array());
    case AttributeType.FLOATS:
      return a.floats ?? [];
    case AttributeType.INTS:
      return a.ints ?? [];
    case AttributeType.STRINGS:
      return ((a.strings ?? []) as Uint8Array[]).map((s) => new TextDecoder().decode(s));
    case AttributeType.TENSOR:
      return tensorOf(a.t ?? {}, file, invalid);
    default:
      throw invalid(`node "${node.name || node.op_type}" (${node.op_type}): attribute "${a.name}" is of a kind excite does not read (type ${a.type}: subgraphs, sparse tensors)`);
  }
}

async function tensorOf(t: TensorMessage, file: string, invalid: (p: string) => Error): Promise<NdArray> {
  const shape = t.dims ?? [];
  const dtype = DTYPES[t.data_type ?? 0];
  const what = `tensor "${t.name ?? ''}"`;
  if (!dtype) throw invalid(`${what} is of type ${TYPE_NAMES[t.data_type ?? 0] ?? t.data_type}, which excite does not read`);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw invalid(`${what} has dimensions [${shape}]`);
  let raw = t.raw_data;
  if (t.data_location === 1) raw = await externalData(t, file, invalid);
  if (raw && raw.byteLength > 0) {
    const probe = ndarray(dtype, shape);
    if (raw.byteLength !== probe.data.byteLength) throw invalid(`${what}: ${raw.byteLength} bytes of data for [${shape}] ${dtype} (${probe.data.byteLength} expected)`);
    // a copy: the decoded buffer is not aligned for typed-array views
    new Uint8Array(probe.data.buffer).set(raw);
    return probe;
  }
  const values = dtype === 'float64' ? t.double_data : dtype === 'int64' ? t.int64_data : dtype === 'float32' ? t.float_data : t.int32_data;
  const count = shape.reduce((a, b) => a * b, 1);
  if ((values?.length ?? 0) !== count) throw invalid(`${what}: ${values?.length ?? 0} values for [${shape}]`);
  // float16 in int32_data holds the raw bit patterns
  if (dtype === 'float16') return ndarray(dtype, shape, Uint16Array.from(values ?? []));
  return fromNumbers(dtype, shape, values ?? []);
}

async function externalData(t: TensorMessage, file: string, invalid: (p: string) => Error): Promise<Uint8Array> {
  const entries = Object.fromEntries((t.external_data ?? []).map((e) => [e.key, e.value]));
  const path = pathInside(dirname(file), entries.location, file, `external data of tensor "${t.name}"`);
  const bytes = await readFile(path).catch((e: NodeJS.ErrnoException) => {
    throw invalid(`external data "${entries.location}" of tensor "${t.name}" cannot be read (${e.code ?? e.message})`);
  });
  const offset = Number(entries.offset ?? 0);
  const length = entries.length === undefined ? bytes.byteLength - offset : Number(entries.length);
  if (!(offset >= 0 && length >= 0 && offset + length <= bytes.byteLength)) throw invalid(`external data of tensor "${t.name}": bytes ${offset}..${offset + length} lie outside "${entries.location}" (${bytes.byteLength} bytes)`);
  return bytes.subarray(offset, offset + length);
}

/**
 * The model file's bytes with external data read in as raw data, so that the model travels as one
 * file (uploads, model folders). Files without external data come back as they are.
 */
export async function encodeWithInlineData(file: string): Promise<Uint8Array> {
  const bytes = await readFile(file);
  const invalid = (problem: string) => new DataFileError(file, problem, { code: 'INVALID_ONNX' });
  const proto = ModelProto.decode(bytes) as unknown as { graph?: { initializer?: TensorMessage[] } };
  const external = (proto.graph?.initializer ?? []).filter((t) => t.data_location === 1);
  if (external.length === 0) return bytes;
  for (const t of external) {
    t.raw_data = new Uint8Array(await externalData(t, file, invalid));
    t.external_data = [];
    t.data_location = 0;
  }
  return ModelProto.encode(proto as never).finish();
}
