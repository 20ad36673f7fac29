/** The resolver map of schema.graphql. */
import { ENUM_VALUES } from '../enums.ts';
import type { Resolvers } from '../generated/resolvers.ts';
import { mutation } from './mutation.ts';
import { query } from './query.ts';
import { DateTime, JSONScalar } from './scalars.ts';
import { subscription } from './subscription.ts';
import { typeResolvers } from './types.ts';

export const resolvers: Resolvers = {
  ...typeResolvers,
  DateTime,
  JSON: JSONScalar,
  Query: query,
  Mutation: mutation,
  Subscription: subscription,
  // GraphQL's enum names to the values the database stores
  ...ENUM_VALUES,
};
