/**
 * The recordings imported so far (importResponses: a rig's responses to an exported stimulus set),
 * newest first, read on the server; each links to its closed-loop analysis.
 */
import type { ExciteClient } from '@excite/sdk';
import type { Metadata } from 'next';
import Link from 'next/link';
import { Suspense } from 'react';
import { Loading } from '@/components/pending.tsx';
import { SignInPrompt } from '@/components/sign-in-prompt.tsx';
import { formatTime } from '@/lib/format.ts';
import { getSession } from '@/lib/server/session.ts';

export const metadata: Metadata = { title: 'Recordings' };

/** Recordings listed (the newest). */
const SHOWN = 100;

export default async function RecordingsPage() {
  const session = await getSession();
  if (session.status !== 'signed-in') return <SignInPrompt session={session} next="/recordings" />;
  return (
    <>
      <h1>Recordings</h1>
      <section className="card">
        <Suspense fallback={<Loading what="recordings" />}>
          <RecordingsTable client={session.client} />
        </Suspense>
        <p className="muted small">
          A recording is a rig's responses to a stimulus set exported with <code>excite images export</code>, imported with <code>excite responses import</code> (or the SDK's{' '}
          <code>importResponses</code>). <code>excite simulate-recording</code> makes one from compact models as the brain.
        </p>
      </section>
    </>
  );
}

async function RecordingsTable({ client }: { client: ExciteClient }) {
  // newest first, exactly the rows shown, and how many there are
  const page = await client.recordings({ order: 'NEWEST_FIRST', first: SHOWN });
  const shown = page.nodes;
  const total = page.totalCount;
  if (!shown.length) return <p className="muted">No recording yet.</p>;
  return (
    <>
      <table data-testid="recordings-table">
        <thead>
          <tr>
            <th>recording</th>
            <th>session</th>
            <th>stimuli</th>
            <th>neurons</th>
            <th>repeats</th>
            <th>imported</th>
          </tr>
        </thead>
        <tbody>
          {shown.map((r) => (
            <tr key={r.id} data-recording={r.id}>
              <td>
                <Link href={`/recordings/${r.id}`}>{r.name}</Link>
              </td>
              <td>{r.session}</td>
              <td className="num">{r.stimulusCount}</td>
              <td className="num">{r.neurons.length}</td>
              <td className="num">{r.maxRepeats}</td>
              <td>{formatTime(r.createdAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {total > shown.length && <p className="muted">The newest {shown.length} of {total}.</p>}
    </>
  );
}
