/**
 * What an operation may do before it runs: the caller's role must cover every root field it selects
 * (queries and subscriptions: read; mutations: run; token management: admin), its strings must be
 * short enough, and its shape must stay inside the limits: nesting depth, and cost.
 *
 * Cost estimates the work: every object a field returns counts 1, and every field whose resolver
 * reads the database counts too, a scalar (`neuronCount`, `done`) as much as an object: 1 when it
 * goes through a batch loader (a list of them is one statement), STATEMENT_COST when it runs
 * statements of its own (the lists, `neuron`, `viewer`, `Batch.runs`: one per parent, per alias).
 * A connection's `first`, or a list's typical length, multiplies what is selected inside it.
 * Which resolvers read the database is read off the resolver map itself, so a resolver added later
 * is charged without a table to update.
 *
 * Both HTTP (an Apollo plugin) and WebSocket (graphql-ws's onSubscribe) call `guardOperation` with
 * the variables, so `first: $n` is counted at its value. Aliases are limited apart, by GraphQL
 * Armor's max-aliases validation rule (http/server.ts).
 */
import { type DocumentNode, type FieldNode, type FragmentDefinitionNode, GraphQLError, type GraphQLField, type GraphQLSchema, Kind, type OperationDefinitionNode, type SelectionSetNode, type ValueNode, getOperationAST } from 'graphql';
import type { Limits } from '../config.ts';
import { type Principal, type TokenRole, allows } from '../auth/tokens.ts';
import type { ErrorCode } from './generated/resolvers.ts';

/** Root fields that need more than their operation type's role. */
export const FIELD_ROLES: Record<string, TokenRole> = {
  'Query.tokens': 'admin',
  'Mutation.createToken': 'admin',
  'Mutation.revokeToken': 'admin',
};

const OPERATION_ROLES: Record<OperationDefinitionNode['operation'], TokenRole> = { query: 'read', subscription: 'read', mutation: 'run' };

/** What a field that runs statements of its own costs, per parent object and alias. */
export const STATEMENT_COST = 250;
/** What a field whose resolver loads through a batch loader costs. */
export const LOADER_COST = 1;

/** Names and labels in inputs (input fields `name`, `label`): characters. */
export const MAX_NAME_LENGTH = 200;
/** Any other string in an operation's arguments or variables (ids, sessions, cursors): characters. */
export const MAX_STRING_LENGTH = 1_000;

/** A list without a `first` argument is counted as this many items. */
const LIST_ESTIMATE = 10;
/** Fields the cost walk visits at most (its work stays bounded whatever fragments an operation spreads). */
const MAX_VISITS = 50_000;

type ResolverMap = Record<string, unknown>;

/**
 * What each resolved field costs the database, `Type.field` to cost: a resolver that takes the
 * context (its third parameter: loaders, services) reads the database; one whose code reaches the
 * services (`ctx.services.database`, the queue, the hub) or a list function (`listRuns`) runs
 * statements of its own, one that only uses `ctx.loaders` is batched with its siblings. (A new
 * helper that runs statements should take `ctx.services` or be named list…, or it counts as a load.)
 */
export function databaseCosts(resolvers: Record<string, unknown>): Map<string, number> {
  const costs = new Map<string, number>();
  for (const [type, fields] of Object.entries(resolvers)) {
    if (!fields || typeof fields !== 'object') continue;
    for (const [field, resolver] of Object.entries(fields as ResolverMap)) {
      const fn = typeof resolver === 'function' ? resolver : (resolver as { subscribe?: unknown } | null)?.subscribe;
      if (typeof fn !== 'function') continue;
      if (fn.length < 3 && !(resolver as { subscribe?: unknown }).subscribe) continue;
      const source = Function.prototype.toString.call(fn);
      costs.set(`${type}.${field}`, /\bservices\b(?!\.config\b)|\blist[A-Z]\w*\b/.test(source) ? STATEMENT_COST : LOADER_COST);
    }
  }
  return costs;
}

/**
 * The schema's types are read by their printed form ("[Image!]!"), not graphql-js's instanceof
 * checks: vitest loads graphql's ES module build for our code and its CommonJS build for the
 * libraries that built the schema, and the two builds' classes differ.
 */
type Fields = Record<string, GraphQLField<unknown, unknown>>;
const fieldsOfType = (schema: GraphQLSchema, typeName: string): Fields | undefined => (schema.getType(typeName) as { getFields?: () => Fields } | undefined)?.getFields?.();
const namedTypeOf = (def: GraphQLField<unknown, unknown>) => String(def.type).replace(/[[\]!]/g, '');
const isList = (def: GraphQLField<unknown, unknown>) => String(def.type).startsWith('[');

