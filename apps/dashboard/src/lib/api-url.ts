/**
 * Where the browser finds the API. `EXCITE_API_URL` (read by the server at request time, so a
 * built dashboard serves any deployment) names it; without it the API is on the page's own host at
 * `EXCITE_API_PORT` (4000), which is http://localhost:4000/graphql for a dashboard opened at
 * http://localhost:3000 and still right when it is opened from another machine.
 */
export interface ApiLocation {
  /** the GraphQL endpoint as configured, if it is */
  url?: string;
  /** the API's port on the page's host, when no url is configured */
  port: number;
}

export const DEFAULT_API_PORT = 4000;

/** The GraphQL endpoint for a page at `page` (its location). */
export function graphqlUrl(api: ApiLocation, page?: { protocol: string; hostname: string }): string {
  if (api.url) return api.url;
  if (!page) return `http://localhost:${api.port}/graphql`;
  const host = page.hostname.includes(':') ? `[${page.hostname}]` : page.hostname;
  return `${page.protocol}//${host}:${api.port}/graphql`;
}

/** What the server tells the browser (process.env at request time). */
export function apiLocationFromEnv(env: Record<string, string | undefined>): ApiLocation {
  const port = Number(env.EXCITE_API_PORT);
  return { url: env.EXCITE_API_URL || undefined, port: Number.isInteger(port) && port > 0 ? port : DEFAULT_API_PORT };
}
