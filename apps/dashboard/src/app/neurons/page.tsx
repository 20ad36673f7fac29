/** Every recorded neuron of a session (`?session=`; default the first), each a link to its page; read on the server. */
import type { ExciteClient } from '@excite/sdk';
import type { Metadata } from 'next';
import Link from 'next/link';
import { SignInPrompt } from '@/components/sign-in-prompt.tsx';
import { getSession } from '@/lib/server/session.ts';

export const metadata: Metadata = { title: 'Neurons' };

export default async function NeuronsPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const session = await getSession();
  if (session.status !== 'signed-in') return <SignInPrompt session={session} next="/neurons" />;
  const { client } = session;
  const encoders = await client.encoders({ first: 100 });
  const sessions = [...new Set(encoders.nodes.flatMap((e) => e.sessions))].sort();
  const asked = (await searchParams).session;
  const current = typeof asked === 'string' && sessions.includes(asked) ? asked : sessions[0];
  return (
    <>
      <h1>Neurons</h1>
      {current === undefined ? (
        <p className="muted">No model predicts any neuron yet.</p>
      ) : (
        <section className="card">
          <p>
            Session:{' '}
            {sessions.map((s) => (
              <Link key={s} href={`/neurons?session=${encodeURIComponent(s)}`} className={s === current ? 'chip active' : 'chip'} aria-current={s === current ? 'page' : undefined}>
                {s}
              </Link>
            ))}
          </p>
          <SessionNeurons client={client} session={current} />
        </section>
      )}
    </>
  );
}

async function SessionNeurons({ client, session }: { client: ExciteClient; session: string }) {
  const neurons = await client.neurons({ filter: { session }, first: 500 });
  return (
    <>
      <div className="chips">
        {neurons.nodes.map((x) => (
          <Link key={x.id} className="chip" href={`/neurons/${x.session}/${x.index}`} title={`predicted by ${x.encoders.map((e) => e.name).join(', ')}`}>
            {x.index}
          </Link>
        ))}
      </div>
      {neurons.totalCount > neurons.nodes.length && <p className="muted">The first {neurons.nodes.length} of {neurons.totalCount} neurons.</p>}
    </>
  );
}
