/**
 * The excite client: one typed method per operation of the schema (queries and mutations over
 * HTTP, subscriptions as async iterators over graphql-ws), uploads and blob downloads beside the
 * GraphQL endpoint, and helpers that page through lists and follow runs to their end.
 *
 *   const excite = createClient({ url: 'http://localhost:4000/graphql', token, webSocketImpl: WebSocket });
 *   const batch = await excite.startRuns({ input: { generator, methods: ['EGG'], neurons, settings: { steps: 50 } } });
 *   for await (const step of excite.runProgress({ run: batch.runs.nodes[0].id })) console.log(step.step, step.activation);
 */
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { type DocumentNode, type OperationDefinitionNode, print } from 'graphql';
import { type Client as WsClient, createClient as createWsClient } from 'graphql-ws';
import { ExciteError, type ExciteErrorCode, type ServiceErrorPayload } from './errors.ts';
import { type FollowHandlers, followRuns } from './follow.ts';
import type { RunFieldsFragment, RunQuery } from './generated/graphql.ts';
import { type Fetch, readBytes, readJson, send } from './http.ts';
import { type ConnectionQuery, type FieldOf, MUTATIONS, type Mutations, type NodeOf, QUERIES, type Queries, SUBSCRIPTIONS, type Subscriptions, type VariablesOfDocument } from './operations.ts';
import { DEFAULT_RETRY, type RetryOptions, withRetries } from './retry.ts';
import { type UploadFile, type UploadedDataset, type UploadedModel, uploadForm } from './upload.ts';

export interface ClientOptions {
  /** the GraphQL endpoint, e.g. http://localhost:4000/graphql; uploads and blobs are found beside it */
  url: string;
  /** a bearer token: `Authorization: Bearer <token>` on every HTTP call and on the WebSocket (header and connection params) */
  token?: string;
  /** fetch to use (default: the global one) */
  fetch?: Fetch;
  /** the WebSocket class of subscriptions (default: the global one; Node 20 has none: pass `ws`'s default export) */
  webSocketImpl?: unknown;
  /** the subscriptions' URL (default: `url` with ws: or wss:) */
  wsUrl?: string;
  /** retries of queries and downloads (default 3, from 200 ms doubling up to 5 s); false: none */
  retry?: RetryOptions | false;
}

export interface CallOptions {
  signal?: AbortSignal;
}

type Args<D> = {} extends VariablesOfDocument<D> ? [variables?: VariablesOfDocument<D>, options?: CallOptions] : [variables: VariablesOfDocument<D>, options?: CallOptions];
type SubscriptionArgs<D> = {} extends VariablesOfDocument<D> ? [variables?: VariablesOfDocument<D>] : [variables: VariablesOfDocument<D>];

/** A query method per Query field: its value (retried on failures that may pass). */
export type QueryMethods = { [K in keyof Queries]: (...args: Args<Queries[K]>) => Promise<FieldOf<Queries[K], K>> };
/** A mutation method per Mutation field: its value (never retried). */
export type MutationMethods = { [K in keyof Mutations]: (...args: Args<Mutations[K]>) => Promise<FieldOf<Mutations[K], K>> };
/** A subscription method per Subscription field: its events, until the service completes the stream or the loop breaks. */
export type SubscriptionMethods = { [K in keyof Subscriptions]: (...args: SubscriptionArgs<Subscriptions[K]>) => AsyncGenerator<FieldOf<Subscriptions[K], K>, void, undefined> };

/** A run as the run query returns it: with its trajectory and images. */
export type RunDetails = NonNullable<RunQuery['run']>;

