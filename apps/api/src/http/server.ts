/**
 * One HTTP server, one port: GraphQL over HTTP (Apollo Server 5 on Express 5) and over WebSocket
 * (graphql-ws 6) at /graphql, uploads at /upload/*, blobs at /blobs/<sha256>, /health. Every route
 * but /health needs a bearer token (uploads: admin), each token is rate-limited in requests and in
 * query cost per minute, operations are checked for role, string lengths, aliases, depth and cost
 * (graphql/operation-guard.ts) and answer within a time limit, over HTTP and WebSocket alike. A
 * WebSocket connection's token is checked again for every operation and every second while it is
 * open: a revoked token's connections close with 4403. Any other path or method answers the JSON
 * error shape. Stopping drains: no new connections, open requests finish, WebSocket clients are
 * told to close.
 */
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { parse as parseUrl } from 'node:url';
import { ApolloServer, HeaderMap, type HTTPGraphQLResponse } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { eq } from 'drizzle-orm';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { ExecutionArgs, GraphQLError, GraphQLFormattedError, ValidationRule } from 'graphql';
import { CloseCode } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { type WebSocket, WebSocketServer } from 'ws';
import { RateLimiter } from '../auth/rate-limit.ts';
import { type Principal, type TokenRole, allows, bearerToken } from '../auth/tokens.ts';
import { blobs } from '../db/schema.ts';
import { type GraphQLContext, createContext } from '../graphql/context.ts';
import type { ErrorCode } from '../graphql/generated/resolvers.ts';
import { databaseCosts, guardError, guardOperation } from '../graphql/operation-guard.ts';
import { resolvers } from '../graphql/resolvers/index.ts';
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
 * exports map), but vitest gives our code the ES module build. Taking graphql by require makes
 * both the same: the WebSocket path parses, validates and executes with this one.
 */
const cjsGraphql: typeof import('graphql') = createRequire(import.meta.url)('graphql');
const WsGraphQLError = cjsGraphql.GraphQLError;

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

// req.path is relative to a middleware's mount point: the whole path is baseUrl + path
const isGraphQLPath = (req: Request) => /^\/graphql\/?$/.test(req.baseUrl + req.path);

/** The routes and their methods: any other path answers 404, another method 405 (both in the JSON error shape). */
const ROUTES: [RegExp, string[]][] = [
  [/^\/health$/, ['GET', 'HEAD']],
  [/^\/graphql\/?$/, ['GET', 'POST', 'OPTIONS']],
  [/^\/upload\/(model|dataset)$/, ['POST', 'OPTIONS']],
  [/^\/blobs\/[^/]+$/, ['GET', 'HEAD', 'OPTIONS']],
];

/**
 * GraphQL Armor's max-aliases rule, its refusal in our shape (QUERY_TOO_COMPLEX with the limit):
 * `makeError` builds the error with the GraphQLError class of the path (see WsGraphQLError).
 */
