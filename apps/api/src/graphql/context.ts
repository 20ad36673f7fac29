/** The context of every GraphQL operation: the service and per-operation batch loaders. */
import type { Services } from '../services.ts';
import { type Loaders, createLoaders } from './loaders.ts';

export interface GraphQLContext {
  services: Services;
  loaders: Loaders;
}

/**
 * Queries and mutations cache what they load for their one response; a subscription lives on,
 * so its loaders only batch (each event reads the rows as they are then).
 */
export function createContext(services: Services, options: { cache: boolean } = { cache: true }): GraphQLContext {
  return { services, loaders: createLoaders(services.database.db, options) };
}
