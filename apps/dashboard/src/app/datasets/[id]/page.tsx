/**
 * A dataset: its files, the first images as thumbnails (read from its images.zip by the
 * dashboard's server), and for a recording the response statistics of every neuron (mean, sd,
 * range, from responses.npy) as a chart over a table.
 */
import type { Dataset, ExciteClient } from '@excite/sdk';
import type { Metadata } from 'next';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { Suspense } from 'react';
import { ErrorNotice, Loading } from '@/components/pending.tsx';
import { SignInPrompt } from '@/components/sign-in-prompt.tsx';
import { formatBytes } from '@/lib/bytes.ts';
import { fileHref } from '@/lib/files.ts';
import { formatNumber, formatTime } from '@/lib/format.ts';
import { neuronStats, parseNpyMatrix } from '@/lib/response-stats.ts';
import { roleAllows } from '@/lib/roles.ts';
import { MAX_ZIP_BYTES } from '@/lib/server/dataset-images.ts';
import { getSession } from '@/lib/server/session.ts';
import { ResponseChart } from './response-chart.tsx';

export const metadata: Metadata = { title: 'Dataset' };

/** Thumbnails shown: the first images. */
const THUMBNAILS = 24;

export default async function DatasetPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const session = await getSession();
  if (session.status !== 'signed-in') return <SignInPrompt session={session} next={`/datasets/${id}`} />;
  const dataset = await session.client.dataset({ id });
  if (!dataset) notFound();
  const zip = dataset.files.find((f) => f.path === 'images.zip');
  const responses = dataset.files.find((f) => f.path === 'responses.npy');
  return (
    <>
      <h1>{dataset.name}</h1>
      <p className="muted" data-testid="dataset-summary">
        {dataset.kind === 'RECORDING' ? 'a recording' : 'an image set'}: {dataset.imageCount} images{dataset.neuronCount != null ? `, ${dataset.neuronCount} neurons` : ''}, uploaded {formatTime(dataset.createdAt)}
        {dataset.kind === 'RECORDING' && roleAllows(session.viewer.role, 'RUN') && (
          <>
            {' · '}
            <Link href={`/trainings/new?dataset=${dataset.id}`}>train an encoder on it</Link>
          </>
        )}
      </p>
      <section className="card">
        <h2>Images</h2>
        {zip && zip.blob.size <= MAX_ZIP_BYTES ? (
          <div className="thumbs" data-testid="thumbnails">
            {Array.from({ length: Math.min(THUMBNAILS, dataset.imageCount) }, (_, k) => (
              <figure key={k}>
                <img src={`/datasets/thumbnails/${zip.blob.hash}/${k}`} alt={`image ${k}`} loading="lazy" />
                <figcaption>{k}</figcaption>
              </figure>
            ))}
          </div>
        ) : (
          <p className="muted">The archive is too large to show thumbnails from ({zip ? formatBytes(zip.blob.size) : 'none'}).</p>
        )}
        {dataset.imageCount > THUMBNAILS && <p className="muted small">The first {THUMBNAILS} of {dataset.imageCount} images (columns 0 to {THUMBNAILS - 1}).</p>}
      </section>
      {responses && (
        <section className="card">
          <h2>Responses</h2>
          <Suspense fallback={<Loading what="the responses" />}>
            <Responses client={session.client} url={responses.blob.url} />
          </Suspense>
          <p className="muted small">
            Per-neuron reliability needs repeated presentations: a dataset stores the mean response of each neuron to each image (<code>responses.npy</code>) and no repeats, so the
            service has none to compute it from. Recordings imported with repeats (<code>excite responses import</code>) show their noise ceilings (FEV, split-half reliability) on
            their <Link href="/recordings">recording's page</Link>.
          </p>
        </section>
      )}
      <section className="card">
        <h2>Files</h2>
        <Files dataset={dataset} />
      </section>
    </>
  );
}

function Files({ dataset }: { dataset: Dataset }) {
  return (
    <table>
      <tbody>
        {dataset.files.map((f) => (
          <tr key={f.path}>
            <td>
              <a href={fileHref(f.blob.url, f.path)}>{f.path}</a>
            </td>
            <td className="num">{formatBytes(f.blob.size)}</td>
            <td className="muted small">{f.blob.hash.slice(0, 12)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

async function Responses({ client, url }: { client: ExciteClient; url: string }) {
  let stats: ReturnType<typeof neuronStats>;
  try {
    stats = neuronStats(parseNpyMatrix(await client.download(url)));
  } catch (e) {
    return <ErrorNotice error={e} title="responses.npy could not be read" />;
  }
  const rows = stats.slice(0, 500);
  return (
    <>
      <ResponseChart stats={stats.map((s) => ({ neuron: s.neuron, mean: s.mean, sd: s.sd }))} />
      <table data-testid="response-stats">
        <thead>
          <tr>
            <th>neuron</th>
            <th className="num">mean</th>
            <th className="num">sd</th>
            <th className="num">min</th>
            <th className="num">max</th>
            <th className="num">images</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((s) => (
            <tr key={s.neuron} data-neuron={s.neuron}>
              <td>{s.neuron}</td>
              <td className="num" data-value={s.mean}>
                {formatNumber(s.mean)}
              </td>
              <td className="num" data-value={s.sd}>
                {formatNumber(s.sd)}
              </td>
              <td className="num">{formatNumber(s.min)}</td>
              <td className="num">{formatNumber(s.max)}</td>
              <td className="num">{s.n}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {stats.length > rows.length && <p className="muted small">The first {rows.length} of {stats.length} neurons.</p>}
    </>
  );
}
