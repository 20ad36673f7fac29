/**
 * onnxruntime-node sessions for graphs: created once per (model, device, options) and cached,
 * fed with host arrays, with weights either baked in (synthesis) or fed per run (training).
 */
import { createHash } from 'node:crypto';
import ort from 'onnxruntime-node';
import type { Graph } from '../onnx/graph.ts';
import { type DType, type NdArray, ndarray } from '../onnx/ndarray.ts';
import { type SerializeOptions, serialize } from '../onnx/serialize.ts';
import { bindSymbols } from '../onnx/shape.ts';
import { type ExternalWeightsModel, needsExternalWeights, serializeExternalWeights } from './external-weights.ts';
import { type Device, checkProviderKnown, deviceFromEnv, executionProviders, providerFailure, webgpuCpuOps } from './device.ts';

export interface SessionOptions {
  device?: Device;
  /** intra-op threads on CPU (default: onnxruntime's choice, all cores) */
  threads?: number;
  /** graph optimization level (default 'all') */
  optimization?: 'disabled' | 'basic' | 'extended' | 'all';
  /** on WebGPU, node names to run on the CPU (see webgpuCpuOps) */
  cpuNodes?: readonly string[];
  /** weights passed beside the model bytes (models over protobuf's 2 GB, see external-weights.ts) */
  externalData?: ExternalWeightsModel['externalData'];
}

/** A graph compiled for one device. Runs take and return host arrays. */
export class EngineSession {
  private constructor(
    readonly session: ort.InferenceSession,
    readonly device: Device,
    /** declared input types, for validating feeds */
    private readonly inputTypes: Map<string, { dtype: DType; shape: readonly (number | string)[] }>,
  ) {}

  static async create(model: Uint8Array, inputTypes: EngineSession['inputTypes'], options: SessionOptions = {}): Promise<EngineSession> {
    const device = options.device ?? deviceFromEnv();
    checkProviderKnown(device);
    const sessionOptions: ort.InferenceSession.SessionOptions = {
      executionProviders: executionProviders(device, options.cpuNodes),
      graphOptimizationLevel: options.optimization ?? 'all',
      logSeverityLevel: 3,
    };
    if (options.threads) sessionOptions.intraOpNumThreads = options.threads;
    if (options.externalData) sessionOptions.externalData = options.externalData;
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(model, sessionOptions);
    } catch (e) {
      throw providerFailure(device, e);
    }
    return new EngineSession(session, device, inputTypes);
  }

  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }

  get outputNames(): readonly string[] {
    return this.session.outputNames;
  }

  /** Runs with `feeds` (extra names are ignored, so one feed object can serve several sessions). */
  async run(feeds: Record<string, NdArray>, outputs?: readonly string[]): Promise<Record<string, NdArray>> {
    const tensors: Record<string, ort.Tensor> = {};
    const symbols = new Map<string, number>();
    for (const name of this.session.inputNames) {
      const a = feeds[name];
      if (!a) throw new Error(`missing feed "${name}" (this session needs ${this.session.inputNames.join(', ')})`);
      const t = this.inputTypes.get(name);
      if (t) {
        if (t.dtype !== a.dtype) throw new Error(`feed "${name}" is ${a.dtype}, the model expects ${t.dtype}`);
        try {
          bindSymbols(t.shape, a.shape, symbols);
        } catch (e) {
          throw new Error(`feed "${name}": ${(e as Error).message}`);
        }
      }
      tensors[name] = new ort.Tensor(a.dtype, a.data as ort.Tensor.DataType, [...a.shape]);
    }
    const result = outputs ? await this.session.run(tensors, [...outputs]) : await this.session.run(tensors);
    const out: Record<string, NdArray> = {};
    for (const [name, t] of Object.entries(result)) out[name] = ndarray(t.type as DType, t.dims, t.data as NdArray['data']);
    return out;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/** Session options for a graph: pins the EXCITE_WEBGPU_CPU_OPS op types to the CPU on WebGPU. */
function forGraph(graph: Graph, options: SessionOptions): SessionOptions {
  const device = options.device ?? deviceFromEnv();
  const ops = device === 'webgpu' ? webgpuCpuOps() : [];
  const cpuNodes = ops.length ? graph.nodes.filter((n) => ops.includes(n.opType)).map((n) => n.name) : [];
  return { ...options, device, cpuNodes: [...(options.cpuNodes ?? []), ...cpuNodes] };
}

function inputTypesOf(graph: Graph, weights: SerializeOptions['weights']): EngineSession['inputTypes'] {
  const m: EngineSession['inputTypes'] = new Map();
  for (const v of graph.inputs) m.set(v.name, { dtype: v.dtype, shape: v.shape });
  if (weights === 'inputs') for (const v of graph.weights.values()) m.set(v.name, { dtype: v.dtype, shape: v.shape });
  return m;
}

/** Caches sessions by model bytes, device and options. */
export class SessionCache {
  private readonly sessions = new Map<string, Promise<EngineSession>>();

  async forGraph(graph: Graph, serializeOptions: SerializeOptions = {}, options: SessionOptions = {}): Promise<EngineSession> {
    const model = serialize(graph, serializeOptions);
    const resolved = forGraph(graph, options);
    const key = createHash('sha256').update(model).update(JSON.stringify(resolved)).digest('hex');
    let s = this.sessions.get(key);
    if (!s) {
      s = EngineSession.create(model, inputTypesOf(graph, serializeOptions.weights), resolved);
      this.sessions.set(key, s);
      s.catch(() => this.sessions.delete(key));
    }
    return s;
  }

  get size(): number {
    return this.sessions.size;
  }

  async clear(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(all.map(async (s) => (await s).release().catch(() => undefined)));
  }
}

/**
 * Compiles a graph for a device without caching. Weights baked in as initializers travel as
 * external data when they would pass protobuf's 2 GB limit (ADM-256).
 */
export async function createSession(graph: Graph, serializeOptions: SerializeOptions = {}, options: SessionOptions = {}): Promise<EngineSession> {
  const inputTypes = inputTypesOf(graph, serializeOptions.weights);
  if (serializeOptions.weights === 'external' || (serializeOptions.weights !== 'inputs' && needsExternalWeights(graph))) {
    const { model, externalData } = serializeExternalWeights(graph, serializeOptions);
    return EngineSession.create(model, inputTypes, { ...forGraph(graph, options), externalData });
  }
  return EngineSession.create(serialize(graph, serializeOptions), inputTypes, forGraph(graph, options));
}
