/** What a page shows instead of its data when there is no session: the token form, and why. */
import type { Session } from '@/lib/server/session.ts';
import { TokenForm } from './token-form.tsx';

const NOTICES: Record<string, string> = {
  refused: 'The service refused that token.',
  unreachable: 'The API did not answer; try again once it runs.',
};

export function SignInPrompt({ session, signin, next }: { session: Exclude<Session, { status: 'signed-in' }>; signin?: string; next?: string }) {
  const notice = session.status === 'refused' ? `The service refused the stored token: ${session.message}` : signin ? NOTICES[signin] : undefined;
  return <TokenForm notice={notice} next={next} />;
}
