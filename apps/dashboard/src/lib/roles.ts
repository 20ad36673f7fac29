/** Token roles, ordered: each includes the ones before (schema.graphql, TokenRole). */
import type { TokenRole } from '@excite/sdk';

const ORDER: readonly TokenRole[] = ['READ', 'RUN', 'ADMIN'];

export const roleAllows = (role: TokenRole | undefined, needed: TokenRole): boolean => role !== undefined && ORDER.indexOf(role) >= ORDER.indexOf(needed);

export const ROLE_LABEL: Record<TokenRole, string> = { READ: 'read', RUN: 'run', ADMIN: 'admin' };
