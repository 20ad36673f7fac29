/** The context of every GraphQL operation: the service, the caller, and per-operation batch loaders. */
import type { Principal } from '../auth/tokens.ts';
import type { Services } from '../services.ts';
import { type Loaders, createLoaders } from './loaders.ts';

export interface GraphQLContext {
  services: Services;
  loaders: Loaders;
  /** the token the operation is made with (operation-guard.ts lets none run without one) */
  principal: Principal | null;
}

/**
 * Queries and mutations cache what they load for their one response; a subscription lives on,
 * so its loaders only batch (each event reads the rows as they are then).
 */
export function createContext(services: Services, principal: Principal | null, options: { cache: boolean } = { cache: true }): GraphQLContext {
  return { services, principal, loaders: createLoaders(services.database.db, options) };
}
