/**
 * The comparisons so far (newest first, read on the server), and the form that starts one. While
 * one of them computes, a status subscription re-renders the list when its runs finish.
 */
import type { ExciteClient } from '@excite/sdk';
import type { Metadata } from 'next';
import Link from 'next/link';
import { Suspense } from 'react';
import { Loading } from '@/components/pending.tsx';
import { RoleGate } from '@/components/role-gate.tsx';
import { SignInPrompt } from '@/components/sign-in-prompt.tsx';
import { METHOD_LABEL, formatTime } from '@/lib/format.ts';
import { LiveProvider, LiveRefresh } from '@/lib/live.tsx';
import { browserApiLocation, getSession } from '@/lib/server/session.ts';
import { ComparisonForm } from './comparison-form.tsx';

export const metadata: Metadata = { title: 'Comparisons' };

/** Comparisons listed. */
const SHOWN = 50;

export default async function ComparisonsPage() {
  const session = await getSession();
  if (session.status !== 'signed-in') return <SignInPrompt session={session} next="/comparisons" />;
  const { client, token, viewer } = session;
  return (
    <LiveProvider api={browserApiLocation()} token={token}>
      <h1>Comparisons</h1>
      <section className="card">
        <Suspense fallback={<Loading what="comparisons" />}>
          <ComparisonsTable client={client} />
        </Suspense>
      </section>
      <RoleGate viewer={viewer} needed="RUN" what="Starting a comparison">
        <Suspense fallback={<Loading what="models" />}>
          <FormWithModels client={client} />
        </Suspense>
      </RoleGate>
    </LiveProvider>
  );
}

async function ComparisonsTable({ client }: { client: ExciteClient }) {
  const comparisons = await client.comparisons({ first: SHOWN });
  const cs = comparisons.nodes;
  if (!cs.length) return <p className="muted">No comparison yet.</p>;
  return (
    <>
      {cs.some((c) => !c.batch.done) && <LiveRefresh delayMs={1000} />}
      <table data-testid="comparisons-table">
        <thead>
          <tr>
            <th>comparison</th>
            <th>generators</th>
            <th>methods</th>
            <th>neurons</th>
            <th>evaluators</th>
            <th>runs</th>
            <th>started</th>
          </tr>
        </thead>
        <tbody>
          {cs.map((c) => (
            <tr key={c.id}>
              <td>
                <Link href={`/comparisons/${c.id}`}>{c.name ?? c.id.slice(0, 8)}</Link>
              </td>
              <td>{c.generators.map((g) => g.name).join(', ')}</td>
              <td>{c.methods.map((m) => METHOD_LABEL[m]).join(', ')}</td>
              <td className="num">{c.neurons.length}</td>
              <td className="num">{c.evaluators.length}</td>
              <td className="num">
                {c.batch.counts.succeeded}/{c.batch.runCount}
                {c.batch.done ? '' : ' …'}
              </td>
              <td>{formatTime(c.createdAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {comparisons.totalCount > cs.length && <p className="muted">The newest {cs.length} of {comparisons.totalCount}.</p>}
    </>
  );
}

async function FormWithModels({ client }: { client: ExciteClient }) {
  const [encoders, methods] = await Promise.all([client.encoders({ first: 100 }), client.methods({})]);
  // a comparison holds single images per neuron against each other: MEIs and MENIs, made without a dataset
  const comparable = methods.filter((m) => !m.needsDataset && (m.imageKind === 'MEI' || m.imageKind === 'MENI')).map((m) => m.method);
  return <ComparisonForm models={{ encoders: encoders.nodes, methods: comparable }} />;
}
