/**
 * A batch-major graph run as slices of its batch, each slice in its own worker thread with its own
 * onnxruntime session (data parallelism on the CPU). For small models (the demo prior's 40x40 UNet)
 * onnxruntime's intra-op threads hand off more than they compute, while slices of a batch of
 * independent images keep each core busy on its own images: the same arithmetic per image, the
 * cores used. onnxruntime-node runs a session on the calling thread, so a slice needs a thread of
 * its own to run beside another.
 *
 * Inputs whose first axis is the graph's batch symbol are sliced by rows; others go whole to every
 * slice. Every output must have the batch as its first axis. Workers hold the event loop only while
 * a run is pending, so a process with idle sharded sessions can exit.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Graph } from '../onnx/graph.ts';
import type { DType, NdArray } from '../onnx/ndarray.ts';
import { serialize } from '../onnx/serialize.ts';
import { needsExternalWeights } from './external-weights.ts';
import { checkFeed, ortSessionOptions } from './session.ts';

/** One run's tensors as they cross between threads. */
interface WireTensor {
  type: DType;
  dims: number[];
  data: NdArray['data'];
}

type Reply = { id: number; ok: true; outputs?: Record<string, WireTensor> } | { id: number; ok: false; error: string };

/** The worker: one onnxruntime session, created from model bytes, run on request (CommonJS, evaluated as a string so it needs no loader). */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const ort = require(workerData.ort);
let session;
parentPort.on('message', async (m) => {
  try {
    if (m.op === 'create') {
      session = await ort.InferenceSession.create(m.model, m.options);
      parentPort.postMessage({ id: m.id, ok: true });
    } else if (m.op === 'run') {
      const feeds = {};
      for (const [name, f] of Object.entries(m.feeds)) feeds[name] = new ort.Tensor(f.type, f.data, f.dims);
      const result = await session.run(feeds, m.outputs);
      const outputs = {};
      for (const [name, t] of Object.entries(result)) outputs[name] = { type: t.type, dims: [...t.dims], data: t.data };
      parentPort.postMessage({ id: m.id, ok: true, outputs });
    } else if (m.op === 'release') {
      if (session) await session.release();
      session = undefined;
      parentPort.postMessage({ id: m.id, ok: true });
    }
  } catch (e) {
    parentPort.postMessage({ id: m.id, ok: false, error: String((e && e.message) || e) });
  }
});
`;

const ORT_PATH = createRequire(import.meta.url).resolve('onnxruntime-node');

/** A worker thread holding one session; requests are answered in order. */
class SessionThread {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  private nextId = 0;
  /** why the thread can no longer run (it threw outside a request, or exited) */
  failure?: Error;

  constructor() {
    // no inherited flags: the worker is plain CommonJS (a parent's --input-type=module or loader would change that)
    this.worker = new Worker(WORKER, { eval: true, execArgv: [], workerData: { ort: ORT_PATH } });
    this.worker.unref();
    this.worker.on('message', (r: Reply) => {
      const p = this.pending.get(r.id);
      if (!p) return;
      this.pending.delete(r.id);
      if (this.pending.size === 0) this.worker.unref();
      p.resolve(r);
    });
    const fail = (e: Error) => {
      this.failure ??= e;
      for (const p of this.pending.values()) p.reject(this.failure);
      this.pending.clear();
      this.worker.unref();
    };
    this.worker.on('error', (e) => fail(new Error(`a session thread failed: ${e.message}`)));
    this.worker.on('exit', (code) => fail(new Error(`a session thread exited (code ${code})`)));
  }

  async request(message: Record<string, unknown>): Promise<Record<string, WireTensor> | undefined> {
    if (this.failure) throw this.failure;
    const id = this.nextId++;
    const reply = new Promise<Reply>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    if (this.pending.size === 1) this.worker.ref();
    this.worker.postMessage({ ...message, id });
    const r = await reply;
    if (!r.ok) throw new Error(r.error);
    return r.outputs;
  }

  async terminate(): Promise<void> {
    this.failure ??= new Error('the session was released');
    await this.worker.terminate();
  }
}

export interface ShardedSessionOptions {
  /** slices of the batch, each in its own thread (at least 1) */
  shards: number;
  /** intra-op threads per slice (default 1) */
  threads?: number;
  /** graph optimization level (default 'all') */
  optimization?: 'disabled' | 'basic' | 'extended' | 'all';
}

/** The rows [start, end) of each non-empty slice of a batch of `rows` over `shards`, as even as can be. */
export function shardRows(rows: number, shards: number): [number, number][] {
  const out: [number, number][] = [];
  const base = Math.floor(rows / shards);
  const extra = rows % shards;
  let start = 0;
  for (let i = 0; i < shards; i++) {
    const n = base + (i < extra ? 1 : 0);
    if (n > 0) out.push([start, start + n]);
    start += n;
  }
  return out;
}

/** The elements per row of an array whose first axis is the batch. */
const rowSize = (a: NdArray) => a.shape.slice(1).reduce((x, y) => x * y, 1);

export class ShardedSession {
  private constructor(
    private readonly threads: SessionThread[],
    /** declared inputs: dtype, shape, and whether the first axis is the batch */
    private readonly inputs: Map<string, { dtype: DType; shape: readonly (number | string)[]; batched: boolean }>,
    readonly outputNames: readonly string[],
  ) {}

  /** Compiles `graph` (weights baked in) once per slice, each in its own thread, on the CPU. */
  static async create(graph: Graph, options: ShardedSessionOptions): Promise<ShardedSession> {
    if (!Number.isInteger(options.shards) || options.shards < 1) throw new Error(`shards must be a positive integer, got ${options.shards}`);
    if (needsExternalWeights(graph)) throw new Error('a sharded session needs the weights inside the model (under 2 GB)');
    const batch = graph.inputs.map((v) => v.shape[0]).find((d) => typeof d === 'string');
    if (batch === undefined) throw new Error('a sharded session needs an input whose first axis is a batch symbol');
    for (const v of graph.inputs) if (v.shape.indexOf(batch, 1) > 0) throw new Error(`input "${v.name}" [${v.shape}] has the batch "${batch}" beyond its first axis: the rows of a batch interact and cannot be split`);
    for (const o of graph.outputs) if (o.shape[0] !== batch) throw new Error(`output "${o.name}" [${o.shape}] does not have the batch "${batch}" as its first axis`);
    const inputs = new Map(graph.inputs.map((v) => [v.name, { dtype: v.dtype, shape: v.shape, batched: v.shape[0] === batch }]));
    const model = serialize(graph);
    // EngineSession's options on the CPU, one intra-op thread per slice unless told
    const sessionOptions = { ...ortSessionOptions({ device: 'cpu', threads: options.threads ?? 1, optimization: options.optimization }), interOpNumThreads: 1 };
    const threads = Array.from({ length: options.shards }, () => new SessionThread());
    try {
      await Promise.all(threads.map((t) => t.request({ op: 'create', model, options: sessionOptions })));
    } catch (e) {
      await Promise.all(threads.map((t) => t.terminate()));
      throw e;
    }
    return new ShardedSession(threads, inputs, graph.outputs.map((o) => o.name));
  }

  get shards(): number {
    return this.threads.length;
  }

  /** Why the session can no longer run, if a thread failed (a cache drops such a session). */
  get failure(): Error | undefined {
    return this.threads.find((t) => t.failure)?.failure;
  }

  /** Checks the feeds against the declared inputs and returns the batch. */
  private batchOf(feeds: Record<string, NdArray>): number {
    const symbols = new Map<string, number>();
    const needed = [...this.inputs.keys()];
    let rows: number | undefined;
    for (const [name, t] of this.inputs) {
      const a = checkFeed(name, feeds, needed, t, symbols);
      if (t.batched) rows = a.shape[0];
    }
    return rows!;
  }

  /**
   * The same contract as EngineSession.prepare: feeds checked once, each run writes the outputs into
   * `outputs`' arrays in place. Each run sends every slice its rows and waits for all of them.
   */
  prepare(feeds: Record<string, NdArray>, outputs: Record<string, NdArray>): () => Promise<void> {
    const rows = this.batchOf(feeds);
    for (const [name, a] of Object.entries(outputs)) {
      if (!this.outputNames.includes(name)) throw new Error(`no output "${name}" (this session has ${this.outputNames.join(', ')})`);
      if (a.shape[0] !== rows) throw new Error(`output "${name}" has ${a.shape[0]} rows for a batch of ${rows}`);
    }
    const slices = shardRows(rows, this.threads.length);
    const names = Object.keys(outputs);
    return async () => {
      await Promise.all(
        slices.map(async ([start, end], i) => {
          const wire: Record<string, WireTensor> = {};
          for (const [name, t] of this.inputs) {
            const a = feeds[name];
            if (!t.batched) wire[name] = { type: a.dtype, dims: [...a.shape], data: a.data };
            else {
              const n = rowSize(a);
              wire[name] = { type: a.dtype, dims: [end - start, ...a.shape.slice(1)], data: a.data.slice(start * n, end * n) as NdArray['data'] };
            }
          }
          const got = (await this.threads[i].request({ op: 'run', feeds: wire, outputs: names }))!;
          for (const name of names) {
            const out = outputs[name];
            out.data.set(got[name].data as never, start * rowSize(out));
          }
        }),
      );
    };
  }

  async release(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.terminate()));
  }
}
