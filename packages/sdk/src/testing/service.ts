/**
 * A real excite service for the SDK's tests (the API's test harness: a free port, a fresh
 * embedded database, tiny models) and a client of it with the admin token the service made on
 * its first start.
 */
import { join } from 'node:path';
import { Graph, buildEncoder, type EncoderSpec, writeEncoder } from '@excite/engine';
import { TINY_ENCODER_SPEC } from '@excite/engine/testing';
import type { Limits } from '@excite/api/src/config.ts';
import { type TestService, startTestService } from '@excite/api/src/testing/harness.ts';
import WebSocket from 'ws';
import { type ClientOptions, type ExciteClient, createClient } from '../client.ts';

export interface SdkTestService {
  t: TestService;
  /** the GraphQL endpoint */
  url: string;
  /** an admin token */
  token: string;
  client: ExciteClient;
  /** another client of the same service */
  connect(options?: Partial<ClientOptions>): ExciteClient;
  stop(): Promise<void>;
}

export async function startSdkTestService(options: { limits?: Partial<Limits>; demoModels?: string | false } = {}): Promise<SdkTestService> {
  const t = await startTestService('pglite', options);
  const url = `${t.url}/graphql`;
  const { token } = t;
  const clients: ExciteClient[] = [];
  const connect = (o: Partial<ClientOptions> = {}) => {
    const client = createClient({ url, token, webSocketImpl: WebSocket, ...o });
    clients.push(client);
    return client;
  };
  return {
    t,
    url,
    token,
    client: connect(),
    connect,
    async stop() {
      await Promise.all(clients.map((c) => c.close()));
      await t.stop();
    },
  };
}

/**
 * A tiny attention encoder (12x12 inputs) predicting ten neurons of session 201025, as the demo
 * encoders do (the example of docs/sdk.md runs on it).
 */
export async function writeTenNeuronEncoder(dir: string, name = 'attention-train', seed = 4): Promise<void> {
  const spec: EncoderSpec = { ...TINY_ENCODER_SPEC, sessions: [{ id: '201025', neurons: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] }] };
  const g = new Graph();
  buildEncoder(g, g.input('image', 'float32', ['batch', 1, spec.input.height, spec.input.width]), spec, { seed });
  await writeEncoder(join(dir), spec, new Map([...g.weights].map(([k, v]) => [k, v.data!])), { name });
}