function aliasesRule(limit: number, makeError: (message: string, extensions: Record<string, unknown>) => GraphQLError): ValidationRule {
  return maxAliasesRule({
    n: limit,
    propagateOnRejection: false,
    onReject: [
      (context, error) => {
        const found = /found (\d+)/.exec(error.message)?.[1];
        context?.reportError(makeError(`the operation has ${found ?? 'more'} aliased fields, more than the ${limit} allowed`, { code: 'QUERY_TOO_COMPLEX', aliases: found === undefined ? null : Number(found), limit }));
      },
    ],
  }) as unknown as ValidationRule;
}

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
  const costs = databaseCosts(resolvers);
  const limiter = new RateLimiter({ perSecond: limits.rateLimitPerSecond, burst: limits.rateLimitBurst });
  // cost points: the bucket holds one minute's worth and refills in a minute
  const budget = new RateLimiter({ perSecond: limits.queryCostPerMinute / 60, burst: limits.queryCostPerMinute });
  const app = express();
  app.disable('x-powered-by');
  // the request timeout is off: uploads take as long as they take while data keeps flowing (idle timeout)
  const httpServer = createServer({ headersTimeout: limits.headersTimeoutMs, requestTimeout: 0 }, app);
  httpServer.setTimeout(limits.idleTimeoutMs);
  httpServer.keepAliveTimeout = 5_000;

  /** The operation's cost taken from its token's budget: null, or the refusal (429 RATE_LIMITED). */
  const spend = (principal: Principal, cost: number): { message: string; retryAfter: number | null } | null => {
    const wait = budget.take(principal.tokenId, cost);
    if (wait === 0) return null;
    if (!Number.isFinite(wait)) return { message: `the operation costs ${cost}, more than this token's budget of ${limits.queryCostPerMinute} a minute`, retryAfter: null };
    return { message: `this token spent its query budget (${limits.queryCostPerMinute} cost points a minute; this operation costs ${cost}): retry in ${wait.toFixed(1)} s`, retryAfter: Math.ceil(wait) };
  };

  /** A valid token, within its rate, with at least `role`. */
  const authenticate =
    (role: TokenRole) =>
    async (req: Request, res: Response, next: NextFunction): Promise<void> => {
      let principal: Principal | null;
      const token = bearerToken(req.headers.authorization);
      try {
        principal = await services.tokens.verify(token);
      } catch (e) {
        return next(e);
      }
      if (!principal) {
        res.setHeader('WWW-Authenticate', 'Bearer');
        const why = !req.headers.authorization
          ? 'this needs a token: send Authorization: Bearer <token>'
          : token === undefined
            ? 'the Authorization header must be "Bearer <token>" (another scheme, or a token without it, is not accepted)'
            : 'the token is not valid (unknown or revoked)';
        return refuse(req, res, 401, 'UNAUTHENTICATED', why);
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

  /**
   * The WebSocket connections and their tokens. A connection's principal is not trusted for its
   * lifetime: every operation verifies the token again (through the verifier's short cache), a
   * sweep every second closes the connections of tokens that stopped being valid (revoked by
   * another process: within the cache's time), and a revocation in this process closes them at once.
   */
  interface Connection {
    socket: WebSocket;
    token: string;
    principal: Principal;
  }
  const connections = new Set<Connection>();
  const closeRevoked = (c: Connection) => {
    connections.delete(c);
    // after the current turn: an operation that revoked its own token still gets its answer out
    setImmediate(() => c.socket.close(CloseCode.Forbidden, 'Forbidden: the token was revoked'));
  };
  const stopListening = services.tokens.onRevoked((tokenId) => {
    for (const c of connections) if (c.principal.tokenId === tokenId) closeRevoked(c);
  });
  let sweeping = false;
  const sweep = setInterval(async () => {
    if (sweeping) return;
    sweeping = true;
    try {
      for (const c of [...connections]) if (connections.has(c) && !(await services.tokens.verify(c.token))) closeRevoked(c);
    } catch (e) {
      log(`excite: checking the tokens of WebSocket connections failed: ${(e as Error).message}`);
    } finally {
      sweeping = false;
    }
  }, 1_000);
  sweep.unref();

  /** Resolves to `result`, or after the operation time limit to a TIMEOUT error; `late` gets a result that came too late. */
  const inTime = async <T>(result: T | Promise<T>, timedOut: () => T, late: (value: T) => void = () => undefined): Promise<T> => {
    let timer: NodeJS.Timeout | undefined;
    let expired = false;
    const timeout = new Promise<T>((resolve) => {
      timer = setTimeout(() => {
        expired = true;
        resolve(timedOut());
      }, limits.operationTimeoutMs);
    });
    const done = Promise.resolve(result).then((value) => {
      if (expired) late(value);
      return value;
    });
    try {
      return await Promise.race([done, timeout]);
    } finally {
      clearTimeout(timer);
    }
  };

  const wsServer = new WebSocketServer({ server: httpServer, path: '/graphql', maxPayload: limits.maxRequestBytes });
  const wsError = (message: string, extensions: Record<string, unknown>) => new WsGraphQLError(message, { extensions });
  const wsRules = [...cjsGraphql.specifiedRules, aliasesRule(limits.maxAliases, wsError)];
  const wsTimeout = (what: string) => () => {
    log(`excite: a GraphQL ${what} over WebSocket took more than ${limits.operationTimeoutMs} ms: answered TIMEOUT`);
    return { errors: [wsError(`the operation did not finish within ${limits.operationTimeoutMs / 1000} s`, { code: 'TIMEOUT' })] };
  };
  const wsCleanup = useServer<Record<string, unknown>, { connection?: Connection }>(
    {
      schema,
      async onConnect(ctx) {
        const params = ctx.connectionParams ?? {};
        const token = bearerToken(params.Authorization ?? params.authorization ?? ctx.extra.request.headers.authorization);
        const principal = token === undefined ? null : await services.tokens.verify(token);
        if (!token || !principal) {
          ctx.extra.socket.close(CloseCode.Unauthorized, 'Unauthorized: send {"Authorization": "Bearer <token>"} as the connection_init payload');
          return false;
        }
        const connection: Connection = { socket: ctx.extra.socket, token, principal };
        connections.add(connection);
        ctx.extra.socket.once('close', () => connections.delete(connection));
        ctx.extra.connection = connection;
        return true;
      },
      // one context per subscription: its loaders batch but do not cache (each event reads fresh rows)
      context: (ctx) => createContext(services, ctx.extra.connection?.principal ?? null, { cache: false }),
      // parsed, validated (with the alias limit) and guarded here; graphql-ws runs what this returns
      async onSubscribe(ctx, _id, payload): Promise<ExecutionArgs | readonly GraphQLError[]> {
        const connection = ctx.extra.connection!;
        const principal = await services.tokens.verify(connection.token);
        if (!principal) {
          closeRevoked(connection);
          return [wsError('the token is not valid any more (revoked): the connection closes', { code: 'UNAUTHENTICATED' })];
        }
        connection.principal = principal;
        // extensions.http is for HTTP answers only
        const plain = (e: GraphQLError) => wsError(e.message, { ...e.extensions, http: undefined });
        const wait = limiter.take(principal.tokenId);
        if (wait > 0) return [wsError(`this token made more than ${limits.rateLimitPerSecond} requests a second: retry in ${wait.toFixed(2)} s`, { code: 'RATE_LIMITED', retryAfter: Math.ceil(wait) })];
        if (Object.keys(ctx.subscriptions).length > limits.maxSubscriptionsPerConnection) {
          return [wsError(`at most ${limits.maxSubscriptionsPerConnection} subscriptions per connection`, { code: 'QUERY_TOO_COMPLEX', limit: limits.maxSubscriptionsPerConnection })];
        }
        let document;
        try {
          document = cjsGraphql.parse(payload.query, { maxTokens: MAX_TOKENS });
        } catch (e) {
          return [wsError((e as Error).message, { code: 'GRAPHQL_PARSE_FAILED' })];
        }
        const invalid = cjsGraphql.validate(schema, document, wsRules);
        if (invalid.length) return invalid.map((e) => (e.extensions?.code ? e : wsError(e.message, { code: 'GRAPHQL_VALIDATION_FAILED' })));
        const { refused, cost } = guardOperation({ schema, document, operationName: payload.operationName, variables: payload.variables, principal, limits, costs });
        if (refused) return [plain(refused)];
        const over = spend(principal, cost);
        if (over) return [wsError(over.message, { code: 'RATE_LIMITED', retryAfter: over.retryAfter })];
        return { schema, document, operationName: payload.operationName, variableValues: payload.variables };
      },
      // the same time limit as over HTTP: a query or mutation's answer, a subscription's start
      execute: (args) => inTime(cjsGraphql.execute(args), wsTimeout('query or mutation')),
      subscribe: (args) =>
        inTime(
          cjsGraphql.subscribe(args) as Promise<AsyncGenerator | { errors?: unknown }>,
          wsTimeout('subscription start'),
          (late) => void (late as AsyncGenerator).return?.(undefined),
        ) as ReturnType<typeof cjsGraphql.subscribe>,
    },
    wsServer,
  );
  const apollo = new ApolloServer<GraphQLContext>({
    schema,
    includeStacktraceInErrorResponses: false,
    parseOptions: { maxTokens: MAX_TOKENS },
    validationRules: [aliasesRule(limits.maxAliases, (message, extensions) => guardError(extensions.code as ErrorCode, message, 400, extensions))],
    formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
      if (formatted.extensions?.code === 'INTERNAL_SERVER_ERROR') log(`excite: ${(error as Error)?.stack ?? formatted.message}`);
      // Apollo answers every validation error as GRAPHQL_VALIDATION_FAILED: the alias limit keeps its own code
      const original = (error as { originalError?: { extensions?: Record<string, unknown> } } | undefined)?.originalError?.extensions;
      if (formatted.extensions?.code === 'GRAPHQL_VALIDATION_FAILED' && original?.code === 'QUERY_TOO_COMPLEX') {
        const { http: _, ...extensions } = original;
        return { ...formatted, extensions };
      }
      return formatted;
    },
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      {
        async serverWillStart() {
          return {
            async drainServer() {
              clearInterval(sweep);
              stopListening();
              await wsCleanup.dispose();
            },
          };
        },
      },
      {
        // role, strings, depth and cost, once the operation and its variables are known; then the token's budget
        async requestDidStart() {
          return {
            async didResolveOperation(rc) {
              const principal = rc.contextValue.principal;
              const { refused, cost } = guardOperation({ schema, document: rc.document, operationName: rc.operationName, variables: rc.request.variables, principal, limits, costs });
              if (refused) throw refused;
              const over = spend(principal!, cost);
              if (over) {
                const headers = new HeaderMap(over.retryAfter === null ? [] : [['retry-after', String(over.retryAfter)]]);
                throw guardError('RATE_LIMITED', over.message, 429, { retryAfter: over.retryAfter }, headers);
              }
            },
          };
        },
      },
    ],
  });
  await apollo.start();

  app.use(cors);
  // any other path or method: the JSON error shape, before anything else looks at the request
  app.use((req, res, next) => {
    const route = ROUTES.find(([path]) => path.test(req.path));
    if (!route) return refuse(req, res, 404, 'NOT_FOUND', `no route ${req.method} ${req.path}: the service serves /graphql, /upload/model, /upload/dataset, /blobs/<sha256> and /health`);
    if (!route[1].includes(req.method)) {
      res.setHeader('Allow', route[1].join(', '));
      return refuse(req, res, 405, 'NOT_FOUND', `${req.path} does not answer ${req.method}: it answers ${route[1].filter((m) => m !== 'OPTIONS').join(', ')}`);
    }
    next();
  });
  app.get('/health', (_req, res) => void res.json({ status: 'ok' }));
  // Apollo's request handler called directly rather than through an Express integration package:
  // each operation races the operation time limit here and a late one is answered 503 TIMEOUT,
  // which a ready-made middleware does not let us do.
  app.use('/graphql', authenticate('read'), express.json({ limit: limits.maxRequestBytes }), async (req, res, next) => {
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
    try {
      const response = await inTime<HTTPGraphQLResponse | 'timeout'>(
        apollo.executeHTTPGraphQLRequest({
          httpGraphQLRequest: { method: req.method.toUpperCase(), headers, search: parseUrl(req.url).search ?? '', body: req.body ?? {} },
          context: async () => createContext(services, principalOf(res)),
        }),
        () => 'timeout' as const,
      );
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
