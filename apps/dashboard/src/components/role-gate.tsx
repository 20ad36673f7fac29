'use client';
/** Controls that need a role: shown enabled to tokens that have it, explained to those that do not. */
import type { TokenRole } from '@excite/sdk';
import type { ReactNode } from 'react';
import { useExcite } from '@/lib/excite-context.tsx';
import { ROLE_LABEL, roleAllows } from '@/lib/roles.ts';

export function useRole(needed: TokenRole): boolean {
  return roleAllows(useExcite().viewer?.role, needed);
}

export function RoleGate({ needed, children, what }: { needed: TokenRole; children: ReactNode; what: string }) {
  const { viewer } = useExcite();
  if (roleAllows(viewer?.role, needed)) return <>{children}</>;
  return (
    <p className="role-notice">
      {what} needs a token with the {ROLE_LABEL[needed]} role; this one ({viewer?.name}) has {viewer ? ROLE_LABEL[viewer.role] : 'none'}.
    </p>
  );
}
