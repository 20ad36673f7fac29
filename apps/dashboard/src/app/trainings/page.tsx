/** The trainings (encoders fitted to uploaded recordings by the service's workers), newest first. */
import type { ExciteClient } from '@excite/sdk';
import type { Metadata } from 'next';
import Link from 'next/link';
import { Suspense } from 'react';
import { Loading } from '@/components/pending.tsx';
import { SignInPrompt } from '@/components/sign-in-prompt.tsx';
import { StatusBadge } from '@/components/status-badge.tsx';
import { formatNumber, formatTime } from '@/lib/format.ts';
import { roleAllows } from '@/lib/roles.ts';
import { getSession } from '@/lib/server/session.ts';

export const metadata: Metadata = { title: 'Trainings' };

const SHOWN = 100;

export default async function TrainingsPage() {
  const session = await getSession();
  if (session.status !== 'signed-in') return <SignInPrompt session={session} next="/trainings" />;
  return (
    <>
      <h1>Trainings</h1>
      {roleAllows(session.viewer.role, 'RUN') && (
        <p>
          <Link href="/trainings/new" className="button">
            Start a training
          </Link>
        </p>
      )}
      <section className="card">
        <Suspense fallback={<Loading what="trainings" />}>
          <TrainingsTable client={session.client} />
        </Suspense>
      </section>
    </>
  );
}

async function TrainingsTable({ client }: { client: ExciteClient }) {
  // newest first, exactly the rows shown, and how many there are
  const page = await client.trainings({ order: 'NEWEST_FIRST', first: SHOWN });
  const shown = page.nodes;
  const total = page.totalCount;
  if (!shown.length) return <p className="muted">No training yet.</p>;
  return (
    <>
      <table data-testid="trainings-table">
        <thead>
          <tr>
            <th>training</th>
            <th>kind</th>
            <th>status</th>
            <th>datasets</th>
            <th className="num">epoch</th>
            <th className="num">best median r</th>
            <th>model</th>
            <th>started</th>
          </tr>
        </thead>
        <tbody>
          {shown.map((t) => (
            <tr key={t.id} data-training={t.id}>
              <td>
                <Link href={`/trainings/${t.id}`}>{t.name}</Link>
              </td>
              <td>{t.kind.toLowerCase()}</td>
              <td>
                <StatusBadge status={t.status} />
              </td>
              <td>{t.datasets.map((d) => d.name).join(', ')}</td>
              <td className="num">
                {t.members > 1 ? `member ${t.member + 1}/${t.members}, ` : ''}
                {t.epoch}/{t.maxEpochs}
              </td>
              <td className="num">{formatNumber(t.bestValCorrelation)}</td>
              <td>{t.model ? <Link href={`/runs/new?generator=${t.model.id}`}>{t.model.name}</Link> : '—'}</td>
              <td>{formatTime(t.startedAt ?? t.createdAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {total > shown.length && <p className="muted">The newest {shown.length} of {total}.</p>}
    </>
  );
}