/** An error of the guard: its code and the HTTP status it answers with. */
export function guardError(code: ErrorCode, message: string, status: number, details: Record<string, unknown> = {}, headers?: unknown): GraphQLError {
  return new GraphQLError(message, { extensions: { code, ...details, http: headers ? { status, headers } : { status } } });
}

export function roleNeeded(operation: OperationDefinitionNode['operation'], rootField: string): TokenRole {
  const type = operation === 'query' ? 'Query' : operation === 'mutation' ? 'Mutation' : 'Subscription';
  return FIELD_ROLES[`${type}.${rootField}`] ?? OPERATION_ROLES[operation];
}

interface Walk {
  schema: GraphQLSchema;
  fragments: Map<string, FragmentDefinitionNode>;
  variables: Record<string, unknown>;
  costs: ReadonlyMap<string, number>;
  maxCost: number;
  maxDepth: number;
  visits: number;
}

/**
 * The fields a selection set selects, fragments expanded (their type conditions are not narrowed:
 * an upper bound). A fragment spread twice in one selection set selects the same fields: it is
 * expanded once, so spreads of spreads cannot make the walk exponential (and cycles end).
 */
function fieldsOf(set: SelectionSetNode, walk: Walk, expanded = new Set<string>()): FieldNode[] {
  const out: FieldNode[] = [];
  for (const s of set.selections) {
    if (s.kind === Kind.FIELD) out.push(s);
    else if (s.kind === Kind.INLINE_FRAGMENT) out.push(...fieldsOf(s.selectionSet, walk, expanded));
    else if (!expanded.has(s.name.value)) {
      expanded.add(s.name.value);
      const fragment = walk.fragments.get(s.name.value);
      if (fragment) out.push(...fieldsOf(fragment.selectionSet, walk, expanded));
    }
  }
  return [...new Set(out)];
}

function argumentValue(field: FieldNode, def: GraphQLField<unknown, unknown> | undefined, name: string, walk: Walk): unknown {
  const node = field.arguments?.find((a) => a.name.value === name);
  const literal = (v: ValueNode): unknown => (v.kind === Kind.INT || v.kind === Kind.FLOAT ? Number(v.value) : v.kind === Kind.VARIABLE ? walk.variables[v.name.value] : undefined);
  if (node) return literal(node.value);
  return def?.args.find((a) => a.name === name)?.defaultValue;
}

/**
 * Depth and cost of a selection set on `type`; `pageSize` is the `first` of the connection the set
 * belongs to (its `nodes` list has that many items). It stops early once the cost or the depth is
 * over its limit (the operation is refused either way).
 */
function measure(set: SelectionSetNode, typeName: string, walk: Walk, depth: number, pageSize?: number): { depth: number; cost: number } {
  let deepest = depth;
  let cost = 0;
  const fields = fieldsOfType(walk.schema, typeName);
  for (const field of fieldsOf(set, walk)) {
    const def = fields?.[field.name.value];
    const weight = Math.max(field.selectionSet ? 1 : 0, walk.costs.get(`${typeName}.${field.name.value}`) ?? 0);
    if (weight === 0) continue;
    if (++walk.visits > MAX_VISITS) return { depth: deepest, cost: Infinity };
    // first: 0 still walks what is inside (an upper bound, and no free subtree)
    const items = def && isList(def) ? Math.max(1, pageSize ?? LIST_ESTIMATE) : 1;
    if (!field.selectionSet) {
      cost += items * weight;
    } else {
      if (depth + 1 > walk.maxDepth) return { depth: depth + 1, cost };
      const first = argumentValue(field, def, 'first', walk);
      const inner = measure(field.selectionSet, def ? namedTypeOf(def) : '', walk, depth + 1, typeof first === 'number' && Number.isFinite(first) ? first : undefined);
      deepest = Math.max(deepest, inner.depth);
      cost += items * (weight + inner.cost);
      if (deepest > walk.maxDepth) return { depth: deepest, cost };
    }
    if (cost > walk.maxCost) return { depth: deepest, cost };
  }
  return { depth: deepest, cost };
}

/**
 * The first string in the operation's arguments or variables that is too long: where, how long,
 * its limit. A walk with its own stack: variables may nest as deep as the body allows.
 */
