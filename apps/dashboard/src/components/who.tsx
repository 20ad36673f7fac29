/** Who is signed in, with which role, and the sign-out button (a form: no script needed). */
import { getSession } from '@/lib/server/session.ts';
import { ROLE_LABEL } from '@/lib/roles.ts';

export async function Who() {
  const session = await getSession().catch(() => null);
  if (session?.status !== 'signed-in') return <span className="muted">not signed in</span>;
  const { viewer } = session;
  return (
    <>
      <span data-testid="viewer">
        {viewer.name} · <span className={`role role-${viewer.role.toLowerCase()}`}>{ROLE_LABEL[viewer.role]}</span>
      </span>
      <form action="/sign-out" method="post" className="inline-form">
        <button type="submit" className="link-button">
          Sign out
        </button>
      </form>
    </>
  );
}
