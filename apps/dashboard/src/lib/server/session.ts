/**
 * The signed-in session on the dashboard's server: the token lives in an HTTP-only cookie (set by
 * /sign-in, cleared by /sign-out), and every page that shows stored data reads it through an
 * @excite/sdk client made here with that token. Server code only: it reads cookies and the
 * server's environment.
 */
import { type ApiToken, type ExciteClient, createClient, isExciteError } from '@excite/sdk';
import { cookies } from 'next/headers';
import { cache } from 'react';
import { type ApiLocation, apiLocationFromEnv } from '../api-url.ts';

export const TOKEN_COOKIE = 'excite_token';
/** How long the browser keeps the cookie (the token itself lasts until it is revoked). */
export const TOKEN_COOKIE_MAX_AGE = 30 * 24 * 3600;

/**
 * The GraphQL endpoint as this server reaches it: EXCITE_API_SERVER_URL (what `excite serve`
 * passes: its own address), else EXCITE_API_URL, else the API's port on this machine.
 */
export function serverApiUrl(env: Record<string, string | undefined> = process.env): string {
  if (env.EXCITE_API_SERVER_URL) return env.EXCITE_API_SERVER_URL;
  const api = apiLocationFromEnv(env);
  return api.url ?? `http://127.0.0.1:${api.port}/graphql`;
}

/** Where the browser finds the API (for the live parts: subscriptions); read at request time. */
export function browserApiLocation(): ApiLocation {
  return apiLocationFromEnv(process.env);
}

export function serverClient(token: string): ExciteClient {
  return createClient({ url: serverApiUrl(), token });
}

export type Session =
  | { status: 'signed-out' }
  | { status: 'refused'; message: string }
  | { status: 'signed-in'; token: string; client: ExciteClient; viewer: ApiToken };

/**
 * The request's session, once per request (React's cache: the layout and the page share it). A
 * token the service refuses is `refused`; a service that does not answer throws (the error
 * boundary shows it).
 */
export const getSession = cache(async (): Promise<Session> => {
  const token = (await cookies()).get(TOKEN_COOKIE)?.value;
  if (!token) return { status: 'signed-out' };
  const client = serverClient(token);
  try {
    return { status: 'signed-in', token, client, viewer: await client.viewer() };
  } catch (e) {
    if (isExciteError(e, 'UNAUTHENTICATED')) return { status: 'refused', message: (e as Error).message };
    throw e;
  }
});
