/**
 * A stored file for the browser: /files/<sha256> fetches /blobs/<sha256> from the API with the
 * session cookie's token and passes it on (`?name=x.png`: as a download of that name). Files are
 * content-addressed, so the browser may keep them.
 */
import { cookies } from 'next/headers';
import { TOKEN_COOKIE, serverApiUrl } from '@/lib/server/session.ts';

export async function GET(request: Request, { params }: { params: Promise<{ hash: string }> }) {
  const { hash } = await params;
  if (!/^[0-9a-f]{64}$/.test(hash)) return Response.json({ error: { code: 'NOT_FOUND', message: 'no such file' } }, { status: 404 });
  const token = (await cookies()).get(TOKEN_COOKIE)?.value;
  if (!token) return Response.json({ error: { code: 'UNAUTHENTICATED', message: 'not signed in' } }, { status: 401 });
  const upstream = await fetch(new URL(`/blobs/${hash}`, serverApiUrl()), { headers: { authorization: `Bearer ${token}` }, signal: request.signal });
  const headers = new Headers({ 'content-type': upstream.headers.get('content-type') ?? 'application/octet-stream' });
  const length = upstream.headers.get('content-length');
  if (length) headers.set('content-length', length);
  if (upstream.ok) headers.set('cache-control', 'private, max-age=31536000, immutable');
  const name = new URL(request.url).searchParams.get('name');
  if (name && upstream.ok) headers.set('content-disposition', `attachment; filename="${name.replace(/[^\w.-]+/g, '_')}"`);
  return new Response(upstream.body, { status: upstream.status, headers });
}
