/**
 * The bearer token in the browser: localStorage, so that it outlives the tab. A link with
 * `?token=exc_...` (what `excite serve` prints on its first start) stores it and is removed from
 * the address bar and history at once.
 */
const KEY = 'excite.token';

export const TOKEN_PATTERN = /^exc_[A-Za-z0-9_-]{20,}$/;

export function readToken(): string | null {
  try {
    return localStorage.getItem(KEY);
  } catch {
    return null;
  }
}

export function writeToken(token: string | null): void {
  if (token) localStorage.setItem(KEY, token);
  else localStorage.removeItem(KEY);
}

/** A token passed in the page's URL: stored, and taken out of the URL. */
export function takeTokenFromUrl(): string | null {
  const url = new URL(window.location.href);
  const token = url.searchParams.get('token');
  if (!token) return null;
  url.searchParams.delete('token');
  window.history.replaceState(window.history.state, '', url.toString());
  writeToken(token);
  return token;
}
