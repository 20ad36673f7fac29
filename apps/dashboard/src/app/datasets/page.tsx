/**
 * The datasets the service holds (image sets and recordings, uploaded through POST /upload/dataset),
 * newest first, read on the server, with the upload zone for an admin token.
 */
import type { Dataset, ExciteClient } from '@excite/sdk';
import type { Metadata } from 'next';
import Link from 'next/link';
import { Suspense } from 'react';
import { Loading } from '@/components/pending.tsx';
import { RoleGate } from '@/components/role-gate.tsx';
import { SignInPrompt } from '@/components/sign-in-prompt.tsx';
import { formatBytes } from '@/lib/bytes.ts';
import { formatTime } from '@/lib/format.ts';
import { getSession } from '@/lib/server/session.ts';
import { UploadZone } from './upload-zone.tsx';

export const metadata: Metadata = { title: 'Datasets' };

const SHOWN = 100;

export default async function DatasetsPage() {
  const session = await getSession();
  if (session.status !== 'signed-in') return <SignInPrompt session={session} next="/datasets" />;
  return (
    <>
      <h1>Datasets</h1>
      <section className="card">
        <h2>Upload a dataset</h2>
        <RoleGate viewer={session.viewer} needed="ADMIN" what="Uploading a dataset">
          <UploadZone />
        </RoleGate>
      </section>
      <section className="card">
        <Suspense fallback={<Loading what="datasets" />}>
          <DatasetsTable client={session.client} />
        </Suspense>
      </section>
    </>
  );
}

const datasetSize = (d: Pick<Dataset, 'files'>) => d.files.reduce((s, f) => s + f.blob.size, 0);

async function DatasetsTable({ client }: { client: ExciteClient }) {
  // newest first, exactly the rows shown, and how many there are
  const page = await client.datasets({ order: 'NEWEST_FIRST', first: SHOWN });
  const shown = page.nodes;
  const total = page.totalCount;
  if (!shown.length) return <p className="muted">No dataset yet.</p>;
  return (
    <>
      <table data-testid="datasets-table">
        <thead>
          <tr>
            <th>dataset</th>
            <th>kind</th>
            <th className="num">images</th>
            <th className="num">neurons</th>
            <th className="num">size</th>
            <th>uploaded</th>
          </tr>
        </thead>
        <tbody>
          {shown.map((d) => (
            <tr key={d.id} data-dataset={d.id}>
              <td>
                <Link href={`/datasets/${d.id}`}>{d.name}</Link>
              </td>
              <td>{d.kind.toLowerCase()}</td>
              <td className="num">{d.imageCount}</td>
              <td className="num">{d.neuronCount ?? '—'}</td>
              <td className="num">{formatBytes(datasetSize(d))}</td>
              <td>{formatTime(d.createdAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {total > shown.length && <p className="muted">The newest {shown.length} of {total}.</p>}
    </>
  );
}
