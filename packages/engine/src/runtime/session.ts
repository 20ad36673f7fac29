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

/**
 * onnxruntime's options for a session (EngineSession's, and each slice of a ShardedSession): the
 * device's providers, the optimization level ('all' by default), the intra-op threads (EXCITE_THREADS
 * when unset, else onnxruntime's choice) and idle threads that sleep.
 */
export function ortSessionOptions(options: SessionOptions & { device: Device }): ort.InferenceSession.SessionOptions {
  const sessionOptions: ort.InferenceSession.SessionOptions = {
    executionProviders: executionProviders(options.device, options.cpuNodes),
    graphOptimizationLevel: options.optimization ?? 'all',
    logSeverityLevel: 3,
  };
  const threads = options.threads ?? threadsFromEnv();
  if (threads) sessionOptions.intraOpNumThreads = threads;
  if (options.externalData) sessionOptions.externalData = options.externalData;
  // intra-op threads sleep when idle instead of spinning: a loop alternating sessions (EGG-x0's
  // UNet and energy gradient) otherwise has each session's spinning threads steal the other's
  // cores. bench:gpu, 2-core CPU, demo prior + paper encoder: EGG-x0 step 55 -> 32 ms at batch 1,
  // 171 -> 114 ms at batch 4; single-session loops (EGG, GA) unchanged or faster.
  sessionOptions.extra = { session: { intra_op: { allow_spinning: '0' } } };
  return sessionOptions;
}

/**
 * A feed checked against its input's declaration (absent: not checked), binding the shape's symbols
 * (the batch) across the feeds of one run in `symbols`.
 */
export function checkFeed(name: string, feeds: Record<string, NdArray>, needed: readonly string[], declared: { dtype: DType; shape: readonly (number | string)[] } | undefined, symbols: Map<string, number>): NdArray {
  const a = feeds[name];
  if (!a) throw new Error(`missing feed "${name}" (this session needs ${needed.join(', ')})`);
  if (declared) {
    if (declared.dtype !== a.dtype) throw new Error(`feed "${name}" is ${a.dtype}, the model expects ${declared.dtype}`);
    try {
      bindSymbols(declared.shape, a.shape, symbols);
    } catch (e) {
      throw new Error(`feed "${name}": ${(e as Error).message}`);
    }
  }
  return a;
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
    const sessionOptions = ortSessionOptions({ ...options, device });
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
    const tensors = this.tensorsOf(feeds);
    const result = outputs ? await this.session.run(tensors, [...outputs]) : await this.session.run(tensors);
    const out: Record<string, NdArray> = {};
    for (const [name, t] of Object.entries(result)) out[name] = ndarray(t.type as DType, t.dims, t.data as NdArray['data']);
    return out;
  }

  /**
   * A run over fixed buffers, for loops that run the same session many times (EGG's steps): the
   * feeds are checked and wrapped once, the outputs are written into `outputs`' arrays in place
   * (no allocation per run). The caller changes the feed arrays' contents between runs; an output
   * array must not also be a feed of the same run.
   */
  prepare(feeds: Record<string, NdArray>, outputs: Record<string, NdArray>): () => Promise<void> {
    const tensors = this.tensorsOf(feeds);
    const fetches: Record<string, ort.Tensor> = {};
    for (const [name, a] of Object.entries(outputs)) {
      if (!this.session.outputNames.includes(name)) throw new Error(`no output "${name}" (this session has ${this.session.outputNames.join(', ')})`);
      fetches[name] = new ort.Tensor(a.dtype, a.data as ort.Tensor.DataType, [...a.shape]);
    }
    return async () => void (await this.session.run(tensors, fetches));
  }

  private tensorsOf(feeds: Record<string, NdArray>): Record<string, ort.Tensor> {
    const tensors: Record<string, ort.Tensor> = {};
    const symbols = new Map<string, number>();
    for (const name of this.session.inputNames) {
      const a = checkFeed(name, feeds, this.session.inputNames, this.inputTypes.get(name), symbols);
      tensors[name] = new ort.Tensor(a.dtype, a.data as ort.Tensor.DataType, [...a.shape]);
    }
    return tensors;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/**
 * Nodes the WebGPU provider claims but cannot run (onnxruntime-node 1.30): MaxPool with its
 * Indices output, which an imported graph may ask for ("The Indices output is not supported yet").
 */
const webgpuUnsupported = (n: Graph['nodes'][number]) => n.opType === 'MaxPool' && n.outputs.length > 1;

/** EXCITE_THREADS: intra-op threads of every CPU session that does not set its own (unset: all cores). */
export function threadsFromEnv(): number | undefined {
  const v = process.env.EXCITE_THREADS;
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`EXCITE_THREADS must be a positive integer, got "${v}"`);
  return n;
}

/** Session options for a graph: on WebGPU, pins the EXCITE_WEBGPU_CPU_OPS op types and the nodes WebGPU cannot run to the CPU. */
function forGraph(graph: Graph, options: SessionOptions): SessionOptions {
  const device = options.device ?? deviceFromEnv();
  if (device !== 'webgpu') return { ...options, device };
  const ops = webgpuCpuOps();
  const cpuNodes = graph.nodes.filter((n) => ops.includes(n.opType) || webgpuUnsupported(n)).map((n) => n.name);
  return { ...options, device, cpuNodes: [...(options.cpuNodes ?? []), ...cpuNodes] };
}

