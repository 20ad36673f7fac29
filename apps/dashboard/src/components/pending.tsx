'use client';
/**
 * Loading and error states: what loading.tsx and Suspense boundaries show while a page's data comes
 * from the server, and what error.tsx and the forms show when it did not.
 */
import { isExciteError } from '@excite/sdk';

export function Loading({ what }: { what: string }) {
  return (
    <div className="loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden /> Loading {what}…
    </div>
  );
}

/** An error with the service's code when it has one, and a retry. */
export function ErrorNotice({ error, retry, title = 'Something went wrong' }: { error: unknown; retry?: () => void; title?: string }) {
  const code = isExciteError(error) ? error.code : typeof error === 'object' && error && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
  const message = error instanceof Error ? error.message : typeof error === 'object' && error && 'message' in error ? String(error.message) : String(error);
  const digest = typeof error === 'object' && error && 'digest' in error ? String(error.digest) : undefined;
  return (
    <div className="error-notice" role="alert">
      <strong>{title}</strong>
      {code && <code className="code">{code}</code>}
      <p>{message}</p>
      {digest && <p className="muted small">The dashboard's server logged this error as {digest}.</p>}
      {retry && (
        <button type="button" onClick={retry}>
          Try again
        </button>
      )}
    </div>
  );
}
