/**
 * Launch: the choices (generators, priors, datasets, the methods and their settings) are read on
 * the server; the form is a client component that starts the runs through a server action.
 */
import type { ExciteClient } from '@excite/sdk';
import type { Metadata } from 'next';
import { RoleGate } from '@/components/role-gate.tsx';
import { SignInPrompt } from '@/components/sign-in-prompt.tsx';
import { getSession } from '@/lib/server/session.ts';
import { LaunchForm, type LaunchPrefill } from './launch-form.tsx';

export const metadata: Metadata = { title: 'Launch runs' };

/** ?generator=ID&session=S&neurons=0-9&methods=GA,EGG prefill the form (the neuron page links here). */
export default async function LaunchPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const params = await searchParams;
  const one = (k: string) => (typeof params[k] === 'string' ? (params[k] as string) : undefined);
  const session = await getSession();
  if (session.status !== 'signed-in') return <SignInPrompt session={session} next="/runs/new" />;
  const { client, viewer } = session;
  return (
    <>
      <h1>Launch runs</h1>
      <RoleGate viewer={viewer} needed="RUN" what="Starting runs">
        <LaunchChoices client={client} prefill={{ generator: one('generator'), session: one('session'), neurons: one('neurons'), methods: one('methods') }} />
      </RoleGate>
    </>
  );
}

async function LaunchChoices({ client, prefill }: { client: ExciteClient; prefill: LaunchPrefill }) {
  const [encoders, priors, datasets, methods] = await Promise.all([
    client.encoders({ filter: { kind: ['ENCODER', 'ENSEMBLE'] }, first: 100 }),
    client.priors({ first: 50 }),
    client.datasets({ first: 50 }),
    client.methods({}),
  ]);
  return <LaunchForm choices={{ encoders: encoders.nodes, priors: priors.nodes, datasets: datasets.nodes, methods }} prefill={prefill} />;
}