function inputTypesOf(graph: Graph, weights: SerializeOptions['weights']): EngineSession['inputTypes'] {
  const m: EngineSession['inputTypes'] = new Map();
  for (const v of graph.inputs) m.set(v.name, { dtype: v.dtype, shape: v.shape });
  if (weights === 'inputs') for (const v of graph.weights.values()) m.set(v.name, { dtype: v.dtype, shape: v.shape });
  return m;
}

/** A weight array's content hash, computed once per array object (weights of a loaded model are not mutated). */
const fingerprints = new WeakMap<object, string>();
export function fingerprint(a: NdArray): string {
  let f = fingerprints.get(a.data);
  if (!f) {
    const bytes = new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength);
    f = createHash('sha256').update(`${a.dtype}[${a.shape}]`).update(bytes).digest('hex');
    fingerprints.set(a.data, f);
  }
  return f;
}

/** What a SessionCache keeps: released when evicted; `failure` set when it can no longer run. */
export interface CachedSession {
  release(): Promise<void>;
  readonly failure?: Error;
}

export interface SessionCacheOptions {
  /** the most sessions kept; the least recently used beyond it is released (default unbounded) */
  capacity?: number;
}

/**
 * Compiled sessions kept across runs, keyed by the graph's nodes, its weights' content, the device
 * and the options: a worker that synthesizes with the same generator and prior again skips the
 * compilation (for ADM-256 on a GPU, tens of seconds and a 2.2 GB upload). A lookup serializes the
 * graph without its weights and hashes each weight array once per array object, so repeated runs
 * over a loaded model cost milliseconds. An evicted session is released: give the cache to one
 * consumer at a time (a worker runs one job at a time), or leave `capacity` unbounded.
 */
export class SessionCache {
  /** EngineSessions under forGraph's keys, other sessions (sharded ones) under forId's ids */
  private readonly sessions = new Map<string, Promise<CachedSession>>();
  /** forBuilt's ids (with the options) -> forGraph's keys */
  private readonly built = new Map<string, string>();

  constructor(private readonly options: SessionCacheOptions = {}) {}

  /**
   * forGraph for a graph that is costly to build (EGG's step: a UNet with its backward pass, tens
   * of milliseconds to build and to key): `id` stands for the graph (the same id must always build
   * the same graph), so a session already compiled for it is found without building the graph,
   * serializing it or hashing it again.
   */
  async forBuilt(id: string, build: () => Graph, serializeOptions: SerializeOptions = {}, options: SessionOptions = {}): Promise<EngineSession> {
    // what forGraph resolves from the environment is part of the id too
    const device = options.device ?? deviceFromEnv();
    const alias = JSON.stringify([id, serializeOptions.weights ?? 'initializers', { ...options, device, externalData: undefined }, device === 'webgpu' ? webgpuCpuOps() : []]);
    const built = this.built.get(alias);
    const key = built === undefined ? undefined : `graph:${built}`;
    const s = key === undefined ? undefined : this.sessions.get(key);
    if (s) {
      this.sessions.delete(key!);
      this.sessions.set(key!, s);
      return s as Promise<EngineSession>;
    }
    const graph = build();
    const k = this.keyOf(graph, serializeOptions, options);
    this.built.set(alias, k);
    return this.forKey(k, graph, serializeOptions, options);
  }

  private keyOf(graph: Graph, serializeOptions: SerializeOptions, options: SessionOptions): string {
    const resolved = forGraph(graph, options);
    const hash = createHash('sha256')
      .update(serialize(graph, { ...serializeOptions, weights: 'inputs' }))
      .update(JSON.stringify({ ...resolved, externalData: undefined, weights: serializeOptions.weights ?? 'initializers' }));
    if (serializeOptions.weights !== 'inputs') for (const [name, w] of graph.weights) if (w.data) hash.update(`${name}=${fingerprint(w.data)}`);
    return hash.digest('hex');
  }

  async forGraph(graph: Graph, serializeOptions: SerializeOptions = {}, options: SessionOptions = {}): Promise<EngineSession> {
    return this.forKey(this.keyOf(graph, serializeOptions, options), graph, serializeOptions, options);
  }

  private async forKey(key: string, graph: Graph, serializeOptions: SerializeOptions, options: SessionOptions): Promise<EngineSession> {
    return this.forId(`graph:${key}`, () => createSession(graph, serializeOptions, options));
  }

  /**
   * Any session kept under an id the caller vouches for (sharded sessions: ShardedSession), in the
   * same least-recently-used order as the compiled graphs. One whose threads failed is made anew.
   */
  async forId<T extends CachedSession>(id: string, create: () => Promise<T>): Promise<T> {
    let s = this.sessions.get(id) as Promise<T> | undefined;
    const cached = s && (await s.catch(() => undefined));
    if (s && cached && cached.failure === undefined) {
      // most recently used last
      this.sessions.delete(id);
      this.sessions.set(id, s);
      return s;
    }
    if (s) this.sessions.delete(id);
    s = create();
    this.sessions.set(id, s);
    s.catch(() => this.sessions.delete(id));
    await this.evict();
    return s;
  }

  private async evict(): Promise<void> {
    const capacity = this.options.capacity ?? Infinity;
    while (this.sessions.size > capacity) {
      const [key, oldest] = this.sessions.entries().next().value!;
      this.sessions.delete(key);
      await oldest.then((x) => x.release()).catch(() => undefined);
    }
  }

  get size(): number {
    return this.sessions.size;
  }

  async clear(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    this.built.clear();
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
