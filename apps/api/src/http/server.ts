/**
 * One HTTP server, one port: GraphQL over HTTP (Apollo Server 5 on Express 5) and over WebSocket
 * (graphql-ws 6) at /graphql, uploads at /upload/*, blobs at /blobs/<sha256>, /health. Stopping
 * drains: no new connections, open requests finish, WebSocket clients are told to close.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { expressMiddleware } from '@as-integrations/express5';
import { eq } from 'drizzle-orm';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { GraphQLFormattedError } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { blobs } from '../db/schema.ts';
import { type GraphQLContext, createContext } from '../graphql/context.ts';
import { executableSchema } from '../graphql/schema.ts';
import { BlobStore } from '../storage/blobs.ts';
import type { Services } from '../services.ts';
import { datasetUploadHandler, modelUploadHandler } from './upload.ts';

export interface HttpServer {
  /** http://host:port */
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** Browsers on another origin (the dashboard) may call the API. */
function cors(req: Request, res: Response, next: NextFunction): void {
  res.setHeader('Access-Control-Allow-Origin', '*');
  res.setHeader('Access-Control-Allow-Methods', 'GET, POST, OPTIONS');
  res.setHeader('Access-Control-Allow-Headers', 'Content-Type, Authorization, Apollo-Require-Preflight');
  if (req.method === 'OPTIONS') res.sendStatus(204);
  else next();
}

export async function startHttpServer(services: Services, options: { port: number; host?: string }): Promise<HttpServer> {
  const { log } = services.config;
  const schema = executableSchema();
  const app = express();
  const httpServer = createServer(app);
  const wsServer = new WebSocketServer({ server: httpServer, path: '/graphql' });
  const wsCleanup = useServer<Record<string, unknown>, { context?: GraphQLContext }>(
    {
      schema,
      // one context per subscription: its loaders batch but do not cache (each event reads fresh rows)
      context: () => createContext(services, { cache: false }),
    },
    wsServer,
  );
  const apollo = new ApolloServer<GraphQLContext>({
    schema,
    includeStacktraceInErrorResponses: false,
    formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
      if (formatted.extensions?.code === 'INTERNAL_SERVER_ERROR') log(`excite: ${(error as Error)?.stack ?? formatted.message}`);
      return formatted;
    },
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      {
        async serverWillStart() {
          return {
            async drainServer() {
              await wsCleanup.dispose();
            },
          };
        },
      },
    ],
  });
  await apollo.start();

  app.use(cors);
  app.get('/health', (_req, res) => void res.json({ status: 'ok' }));
  app.use('/graphql', express.json({ limit: '1mb' }), expressMiddleware(apollo, { context: async () => createContext(services) }));
  app.post('/upload/model', modelUploadHandler(services));
  app.post('/upload/dataset', datasetUploadHandler(services));
  app.get('/blobs/:hash', async (req, res) => {
    const hash = String(req.params.hash);
    const [row] = BlobStore.isHash(hash) ? await services.database.db.select().from(blobs).where(eq(blobs.hash, hash)) : [];
    if (!row) return void res.status(404).json({ error: { code: 'NOT_FOUND', message: `no blob ${hash}` } });
    res.type(row.mediaType).setHeader('Cache-Control', 'public, max-age=31536000, immutable');
    res.sendFile(services.blobs.path(hash));
  });
  app.use((err: Error & { status?: number; type?: string }, _req: Request, res: Response, _next: NextFunction) => {
    // body-parser's errors (malformed JSON, too large) keep their status
    const status = err.status ?? 500;
    if (status >= 500) log(`excite: ${err.stack ?? err.message}`);
    res.status(status).json({ error: { code: status === 413 ? 'UPLOAD_TOO_LARGE' : status < 500 ? 'BAD_USER_INPUT' : 'INTERNAL_SERVER_ERROR', message: err.message } });
  });

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(options.port, options.host, resolve);
  });
  const { port } = httpServer.address() as AddressInfo;
  const host = !options.host || options.host === '0.0.0.0' || options.host === '::' ? 'localhost' : options.host;
  return {
    url: `http://${host}:${port}`,
    port,
    async stop() {
      // drains HTTP and WebSocket (the plugins above), then closes the server
      await apollo.stop();
      wsServer.close();
    },
  };
}
