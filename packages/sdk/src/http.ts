/**
 * HTTP calls to the service with its error conventions: GraphQL answers `{data, errors}`, the
 * upload and blob endpoints `{"error": {"code", "message"}}` with a 4xx status. Every failure
 * becomes an ExciteError.
 */
import { ExciteError, type ExciteErrorCode, type ServiceErrorPayload } from './errors.ts';

export type Fetch = typeof globalThis.fetch;

/** fetch that turns "no answer" into NETWORK_ERROR (an abort stays an AbortError). */
export async function send(fetchImpl: Fetch, url: string | URL, init: RequestInit, operation: string): Promise<Response> {
  try {
    return await fetchImpl(url, init);
  } catch (e) {
    if (init.signal?.aborted) throw e;
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (e as Error).message;
    throw new ExciteError('NETWORK_ERROR', `${operation}: no answer from ${url} (${why})`, { operation, cause: e });
  }
}

function retryAfterSeconds(res: Response): number | undefined {
  const value = res.headers.get('retry-after');
  if (!value) return undefined;
  const seconds = Number(value);
  return Number.isFinite(seconds) ? seconds : Math.max(0, (Date.parse(value) - Date.now()) / 1000);
}

/** The JSON body of a response, or an ExciteError with the service's code (or HTTP_ERROR). */
export async function readJson<T>(res: Response, operation: string): Promise<T> {
  const text = await res.text().catch((e: unknown) => {
    throw new ExciteError('NETWORK_ERROR', `${operation}: the answer broke off (${(e as Error).message})`, { operation, status: res.status, cause: e });
  });
  const context = { status: res.status, operation };
  let body: { errors?: ServiceErrorPayload[]; error?: { code?: string; message?: string } } & Record<string, unknown>;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ExciteError('HTTP_ERROR', `${operation}: ${res.status} ${res.statusText} from ${res.url || 'the service'}, not JSON: ${text.slice(0, 200)}`, {
      ...context,
      details: { retryAfterSeconds: retryAfterSeconds(res) },
    });
  }
  if (Array.isArray(body.errors) && body.errors.length) throw ExciteError.fromGraphQL(body.errors, context);
  if (body.error?.code) throw new ExciteError(body.error.code as ExciteErrorCode, body.error.message ?? body.error.code, { ...context, details: { retryAfterSeconds: retryAfterSeconds(res) } });
  if (!res.ok) throw new ExciteError('HTTP_ERROR', `${operation}: ${res.status} ${res.statusText}`, { ...context, details: { retryAfterSeconds: retryAfterSeconds(res) } });
  return body as T;
}

/** The bytes of a successful response; an error response's JSON becomes an ExciteError. */
export async function readBytes(res: Response, operation: string): Promise<Uint8Array> {
  if (!res.ok) await readJson(res, operation);
  return new Uint8Array(await res.arrayBuffer());
}
