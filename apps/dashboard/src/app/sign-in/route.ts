/**
 * Sign-in: `GET /sign-in?token=exc_...` (the link `excite serve` prints) or the token form's POST.
 * The token is checked against the API (`viewer`), kept in an HTTP-only, SameSite=Lax cookie, and
 * the browser is sent on to `next` (a path on this site; default /) without the token in the
 * address bar. A refused token goes back to the form with the reason.
 */
import { createClient, isExciteError } from '@excite/sdk';
import { NextResponse } from 'next/server';
import { TOKEN_COOKIE, TOKEN_COOKIE_MAX_AGE, serverApiUrl } from '@/lib/server/session.ts';

export const dynamic = 'force-dynamic';

/** A relative path on this site, or /. */
function localPath(next: unknown): string {
  return typeof next === 'string' && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\') ? next : '/';
}

function redirect(to: string): NextResponse {
  return new NextResponse(null, { status: 303, headers: { location: to, 'cache-control': 'no-store' } });
}

async function signIn(request: Request, token: unknown, next: unknown): Promise<NextResponse> {
  if (typeof token !== 'string' || !token.trim()) return redirect('/');
  const value = token.trim();
  try {
    await createClient({ url: serverApiUrl(), token: value, retry: false }).viewer();
  } catch (e) {
    const reason = isExciteError(e, 'UNAUTHENTICATED') ? 'refused' : 'unreachable';
    return redirect(`/?signin=${reason}`);
  }
  const response = redirect(localPath(next));
  response.cookies.set(TOKEN_COOKIE, value, { httpOnly: true, sameSite: 'lax', path: '/', secure: new URL(request.url).protocol === 'https:', maxAge: TOKEN_COOKIE_MAX_AGE });
  return response;
}

export async function GET(request: Request) {
  const params = new URL(request.url).searchParams;
  return signIn(request, params.get('token'), params.get('next'));
}

export async function POST(request: Request) {
  const form = await request.formData();
  return signIn(request, form.get('token'), form.get('next'));
}
