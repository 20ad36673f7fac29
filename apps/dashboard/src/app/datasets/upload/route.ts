/**
 * POST /datasets/upload: the upload zone's multipart body, passed on to the API's POST
 * /upload/dataset as it arrives (streamed, not buffered) with the session cookie's token, and the
 * API's answer passed back (201 { dataset }, or { error: { code, message } }). The browser never
 * holds the token; a post from another site's page is refused (the cookie is SameSite=Lax too).
 */
import { cookies } from 'next/headers';
import { TOKEN_COOKIE, serverApiUrl } from '@/lib/server/session.ts';

const refuse = (status: number, code: string, message: string) => Response.json({ error: { code, message } }, { status });

export async function POST(request: Request) {
  const token = (await cookies()).get(TOKEN_COOKIE)?.value;
  if (!token) return refuse(401, 'UNAUTHENTICATED', 'not signed in');
  const origin = request.headers.get('origin');
  const host = request.headers.get('x-forwarded-host') ?? request.headers.get('host');
  if (origin && host && new URL(origin).host !== host) return refuse(403, 'FORBIDDEN', 'an upload from another site');
  const type = request.headers.get('content-type') ?? '';
  if (!type.startsWith('multipart/form-data') || !request.body) return refuse(400, 'INVALID_UPLOAD', 'expected a multipart/form-data body');
  const headers: Record<string, string> = { authorization: `Bearer ${token}`, 'content-type': type };
  const length = request.headers.get('content-length');
  if (length) headers['content-length'] = length;
  let upstream: Response;
  try {
    upstream = await fetch(new URL('/upload/dataset', serverApiUrl()), { method: 'POST', headers, body: request.body, duplex: 'half', signal: request.signal } as RequestInit & { duplex: 'half' });
  } catch (e) {
    return refuse(502, 'API_UNREACHABLE', `the API did not take the upload: ${(e as Error).message}`);
  }
  return new Response(upstream.body, { status: upstream.status, headers: { 'content-type': upstream.headers.get('content-type') ?? 'application/json' } });
}