function longString(document: DocumentNode, variables: Record<string, unknown>): { where: string; length: number; limit: number } | undefined {
  const limitOf = (key: string | undefined) => (key === 'name' || key === 'label' ? MAX_NAME_LENGTH : MAX_STRING_LENGTH);
  // variables: plain JSON; the key of the object field a string is in picks its limit
  const values: { value: unknown; path: string; key: string | undefined }[] = Object.entries(variables).map(([name, value]) => ({ value, path: `$${name}`, key: name }));
  while (values.length) {
    const { value, path, key } = values.pop()!;
    if (typeof value === 'string') {
      const limit = limitOf(key);
      if (value.length > limit) return { where: path.length > 200 ? `${path.slice(0, 200)}…` : path, length: value.length, limit };
    } else if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) values.push({ value: value[i], path: `${path}[${i}]`, key });
    } else if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value).reverse()) values.push({ value: v, path: `${path}.${k}`, key: k });
    }
  }
  // the document's string literals (an object field or argument `name: "..."` has the names' limit)
  const nodes: { node: unknown; key: string | undefined }[] = [{ node: document.definitions, key: undefined }];
  while (nodes.length) {
    const { node, key } = nodes.pop()!;
    if (!node || typeof node !== 'object') continue;
    if (Array.isArray(node)) {
      for (let i = node.length - 1; i >= 0; i--) nodes.push({ node: node[i], key });
      continue;
    }
    const n = node as { kind?: string; value?: unknown; name?: { value?: string } };
    if (n.kind === Kind.STRING && typeof n.value === 'string') {
      const limit = limitOf(key);
      if (n.value.length > limit) return { where: key ?? 'a string argument', length: n.value.length, limit };
      continue;
    }
    const childKey = n.kind === Kind.OBJECT_FIELD || n.kind === Kind.ARGUMENT ? n.name?.value : key;
    for (const [k, v] of Object.entries(n).reverse()) if (k !== 'loc' && k !== 'name') nodes.push({ node: v, key: childKey });
  }
  return undefined;
}

export interface GuardInput {
  schema: GraphQLSchema;
  document: DocumentNode;
  operationName?: string | null;
  variables?: Record<string, unknown> | null;
  principal: Principal | null;
  limits: Pick<Limits, 'maxQueryDepth' | 'maxQueryCost'>;
  /** `databaseCosts` of the schema's resolvers */
  costs: ReadonlyMap<string, number>;
}

/** Whether the operation may run (`refused` null) and what it costs. */
export interface GuardResult {
  refused: GraphQLError | null;
  cost: number;
}

/** The first reason the operation may not run (null: it may), and its cost. */
export function guardOperation(input: GuardInput): GuardResult {
  const { schema, document, principal, limits } = input;
  const refuse = (refused: GraphQLError): GuardResult => ({ refused, cost: 0 });
  if (!principal) return refuse(guardError('UNAUTHENTICATED', 'this operation needs a token: send Authorization: Bearer <token>', 401));
  const operation = getOperationAST(document, input.operationName ?? undefined);
  if (!operation) return { refused: null, cost: 0 }; // graphql-js reports it
  const walk: Walk = {
    schema,
    fragments: new Map(document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d])),
    variables: input.variables ?? {},
    costs: input.costs,
    maxCost: limits.maxQueryCost,
    maxDepth: limits.maxQueryDepth,
    visits: 0,
  };
  for (const field of fieldsOf(operation.selectionSet, walk)) {
    const needed = roleNeeded(operation.operation, field.name.value);
    if (!allows(principal.role, needed)) {
      return refuse(guardError('FORBIDDEN', `${field.name.value} needs a token with the ${needed} role; this one (${principal.name}) has ${principal.role}`, 403, { field: field.name.value, role: needed }));
    }
  }
  const long = longString(document, walk.variables);
  if (long) {
    return refuse(guardError('BAD_USER_INPUT', `${long.where} is ${long.length} characters long: at most ${long.limit} are allowed`, 400, { argument: long.where, length: long.length, limit: long.limit }));
  }
  const root = operation.operation === 'query' ? schema.getQueryType() : operation.operation === 'mutation' ? schema.getMutationType() : schema.getSubscriptionType();
  if (!root) return { refused: null, cost: 0 };
  const { depth, cost } = measure(operation.selectionSet, root.name, walk, 0);
  if (depth > limits.maxQueryDepth) return refuse(guardError('QUERY_TOO_COMPLEX', `the operation nests fields deeper than ${limits.maxQueryDepth} levels`, 400, { depth, limit: limits.maxQueryDepth }));
  if (cost > limits.maxQueryCost) {
    const about = Number.isFinite(cost) ? `about ${cost}` : 'more';
    return refuse(
      guardError('QUERY_TOO_COMPLEX', `the operation could cost ${about} (objects resolved and database reads), more than the ${limits.maxQueryCost} allowed: ask for smaller pages (first), fewer nested lists or fewer repeated fields`, 400, {
        cost: Number.isFinite(cost) ? cost : null,
        limit: limits.maxQueryCost,
      }),
    );
  }
  return { refused: null, cost };
}
