/** The executable schema: /schema.graphql with the resolvers. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { makeExecutableSchema } from '@graphql-tools/schema';
import type { GraphQLSchema } from 'graphql';
import { resolvers } from './resolvers/index.ts';

export const SCHEMA_FILE = fileURLToPath(new URL('../../../../schema.graphql', import.meta.url));

export function executableSchema(): GraphQLSchema {
  return makeExecutableSchema({ typeDefs: readFileSync(SCHEMA_FILE, 'utf8'), resolvers: resolvers as never });
}
