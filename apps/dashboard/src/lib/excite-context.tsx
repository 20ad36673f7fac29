'use client';
/**
 * The signed-in client: the token (localStorage, or `?token=` once), an @excite/sdk client for the
 * API at `api`, and the token's role from the `viewer` query, which role-aware controls read.
 */
import { type ApiToken, type ExciteClient, createClient, isExciteError } from '@excite/sdk';
import { type ReactNode, createContext, useCallback, useContext, useEffect, useMemo, useState } from 'react';
import { type ApiLocation, graphqlUrl } from './api-url.ts';
import { readToken, takeTokenFromUrl, writeToken } from './token-store.ts';

export type SessionState =
  /** before the browser has read the stored token (and during the server render) */
  | { status: 'starting' }
  | { status: 'signed-out' }
  | { status: 'checking'; token: string }
  | { status: 'refused'; token: string; message: string }
  | { status: 'unreachable'; token: string; message: string }
  | { status: 'signed-in'; token: string; viewer: ApiToken };

export interface ExciteSession {
  state: SessionState;
  /** the GraphQL endpoint */
  url: string;
  /** a client with the token (signed in only) */
  client: ExciteClient | null;
  viewer: ApiToken | null;
  signIn(token: string): void;
  signOut(): void;
  /** asks `viewer` again (after the API was unreachable) */
  retry(): void;
}

const Context = createContext<ExciteSession | null>(null);

export function ExciteProvider({ api, children }: { api: ApiLocation; children: ReactNode }) {
  const [token, setToken] = useState<string | null | undefined>(undefined);
  const [state, setState] = useState<SessionState>({ status: 'starting' });
  const [attempt, setAttempt] = useState(0);
  const [url, setUrl] = useState(() => graphqlUrl(api));

  useEffect(() => {
    setUrl(graphqlUrl(api, window.location));
    setToken(takeTokenFromUrl() ?? readToken());
  }, [api]);

  const client = useMemo(() => (token ? createClient({ url, token }) : null), [url, token]);
  useEffect(() => () => void client?.close(), [client]);

  useEffect(() => {
    if (token === undefined) return;
    if (!token || !client) return setState({ status: 'signed-out' });
    let live = true;
    setState({ status: 'checking', token });
    client.viewer().then(
      (viewer) => live && setState({ status: 'signed-in', token, viewer }),
      (e: unknown) => {
        if (!live) return;
        const message = (e as Error).message;
        if (isExciteError(e, 'UNAUTHENTICATED')) setState({ status: 'refused', token, message });
        else setState({ status: 'unreachable', token, message });
      },
    );
    return () => {
      live = false;
    };
  }, [client, token, attempt]);

  const signIn = useCallback((next: string) => {
    writeToken(next.trim());
    setToken(next.trim());
  }, []);
  const signOut = useCallback(() => {
    writeToken(null);
    setToken(null);
  }, []);
  const retry = useCallback(() => setAttempt((n) => n + 1), []);

  const session: ExciteSession = {
    state,
    url,
    client: state.status === 'signed-in' ? client : null,
    viewer: state.status === 'signed-in' ? state.viewer : null,
    signIn,
    signOut,
    retry,
  };
  return <Context.Provider value={session}>{children}</Context.Provider>;
}

export function useExcite(): ExciteSession {
  const session = useContext(Context);
  if (!session) throw new Error('useExcite outside ExciteProvider');
  return session;
}
