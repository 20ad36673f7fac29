/** The resolver map of schema.graphql. */
import { ENUM_VALUES } from '../enums.ts';
import type { Resolvers } from '../generated/resolvers.ts';
import { mutation } from './mutation.ts';
import { query } from './query.ts';
import { DateTime, JSONScalar } from './scalars.ts';
import { recordingMutations, recordingQueries, recordingTypes } from './recordings.ts';
import { subscription } from './subscription.ts';
import { typeResolvers } from './types.ts';

export const resolvers: Resolvers = {
  ...typeResolvers,
  ...recordingTypes,
  DateTime,
  JSON: JSONScalar,
  Query: { ...query, ...recordingQueries },
  Mutation: { ...mutation, ...recordingMutations },
  Subscription: subscription,
  // GraphQL's enum names to the values the database stores
  ...ENUM_VALUES,
};
