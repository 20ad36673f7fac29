/** Loading and error states: what every view shows while its data comes, or when it did not. */
'use client';
import { isExciteError } from '@excite/sdk';
import type { ReactNode } from 'react';
import type { Resource } from '@/lib/use-resource.ts';

export function Loading({ what }: { what: string }) {
  return (
    <div className="loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden /> Loading {what}…
    </div>
  );
}

/** An error with the service's code when it has one, and a retry. */
export function ErrorNotice({ error, retry, title = 'Something went wrong' }: { error: unknown; retry?: () => void; title?: string }) {
  const code = isExciteError(error) ? error.code : undefined;
  const message = error instanceof Error ? error.message : String(error);
  return (
    <div className="error-notice" role="alert">
      <strong>{title}</strong>
      {code && <code className="code">{code}</code>}
      <p>{message}</p>
      {retry && (
        <button type="button" onClick={retry}>
          Try again
        </button>
      )}
    </div>
  );
}

/** A resource's value through `children`, or its loading or error state. */
export function Loaded<T>({ resource, what, children }: { resource: Resource<T>; what: string; children: (data: T) => ReactNode }) {
  if (resource.status === 'loading') return <Loading what={what} />;
  if (resource.status === 'error') return <ErrorNotice error={resource.error} retry={resource.reload} title={`Could not load ${what}`} />;
  return <>{children(resource.data)}</>;
}
