/**
 * Sessions for graphs whose weights do not fit in one protobuf message. A ModelProto is limited to
 * 2 GB (protobuf's message size); ADM 256x256 has 552.8M float32 weights, 2.21 GB. Here the weights
 * stay initializers (so onnxruntime still constant-folds their reshapes and prepacks convolution
 * kernels) but are stored as ONNX external data: each initializer names an in-memory "file" that
 * onnxruntime-node receives through SessionOptions.externalData, and the model bytes hold only the
 * nodes. Feeding the weights as inputs (`serialize(g, { weights: 'inputs' })`) also avoids the
 * limit, but runs about 25% slower on the CPU (no prepacking) and would copy every weight to a GPU
 * on every run.
 *
 * onnxruntime copies the external data into its own buffers while the session is created; the
 * arrays may be released afterwards. createSession switches to this form by itself.
 */
import type { Graph } from '../onnx/graph.ts';
import { ModelProto } from '../onnx/onnx-proto.ts';
import { ONNX_DTYPE } from '../onnx/ops/elementwise.ts';
import { type SerializeOptions, serialize } from '../onnx/serialize.ts';

/** protobuf's limit on one message (2 GiB - 1), less room for the nodes and constants. */
export const BAKED_WEIGHTS_LIMIT = 2 ** 31 - 2 ** 27;

/** The bytes of a graph's weights. */
export function weightBytes(graph: Graph): number {
  let n = 0;
  for (const w of graph.weights.values()) n += w.data?.data.byteLength ?? 0;
  return n;
}

/** Whether createSession (weights baked into the model bytes) would pass protobuf's limit. */
export function needsExternalWeights(graph: Graph): boolean {
  return weightBytes(graph) > BAKED_WEIGHTS_LIMIT;
}

/** Model bytes whose initializers point into `externalData`, the weights' bytes (not copied). */
export interface ExternalWeightsModel {
  model: Uint8Array;
  externalData: { path: string; data: Uint8Array }[];
}

const EXTERNAL = ModelProto.root.lookupEnum('onnx.TensorProto.DataLocation').values.EXTERNAL;

interface DecodedModel {
  graph: { input: { name: string }[]; initializer: unknown[] };
}

/**
 * Serializes a graph with its weights as external data, one in-memory file per weight (views of
 * the weight arrays: nothing is copied, so the model stays small whatever the weights weigh).
 */
export function serializeExternalWeights(graph: Graph, options: SerializeOptions = {}): ExternalWeightsModel {
  // weights as inputs gives the nodes and the weights' declarations without their bytes
  const model = ModelProto.decode(serialize(graph, { ...options, weights: 'inputs' })) as unknown as DecodedModel;
  const externalData: ExternalWeightsModel['externalData'] = [];
  model.graph.input = model.graph.input.filter(({ name }) => {
    const w = graph.weights.get(name);
    if (!w?.data) return true;
    const a = w.data;
    const path = `weight-${externalData.length}.bin`;
    const data = new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength);
    externalData.push({ path, data });
    model.graph.initializer.push({
      name,
      dims: [...a.shape],
      data_type: ONNX_DTYPE[a.dtype],
      data_location: EXTERNAL,
      external_data: [
        { key: 'location', value: path },
        { key: 'offset', value: '0' },
        { key: 'length', value: String(data.byteLength) },
      ],
    });
    return false;
  });
  return { model: ModelProto.encode(model as unknown as Parameters<typeof ModelProto.encode>[0]).finish(), externalData };
}
