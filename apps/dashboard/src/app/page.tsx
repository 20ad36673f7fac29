/**
 * The overview, rendered on the server: models and their predictive performance, workers and
 * devices, the newest batches, the unfinished runs, the newest comparisons. Each section reads
 * exactly the rows it shows (newest first) and the counts (the `overview` query) in its own
 * Suspense boundary; a status subscription re-renders the page when runs start or end.
 */
import type { Batch, Encoder, ExciteClient, Run, WorkerStatus } from '@excite/sdk';
import type { Metadata } from 'next';
import Link from 'next/link';
import { redirect } from 'next/navigation';
import { Suspense, cache } from 'react';
import { Loading } from '@/components/pending.tsx';
import { SignInPrompt } from '@/components/sign-in-prompt.tsx';
import { StatusBadge } from '@/components/status-badge.tsx';
import { METHOD_LABEL, formatNumber, formatTime, neuronLabel } from '@/lib/format.ts';
import { LiveProvider, LiveRefresh } from '@/lib/live.tsx';
import { architectureLine, predictivePerformance } from '@/lib/model-summary.ts';
import { browserApiLocation, getSession } from '@/lib/server/session.ts';

export const metadata: Metadata = { title: 'Overview' };

/** Rows each section shows (and reads). */
const OVERVIEW_ROWS = { encoders: 100, priors: 20, datasets: 20, batches: 10, unfinished: 20, comparisons: 5 } as const;

/** The counts, read once per request whichever sections ask. */
const countsOf = cache((client: ExciteClient) => client.overview());

export default async function OverviewPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const { signin, token: linkToken } = await searchParams;
  // the link of earlier versions (/?token=...) signs in like /sign-in?token=...
  if (typeof linkToken === 'string') redirect(`/sign-in?token=${encodeURIComponent(linkToken)}`);
  const session = await getSession();
  if (session.status !== 'signed-in') {
    return <SignInPrompt session={session} signin={typeof signin === 'string' ? signin : undefined} />;
  }
  const { client, token } = session;
  return (
    <LiveProvider api={browserApiLocation()} token={token}>
      <LiveRefresh delayMs={1000} />
      <div className="overview">
        <section className="card" aria-labelledby="models">
          <h2 id="models">Models</h2>
          <Suspense fallback={<Loading what="the models" />}>
            <Models client={client} />
          </Suspense>
        </section>
        <section className="card" aria-labelledby="workers">
          <h2 id="workers">Workers</h2>
          <Suspense fallback={<Loading what="the workers" />}>
            <Workers client={client} />
          </Suspense>
        </section>
        <section className="card" aria-labelledby="batches">
          <h2 id="batches">Recent batches</h2>
          <Suspense fallback={<Loading what="the batches" />}>
            <Batches client={client} />
          </Suspense>
        </section>
        <section className="card" aria-labelledby="unfinished">
          <h2 id="unfinished">Unfinished runs</h2>
          <Suspense fallback={<Loading what="the runs" />}>
            <UnfinishedRuns client={client} />
          </Suspense>
        </section>
        <section className="card" aria-labelledby="comparisons">
          <h2 id="comparisons">Comparisons</h2>
          <Suspense fallback={<Loading what="the comparisons" />}>
            <Comparisons client={client} />
          </Suspense>
        </section>
      </div>
    </LiveProvider>
  );
}

async function Models({ client }: { client: ExciteClient }) {
  const [encoders, priors, datasets, counts] = await Promise.all([
    client.encoders({ first: OVERVIEW_ROWS.encoders }),
    client.priors({ first: OVERVIEW_ROWS.priors }),
    client.datasets({ first: OVERVIEW_ROWS.datasets }),
    countsOf(client),
  ]);
  const more = (shown: number, total: number, what: string) => (total > shown ? ` and ${total - shown} more ${what}` : '');
  return (
    <>
      <ModelsTable encoders={encoders.nodes} />
      {counts.encoders > encoders.nodes.length && <p className="muted">The first {encoders.nodes.length} of {counts.encoders} models (excite models list has them all).</p>}
      <p className="muted">
        Priors: {priors.nodes.map((p) => `${p.name} (${p.imageSize}x${p.imageSize}x${p.channels})`).join(', ') || 'none'}
        {more(priors.nodes.length, counts.priors, 'priors')} · Datasets: {datasets.nodes.map((d) => `${d.name} (${d.imageCount} images)`).join(', ') || 'none'}
        {more(datasets.nodes.length, counts.datasets, 'datasets')}
      </p>
    </>
  );
}

