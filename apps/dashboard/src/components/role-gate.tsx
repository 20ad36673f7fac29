/** Controls that need a role: shown to tokens that have it, explained to those that do not (server side). */
import type { ApiToken, TokenRole } from '@excite/sdk';
import type { ReactNode } from 'react';
import { ROLE_LABEL, roleAllows } from '@/lib/roles.ts';

export function RoleGate({ viewer, needed, children, what }: { viewer: ApiToken; needed: TokenRole; children: ReactNode; what: string }) {
  if (roleAllows(viewer.role, needed)) return <>{children}</>;
  return (
    <p className="role-notice">
      {what} needs a token with the {ROLE_LABEL[needed]} role; this one ({viewer.name}) has {ROLE_LABEL[viewer.role]}.
    </p>
  );
}
