'use client';
/** A view's content once the browser holds a valid token; otherwise token entry or the reason. */
import type { ReactNode } from 'react';
import { useExcite } from '@/lib/excite-context.tsx';
import { ErrorNotice, Loading } from './pending.tsx';
import { TokenForm } from './token-form.tsx';

export function SessionGate({ children }: { children: ReactNode }) {
  const { state, retry, url } = useExcite();
  switch (state.status) {
    case 'starting':
    case 'checking':
      return <Loading what="your session" />;
    case 'signed-out':
      return <TokenForm />;
    case 'refused':
      return <TokenForm notice={`The service refused the stored token: ${state.message}`} />;
    case 'unreachable':
      return <ErrorNotice title={`The API at ${url} does not answer`} error={new Error(state.message)} retry={retry} />;
    case 'signed-in':
      return <>{children}</>;
  }
}