function ModelsTable({ encoders }: { encoders: readonly Encoder[] }) {
  if (!encoders.length) return <p className="muted">No models registered (npm start registers models/demo; excite models upload adds more).</p>;
  return (
    <table data-testid="models-table">
      <thead>
        <tr>
          <th>name</th>
          <th>kind</th>
          <th>architecture</th>
          <th>neurons</th>
          <th>sessions</th>
          <th>predictive performance (median r)</th>
        </tr>
      </thead>
      <tbody>
        {encoders.map((e) => {
          const performance = predictivePerformance(e.metrics);
          return (
            <tr key={e.id}>
              <td>
                <strong>{e.name}</strong>
                <div className="muted small">{e.source.toLowerCase()}</div>
              </td>
              <td>{e.kind.toLowerCase()}</td>
              <td>{architectureLine(e)}</td>
              <td className="num">{e.neuronCount}</td>
              <td>{e.sessions.join(', ')}</td>
              <td>{performance.length ? performance.map((p) => `${p.session || p.split}: ${formatNumber(p.medianR, 2)}`).join(' · ') : <span className="muted">not stated</span>}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

async function Workers({ client }: { client: ExciteClient }) {
  const [workers, counts] = await Promise.all([client.workers(), countsOf(client)]);
  return <WorkersTable workers={workers} queued={counts.runs.queued} />;
}

function WorkersTable({ workers, queued }: { workers: readonly WorkerStatus[]; queued: number }) {
  return (
    <>
      {workers.length ? (
        <table data-testid="workers-table">
          <thead>
            <tr>
              <th>worker</th>
              <th>device</th>
              <th>running</th>
              <th>finished</th>
              <th>last report</th>
            </tr>
          </thead>
          <tbody>
            {workers.map((w) => (
              <tr key={w.name}>
                <td>
                  {w.name} {w.embedded && <span className="tag">embedded</span>}
                </td>
                <td>{w.device}</td>
                <td className="num">{w.running}</td>
                <td className="num">{w.finished}</td>
                <td>{formatTime(w.lastSeenAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p className="muted">No worker reported in the last day (excite worker processes run the jobs of a PostgreSQL deployment).</p>
      )}
      <p className="muted" data-testid="queued-count">
        {queued} runs queued.
      </p>
    </>
  );
}

async function Batches({ client }: { client: ExciteClient }) {
  const [batches, counts] = await Promise.all([client.batches({ first: OVERVIEW_ROWS.batches }), countsOf(client)]);
  return <BatchesTable batches={batches.nodes} total={counts.batches} />;
}

function BatchesTable({ batches, total }: { batches: readonly Batch[]; total: number }) {
  if (!batches.length)
    return (
      <p className="muted">
        No runs yet: <Link href="/runs/new">launch some</Link>.
      </p>
    );
  return (
    <>
      <table data-testid="batches-table">
        <thead>
          <tr>
            <th>batch</th>
            <th>runs</th>
            <th>succeeded</th>
            <th>running</th>
            <th>queued</th>
            <th>failed</th>
            <th>created</th>
          </tr>
        </thead>
        <tbody>
          {batches.map((b) => (
            <tr key={b.id}>
              <td>
                <Link href={`/batches/${b.id}`}>{b.label ?? b.id.slice(0, 8)}</Link>
              </td>
              <td className="num">{b.runCount}</td>
              <td className="num">{b.counts.succeeded}</td>
              <td className="num">{b.counts.running}</td>
              <td className="num">{b.counts.queued}</td>
              <td className="num">{b.counts.failed + b.counts.cancelled ? `${b.counts.failed} (+${b.counts.cancelled} cancelled)` : 0}</td>
              <td>{formatTime(b.createdAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="muted" data-testid="batches-count">
        The newest {batches.length} of {total} batches.
      </p>
    </>
  );
}

async function UnfinishedRuns({ client }: { client: ExciteClient }) {
  const runs = await client.runs({ filter: { status: ['RUNNING', 'QUEUED'] }, first: OVERVIEW_ROWS.unfinished });
  return <RunsTable runs={runs.nodes} total={runs.totalCount} />;
}

function RunsTable({ runs, total }: { runs: readonly Run[]; total: number }) {
  if (!runs.length) return <p className="muted">Nothing is running.</p>;
  return (
    <>
      <table>
        <thead>
          <tr>
            <th>run</th>
            <th>method</th>
            <th>generator</th>
            <th>neuron</th>
            <th>status</th>
            <th>step</th>
            <th>activation</th>
          </tr>
        </thead>
        <tbody>
          {runs.map((r) => (
            <tr key={r.id}>
              <td>
                <Link href={`/batches/${r.batch.id}`}>{r.id.slice(0, 8)}</Link>
              </td>
              <td>{METHOD_LABEL[r.method]}</td>
              <td>{r.generator.name}</td>
              <td>{neuronLabel(r.neuron)}</td>
              <td>
                <StatusBadge status={r.status} />
              </td>
              <td className="num">
                {r.progress.step}/{r.progress.steps}
              </td>
              <td className="num">{formatNumber(r.progress.activation)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {total > runs.length && <p className="muted">and {total - runs.length} more</p>}
    </>
  );
}

async function Comparisons({ client }: { client: ExciteClient }) {
  const [comparisons, counts] = await Promise.all([client.comparisons({ first: OVERVIEW_ROWS.comparisons }), countsOf(client)]);
  if (!comparisons.nodes.length)
    return (
      <p className="muted">
        None yet: <Link href="/comparisons">start one</Link>.
      </p>
    );
  return (
    <>
      <ul className="plain">
        {comparisons.nodes.map((c) => (
          <li key={c.id}>
            <Link href={`/comparisons/${c.id}`}>{c.name ?? c.id.slice(0, 8)}</Link> · {c.generators.length} generators x {c.methods.length} methods x {c.neurons.length} neurons ·{' '}
            {c.batch.done ? 'done' : `${c.batch.counts.succeeded}/${c.batch.runCount} runs`}
          </li>
        ))}
      </ul>
      {counts.comparisons > comparisons.nodes.length && (
        <p className="muted">
          The newest {comparisons.nodes.length} of {counts.comparisons}: <Link href="/comparisons">all comparisons</Link>.
        </p>
      )}
    </>
  );
}

