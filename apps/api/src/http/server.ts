/**
 * One HTTP server, one port: GraphQL over HTTP (Apollo Server 5 on Express 5) and over WebSocket
 * (graphql-ws 6) at /graphql, uploads at /upload/*, blobs at /blobs/<sha256>, /health. Every route
 * but /health needs a bearer token (uploads: admin), each token is rate-limited, operations are
 * checked for role, depth and cost (graphql/operation-guard.ts) and answer within a time limit.
 * Stopping drains: no new connections, open requests finish, WebSocket clients are told to close.
 */
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { parse as parseUrl } from 'node:url';
import { ApolloServer, HeaderMap } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { eq } from 'drizzle-orm';
import express, { type NextFunction, type Request, type Response } from 'express';
import { GraphQLError, type GraphQLFormattedError, parse } from 'graphql';
import { CloseCode } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { RateLimiter } from '../auth/rate-limit.ts';
import { type Principal, type TokenRole, allows, bearerToken } from '../auth/tokens.ts';
import { blobs } from '../db/schema.ts';
import { type GraphQLContext, createContext } from '../graphql/context.ts';
import type { ErrorCode } from '../graphql/generated/resolvers.ts';
import { guardOperation } from '../graphql/operation-guard.ts';
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

/**
 * graphql-ws accepts errors from onSubscribe only as instances of the GraphQLError class it loads
 * itself: graphql's CommonJS build, which Node gives every `import 'graphql'` (graphql 16 has no
 * exports map), but vitest gives our code the ES module build. Taking the class by require makes
 * both the same.
 */
const WsGraphQLError: typeof GraphQLError = createRequire(import.meta.url)('graphql').GraphQLError;

/** Tokens in a GraphQL document: a bound on the parser's work (the body size bounds the rest). */
const MAX_TOKENS = 20_000;

/** Browsers on another origin (the dashboard) may call the API. */
function cors(req: Request, res: Response, next: NextFunction): void {
  res.setHeader('Access-Control-Allow-Origin', '*');
  res.setHeader('Access-Control-Allow-Methods', 'GET, POST, OPTIONS');
  res.setHeader('Access-Control-Allow-Headers', 'Content-Type, Authorization, Apollo-Require-Preflight');
  if (req.method === 'OPTIONS') res.sendStatus(204);
  else next();
}

const isGraphQLPath = (req: Request) => req.path === '/graphql' || req.originalUrl.startsWith('/graphql');

/** An error answer: GraphQL's shape on /graphql, { error: { code, message } } elsewhere (as uploads answer). */
function refuse(req: Request, res: Response, status: number, code: ErrorCode, message: string): void {
  if (res.headersSent) return;
  res.status(status).json(isGraphQLPath(req) ? { errors: [{ message, extensions: { code } }] } : { error: { code, message } });
}

/** The caller's principal, for routes after `authenticate`. */
const principalOf = (res: Response) => res.locals.principal as Principal;