export interface ExciteClient extends QueryMethods, MutationMethods, SubscriptionMethods {
  readonly url: string;
  /** Any query or mutation document (queries are retried). */
  request<R, V extends Record<string, unknown>>(document: TypedDocumentNode<R, V>, variables?: V, options?: CallOptions): Promise<R>;
  /** Any subscription document: its results' data. */
  subscribe<R, V extends Record<string, unknown>>(document: TypedDocumentNode<R, V>, variables?: V): AsyncGenerator<R, void, undefined>;
  /** Every item of a list, a page at a time: `for await (const run of excite.paginate('runs', { filter: { batch } }))`. */
  paginate<K extends ConnectionQuery>(name: K, variables?: Omit<VariablesOfDocument<Queries[K]>, 'first' | 'after'>, options?: CallOptions & { pageSize?: number }): AsyncGenerator<NodeOf<K>, void, undefined>;
  /** Follows runs to their end (their progress streams), a few at a time; resolves with each run's final state. */
  followRuns(runs: readonly RunFieldsFragment[], handlers?: FollowHandlers): Promise<RunDetails[]>;
  /** followRuns over every run of a batch. */
  followBatch(batchId: string, handlers?: FollowHandlers): Promise<RunDetails[]>;
  /** POST /upload/model: a model folder's files, each named by its path in the folder (`@excite/sdk/node`'s readFolder reads one). */
  uploadModel(files: readonly UploadFile[], fields?: { name?: string; session?: string }, options?: CallOptions): Promise<UploadedModel>;
  /** POST /upload/dataset: images.zip or loose JPEG/PNG files, optionally responses.npy. */
  uploadDataset(files: readonly UploadFile[], fields?: { name?: string }, options?: CallOptions): Promise<UploadedDataset>;
  /** A stored file's bytes (a Blob's `url`, e.g. an image's png or array). */
  download(blob: { url: string } | string, options?: CallOptions): Promise<Uint8Array>;
  /** Closes the WebSocket (open subscriptions end). */
  close(): Promise<void>;
}

const printed = new WeakMap<DocumentNode, string>();
function source(document: DocumentNode): string {
  let text = printed.get(document);
  if (text === undefined) printed.set(document, (text = print(document)));
  return text;
}

function operationOf(document: DocumentNode): { name: string; type: OperationDefinitionNode['operation'] } {
  const op = document.definitions.find((d): d is OperationDefinitionNode => d.kind === 'OperationDefinition');
  if (!op) throw new TypeError('the document has no operation');
  return { name: op.name?.value ?? op.operation, type: op.operation };
}

/** graphql-ws close codes that are the service's refusals (graphql-ws's CloseCode.Unauthorized, Forbidden). */
const CLOSE_CODES: Record<number, ExciteErrorCode> = { 4401: 'UNAUTHENTICATED', 4403: 'FORBIDDEN' };

/** graphql-ws rejects with the GraphQL errors, a close event or an Error: an ExciteError either way. */
function subscriptionError(e: unknown, operation: string, url: string): ExciteError {
  if (e instanceof ExciteError) return e;
  if (Array.isArray(e) && e.length) return ExciteError.fromGraphQL(e as ServiceErrorPayload[], { operation });
  const close = e as { code?: number; reason?: string };
  if (typeof close?.code === 'number') {
    const message = `${operation}: the WebSocket to ${url} closed (${close.code}${close.reason ? `: ${close.reason}` : ''})`;
    return new ExciteError(CLOSE_CODES[close.code] ?? 'NETWORK_ERROR', message, { operation, cause: e });
  }
  return new ExciteError('NETWORK_ERROR', `${operation}: WebSocket to ${url}: ${(e as Error)?.message ?? String(e)}`, { operation, cause: e });
}

/** A WebSocket class that sends the bearer token as a header too (`ws` takes headers; browsers ignore the argument). */
function withAuthorization(impl: unknown, token: string): unknown {
  const Base = impl as new (url: string, protocols?: string | string[], options?: unknown) => object;
  return class extends Base {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { headers: { Authorization: `Bearer ${token}` } });
    }
  };
}

