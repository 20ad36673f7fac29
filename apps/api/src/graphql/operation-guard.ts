/**
 * What an operation may do before it runs: the caller's role must cover every root field it selects
 * (queries and subscriptions: read; mutations: run; token management: admin), and its shape must
 * stay inside the limits: nesting depth, and cost, an estimate of the objects it would resolve
 * (each object field counts once per parent; a connection's `first`, or a list's typical length,
 * multiplies what is selected inside it). Both HTTP (an Apollo plugin) and WebSocket (graphql-ws's
 * onSubscribe) call `guardOperation` with the variables, so `first: $n` is counted at its value.
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

/**
 * The schema's types are read by their printed form ("[Image!]!"), not graphql-js's instanceof
 * checks: vitest loads graphql's ES module build for our code and its CommonJS build for the
 * libraries that built the schema, and the two builds' classes differ.
 */
type Fields = Record<string, GraphQLField<unknown, unknown>>;
const fieldsOfType = (schema: GraphQLSchema, typeName: string): Fields | undefined => (schema.getType(typeName) as { getFields?: () => Fields } | undefined)?.getFields?.();
const namedTypeOf = (def: GraphQLField<unknown, unknown>) => String(def.type).replace(/[[\]!]/g, '');
const isList = (def: GraphQLField<unknown, unknown>) => String(def.type).startsWith('[');

/** A list without a `first` argument is counted as this many items. */
const LIST_ESTIMATE = 10;

/** An error of the guard: its code and the HTTP status it answers with. */
export function guardError(code: ErrorCode, message: string, status: number, details: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { code, ...details, http: { status } } });
}

export function roleNeeded(operation: OperationDefinitionNode['operation'], rootField: string): TokenRole {
  const type = operation === 'query' ? 'Query' : operation === 'mutation' ? 'Mutation' : 'Subscription';
  return FIELD_ROLES[`${type}.${rootField}`] ?? OPERATION_ROLES[operation];
}

interface Walk {
  schema: GraphQLSchema;
  fragments: Map<string, FragmentDefinitionNode>;
  variables: Record<string, unknown>;
}

/** The fields a selection set selects, fragments expanded (their type conditions are not narrowed: an upper bound). */
function fieldsOf(set: SelectionSetNode, walk: Walk, seen = new Set<string>()): FieldNode[] {
  const out: FieldNode[] = [];
  for (const s of set.selections) {
    if (s.kind === Kind.FIELD) out.push(s);
    else if (s.kind === Kind.INLINE_FRAGMENT) out.push(...fieldsOf(s.selectionSet, walk, seen));
    else if (!seen.has(s.name.value)) {
      const fragment = walk.fragments.get(s.name.value);
      if (fragment) out.push(...fieldsOf(fragment.selectionSet, walk, new Set([...seen, s.name.value])));
    }
  }
  return out;
}

function argumentValue(field: FieldNode, def: GraphQLField<unknown, unknown> | undefined, name: string, walk: Walk): unknown {
  const node = field.arguments?.find((a) => a.name.value === name);
  const literal = (v: ValueNode): unknown => (v.kind === Kind.INT || v.kind === Kind.FLOAT ? Number(v.value) : v.kind === Kind.VARIABLE ? walk.variables[v.name.value] : undefined);
  if (node) return literal(node.value);
  return def?.args.find((a) => a.name === name)?.defaultValue;
}

/**
 * Depth and cost of a selection set on `type`; `pageSize` is the `first` of the connection the set
 * belongs to (its `nodes` list has that many items).
 */
function measure(set: SelectionSetNode, typeName: string, walk: Walk, depth: number, limits: Pick<Limits, 'maxQueryDepth'>, pageSize?: number): { depth: number; cost: number } {
  let deepest = depth;
  let cost = 0;
  const fields = fieldsOfType(walk.schema, typeName);
  for (const field of fieldsOf(set, walk)) {
    if (!field.selectionSet) continue;
    if (depth + 1 > limits.maxQueryDepth) return { depth: depth + 1, cost };
    const def = fields?.[field.name.value];
    const first = argumentValue(field, def, 'first', walk);
    const inner = measure(field.selectionSet, def ? namedTypeOf(def) : '', walk, depth + 1, limits, typeof first === 'number' && Number.isFinite(first) ? Math.max(0, first) : undefined);
    deepest = Math.max(deepest, inner.depth);
    const items = def && isList(def) ? (pageSize ?? LIST_ESTIMATE) : 1;
    cost += items * (1 + inner.cost);
  }
  return { depth: deepest, cost };
}

export interface GuardInput {
  schema: GraphQLSchema;
  document: DocumentNode;
  operationName?: string | null;
  variables?: Record<string, unknown> | null;
  principal: Principal | null;
  limits: Pick<Limits, 'maxQueryDepth' | 'maxQueryCost'>;
}

/** The first reason the operation may not run (null: it may). */
export function guardOperation(input: GuardInput): GraphQLError | null {
  const { schema, document, principal, limits } = input;
  if (!principal) return guardError('UNAUTHENTICATED', 'this operation needs a token: send Authorization: Bearer <token>', 401);
  const operation = getOperationAST(document, input.operationName ?? undefined);
  if (!operation) return null; // graphql-js reports it
  const walk: Walk = {
    schema,
    fragments: new Map(document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d])),
    variables: input.variables ?? {},
  };
  for (const field of fieldsOf(operation.selectionSet, walk)) {
    const needed = roleNeeded(operation.operation, field.name.value);
    if (!allows(principal.role, needed)) {
      return guardError('FORBIDDEN', `${field.name.value} needs a token with the ${needed} role; this one (${principal.name}) has ${principal.role}`, 403, { field: field.name.value, role: needed });
    }
  }
  const root = operation.operation === 'query' ? schema.getQueryType() : operation.operation === 'mutation' ? schema.getMutationType() : schema.getSubscriptionType();
  if (!root) return null;
  const { depth, cost } = measure(operation.selectionSet, root.name, walk, 0, limits);
  if (depth > limits.maxQueryDepth) return guardError('QUERY_TOO_COMPLEX', `the operation nests fields deeper than ${limits.maxQueryDepth} levels`, 400, { depth, limit: limits.maxQueryDepth });
  if (cost > limits.maxQueryCost) {
    return guardError('QUERY_TOO_COMPLEX', `the operation could resolve about ${cost} objects, more than the ${limits.maxQueryCost} allowed: ask for smaller pages (first) or fewer nested lists`, 400, { cost, limit: limits.maxQueryCost });
  }
  return null;
}
