/** Sign-out (the header's button, a POST): the token cookie is cleared and the browser goes to /. */
import { NextResponse } from 'next/server';
import { TOKEN_COOKIE } from '@/lib/server/session.ts';

export async function POST() {
  const response = new NextResponse(null, { status: 303, headers: { location: '/', 'cache-control': 'no-store' } });
  response.cookies.set(TOKEN_COOKIE, '', { httpOnly: true, sameSite: 'lax', path: '/', maxAge: 0 });
  return response;
}