export function createClient(options: ClientOptions): ExciteClient {
  const url = options.url.replace(/\/+$/, '');
  const fetchImpl: Fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const retry = options.retry === false ? false : { ...DEFAULT_RETRY, ...options.retry };
  const wsUrl = options.wsUrl ?? url.replace(/^http/, 'ws');
  const authorization: Record<string, string> = options.token ? { Authorization: `Bearer ${options.token}` } : {};
  let ws: WsClient | undefined;

  function wsClient(): WsClient {
    if (ws) return ws;
    const impl = options.webSocketImpl ?? (globalThis as { WebSocket?: unknown }).WebSocket;
    if (!impl) throw new TypeError('subscriptions need a WebSocket class and this runtime has none (Node 20): pass createClient({ webSocketImpl }) with `import WebSocket from "ws"`');
    ws = createWsClient({
      url: wsUrl,
      webSocketImpl: options.token ? withAuthorization(impl, options.token) : impl,
      connectionParams: options.token ? { ...authorization } : undefined,
      lazy: true,
    });
    return ws;
  }

  async function post<R>(document: DocumentNode, variables: Record<string, unknown> | undefined, call: CallOptions = {}): Promise<R> {
    const { name, type } = operationOf(document);
    if (type === 'subscription') throw new TypeError(`${name} is a subscription: use subscribe()`);
    const attempt = async () => {
      const res = await send(
        fetchImpl,
        url,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', ...authorization },
          body: JSON.stringify({ query: source(document), variables: variables ?? {}, operationName: name }),
          signal: call.signal,
        },
        name,
      );
      const body = await readJson<{ data?: R }>(res, name);
      if (!body.data) throw new ExciteError('HTTP_ERROR', `${name}: the answer has no data`, { status: res.status, operation: name });
      return body.data;
    };
    // only queries are repeated: a mutation that timed out may have happened
    return withRetries(attempt, type === 'query' ? retry : false, call.signal);
  }

  async function* subscribe<R>(document: DocumentNode, variables?: Record<string, unknown>): AsyncGenerator<R, void, undefined> {
    const { name, type } = operationOf(document);
    if (type !== 'subscription') throw new TypeError(`${name} is a ${type}: use request()`);
    const socket = wsClient();
    try {
      for await (const result of socket.iterate<R>({ query: source(document), variables: variables ?? {}, operationName: name })) {
        if (result.errors?.length) throw ExciteError.fromGraphQL(result.errors as ServiceErrorPayload[], { operation: name });
        yield result.data as R;
      }
    } catch (e) {
      throw subscriptionError(e, name, wsUrl);
    }
  }

  const field =
    <K extends string>(document: DocumentNode, key: K) =>
    (variables?: Record<string, unknown>, call?: CallOptions) =>
      post<Record<K, unknown>>(document, variables, call).then((data) => data[key]);
  const methods: Record<string, unknown> = {};
  for (const [key, document] of Object.entries({ ...QUERIES, ...MUTATIONS })) methods[key] = field(document, key);
  for (const [key, document] of Object.entries(SUBSCRIPTIONS)) {
    methods[key] = async function* (variables?: Record<string, unknown>) {
      for await (const data of subscribe<Record<string, unknown>>(document, variables)) yield data[key];
    };
  }

  async function upload<T>(endpoint: 'upload/model' | 'upload/dataset', files: readonly UploadFile[], fields: Record<string, string | undefined>, call: CallOptions = {}): Promise<T> {
    const res = await send(fetchImpl, new URL(endpoint, url), { method: 'POST', headers: authorization, body: uploadForm(files, fields), signal: call.signal }, endpoint);
    return readJson<T>(res, endpoint);
  }

  const client = {
    ...methods,
    url,
    request: <R, V extends Record<string, unknown>>(document: TypedDocumentNode<R, V>, variables?: V, call?: CallOptions) => post<R>(document, variables, call),
    subscribe: <R, V extends Record<string, unknown>>(document: TypedDocumentNode<R, V>, variables?: V) => subscribe<R>(document, variables),
    async *paginate(name: ConnectionQuery, variables?: Record<string, unknown>, call: CallOptions & { pageSize?: number } = {}) {
      const list = methods[name] as (v: Record<string, unknown>, c?: CallOptions) => Promise<{ nodes: unknown[]; pageInfo: { endCursor?: string | null; hasNextPage: boolean } }>;
      let after: string | null | undefined = null;
      for (;;) {
        const page = await list({ ...variables, first: call.pageSize ?? 100, after }, call);
        yield* page.nodes;
        if (!page.pageInfo.hasNextPage) return;
        after = page.pageInfo.endCursor;
      }
    },
    followRuns: (runs: readonly RunFieldsFragment[], handlers?: FollowHandlers) => followRuns(client, runs, handlers),
    async followBatch(batchId: string, handlers?: FollowHandlers) {
      const runs: RunFieldsFragment[] = [];
      for await (const run of client.paginate('runs', { filter: { batch: batchId } }, { pageSize: 500 })) runs.push(run);
      return followRuns(client, runs, handlers);
    },
    uploadModel: (files: readonly UploadFile[], fields: { name?: string; session?: string } = {}, call?: CallOptions) => upload<{ model: UploadedModel }>('upload/model', files, fields, call).then((r) => r.model),
    uploadDataset: (files: readonly UploadFile[], fields: { name?: string } = {}, call?: CallOptions) => upload<{ dataset: UploadedDataset }>('upload/dataset', files, fields, call).then((r) => r.dataset),
    download(blob: { url: string } | string, call: CallOptions = {}) {
      const target = new URL(typeof blob === 'string' ? blob : blob.url, url);
      return withRetries(async () => readBytes(await send(fetchImpl, target, { headers: authorization, signal: call.signal }, 'download'), 'download'), retry, call.signal);
    },
    async close() {
      await ws?.dispose();
      ws = undefined;
    },
  } as unknown as ExciteClient;
  return client;
}
