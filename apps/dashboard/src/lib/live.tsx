'use client';
/**
 * The live parts of a page, in the browser: one @excite/sdk client per page for its subscriptions
 * (graphql-ws), made with the token the server passed down to the page's live components only.
 * `LiveRefresh` re-renders the server components (router.refresh) when runs change state: the
 * stored data stays on the server, the socket only says when to read it again.
 */
import { type ExciteClient, createClient } from '@excite/sdk';
import { useRouter } from 'next/navigation';
import { type ReactNode, createContext, useContext, useEffect, useRef, useState } from 'react';
import { type ApiLocation, graphqlUrl } from './api-url.ts';

const Context = createContext<ExciteClient | null>(null);

export function LiveProvider({ api, token, children }: { api: ApiLocation; token: string; children: ReactNode }) {
  const [client, setClient] = useState<ExciteClient | null>(null);
  useEffect(() => {
    const c = createClient({ url: graphqlUrl(api, window.location), token });
    setClient(c);
    return () => void c.close();
  }, [api.url, api.port, token]);
  return <Context.Provider value={client}>{children}</Context.Provider>;
}

/** The page's live client (null during the server render and before the browser made it). */
export function useLiveClient(): ExciteClient | null {
  return useContext(Context);
}

/**
 * Re-reads the page on the server when a run of `batch` (or any run) changes status: started,
 * finished, cancelled. Changes that come together are one refresh (`delayMs`).
 */
export function LiveRefresh({ batch, delayMs = 400 }: { batch?: string; delayMs?: number }) {
  const client = useLiveClient();
  const router = useRouter();
  const routerRef = useRef(router);
  routerRef.current = router;
  useEffect(() => {
    if (!client) return;
    const stream = client.runStatusChanged(batch ? { batch } : {});
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    (async () => {
      try {
        for await (const _ of stream) {
          if (stopped) break;
          timer ??= setTimeout(() => {
            timer = undefined;
            if (!stopped) routerRef.current.refresh();
          }, delayMs);
        }
      } catch {
        // the socket closed (the API stopped, the token was revoked): the page stays as it is
      }
    })();
    return () => {
      stopped = true;
      clearTimeout(timer);
      void stream.return(undefined);
    };
  }, [client, batch, delayMs]);
  return null;
}