export async function startHttpServer(services: Services, options: { port: number; host?: string }): Promise<HttpServer> {
  const { log, limits } = services.config;
  const schema = executableSchema();
  const limiter = new RateLimiter({ perSecond: limits.rateLimitPerSecond, burst: limits.rateLimitBurst });
  const app = express();
  app.disable('x-powered-by');
  // the request timeout is off: uploads take as long as they take while data keeps flowing (idle timeout)
  const httpServer = createServer({ headersTimeout: limits.headersTimeoutMs, requestTimeout: 0 }, app);
  httpServer.setTimeout(limits.idleTimeoutMs);
  httpServer.keepAliveTimeout = 5_000;

  /** A valid token, within its rate, with at least `role`. */
  const authenticate =
    (role: TokenRole) =>
    async (req: Request, res: Response, next: NextFunction): Promise<void> => {
      let principal: Principal | null;
      try {
        principal = await services.tokens.verify(bearerToken(req.headers.authorization));
      } catch (e) {
        return next(e);
      }
      if (!principal) {
        res.setHeader('WWW-Authenticate', 'Bearer');
        return refuse(req, res, 401, 'UNAUTHENTICATED', req.headers.authorization ? 'the token is not valid (unknown or revoked)' : 'this needs a token: send Authorization: Bearer <token>');
      }
      const wait = limiter.take(principal.tokenId);
      if (wait > 0) {
        res.setHeader('Retry-After', String(Math.ceil(wait)));
        return refuse(req, res, 429, 'RATE_LIMITED', `this token made more than ${limits.rateLimitPerSecond} requests a second (bursts of ${limits.rateLimitBurst}): retry in ${wait.toFixed(2)} s`);
      }
      if (!allows(principal.role, role)) return refuse(req, res, 403, 'FORBIDDEN', `this needs a token with the ${role} role; this one (${principal.name}) has ${principal.role}`);
      res.locals.principal = principal;
      next();
    };

  const wsServer = new WebSocketServer({ server: httpServer, path: '/graphql', maxPayload: limits.maxRequestBytes });
  const wsCleanup = useServer<Record<string, unknown>, { principal?: Principal }>(
    {
      schema,
      async onConnect(ctx) {
        const params = ctx.connectionParams ?? {};
        const header = params.Authorization ?? params.authorization ?? params.token ?? ctx.extra.request.headers.authorization;
        const principal = await services.tokens.verify(bearerToken(header));
        if (!principal) {
          ctx.extra.socket.close(CloseCode.Unauthorized, 'Unauthorized: send {"Authorization": "Bearer <token>"} as the connection_init payload');
          return false;
        }
        ctx.extra.principal = principal;
        return true;
      },
      // one context per subscription: its loaders batch but do not cache (each event reads fresh rows)
      context: (ctx) => createContext(services, ctx.extra.principal ?? null, { cache: false }),
      // graphql-ws parses and validates once this lets the operation through (void)
      onSubscribe(ctx, _id, payload): readonly GraphQLError[] | void {
        const principal = ctx.extra.principal!;
        // extensions.http is for HTTP answers only
        const plain = (e: GraphQLError) => new WsGraphQLError(e.message, { extensions: { ...e.extensions, http: undefined } });
        const wait = limiter.take(principal.tokenId);
        if (wait > 0) return [new WsGraphQLError(`this token made more than ${limits.rateLimitPerSecond} requests a second: retry in ${wait.toFixed(2)} s`, { extensions: { code: 'RATE_LIMITED', retryAfter: Math.ceil(wait) } })];
        if (Object.keys(ctx.subscriptions).length > limits.maxSubscriptionsPerConnection) {
          return [new WsGraphQLError(`at most ${limits.maxSubscriptionsPerConnection} subscriptions per connection`, { extensions: { code: 'QUERY_TOO_COMPLEX', limit: limits.maxSubscriptionsPerConnection } })];
        }
        let document;
        try {
          document = parse(payload.query, { maxTokens: MAX_TOKENS });
        } catch (e) {
          return [new WsGraphQLError((e as Error).message, { extensions: { code: 'GRAPHQL_PARSE_FAILED' } })];
        }
        const refused = guardOperation({ schema, document, operationName: payload.operationName, variables: payload.variables, principal, limits });
        if (refused) return [plain(refused)];
      },
    },
    wsServer,
  );
  const apollo = new ApolloServer<GraphQLContext>({
    schema,
    includeStacktraceInErrorResponses: false,
    parseOptions: { maxTokens: MAX_TOKENS },
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
      {
        // role, depth and cost, once the operation and its variables are known
        async requestDidStart() {
          return {
            async didResolveOperation(rc) {
              const refused = guardOperation({ schema, document: rc.document, operationName: rc.operationName, variables: rc.request.variables, principal: rc.contextValue.principal, limits });
              if (refused) throw refused;
            },
          };
        },
      },
    ],
  });
  await apollo.start();

  app.use(cors);
  app.get('/health', (_req, res) => void res.json({ status: 'ok' }));
  // Apollo's request handler called directly rather than through an Express integration package:
  // each operation races the operation time limit here and a late one is answered 503 TIMEOUT,
  // which a ready-made middleware does not let us do.
  app.use('/graphql', authenticate('read'), express.json({ limit: limits.maxRequestBytes }), async (req, res, next) => {
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), limits.operationTimeoutMs)));
    try {
      const response = await Promise.race([
        apollo.executeHTTPGraphQLRequest({
          httpGraphQLRequest: { method: req.method.toUpperCase(), headers, search: parseUrl(req.url).search ?? '', body: req.body ?? {} },
          context: async () => createContext(services, principalOf(res)),
        }),
        timedOut,
      ]);
      if (response === 'timeout') {
        log(`excite: a GraphQL operation of ${principalOf(res).name} took more than ${limits.operationTimeoutMs} ms: answered 503 TIMEOUT`);
        return refuse(req, res, 503, 'TIMEOUT', `the operation did not finish within ${limits.operationTimeoutMs / 1000} s`);
      }
      for (const [key, value] of response.headers) res.setHeader(key, value);
      res.status(response.status ?? 200);
      if (response.body.kind === 'complete') return void res.send(response.body.string);
      for await (const chunk of response.body.asyncIterator) res.write(chunk);
      res.end();
    } catch (e) {
      next(e);
    } finally {
      clearTimeout(timer);
    }
  });
  app.post('/upload/model', authenticate('admin'), modelUploadHandler(services));
  app.post('/upload/dataset', authenticate('admin'), datasetUploadHandler(services));
  app.get('/blobs/:hash', authenticate('read'), async (req, res) => {
    const hash = String(req.params.hash);
    const [row] = BlobStore.isHash(hash) ? await services.database.db.select().from(blobs).where(eq(blobs.hash, hash)) : [];
    if (!row) return refuse(req, res, 404, 'NOT_FOUND', `no blob ${hash}`);
    // private: a shared cache must not hand it to someone without a token
    res.type(row.mediaType).setHeader('Cache-Control', 'private, max-age=31536000, immutable');
    res.sendFile(services.blobs.path(hash));
  });
  app.use((err: Error & { status?: number; type?: string }, req: Request, res: Response, _next: NextFunction) => {
    // body-parser's errors (malformed JSON, too large) keep their status
    const status = err.status ?? 500;
    if (status >= 500) log(`excite: ${err.stack ?? err.message}`);
    refuse(req, res, status, status === 413 ? 'REQUEST_TOO_LARGE' : status < 500 ? 'BAD_USER_INPUT' : 'INTERNAL_SERVER_ERROR', status < 500 ? err.message : 'internal error (see the server log)');
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
