'use client';
/** The overview: models and their predictive performance, workers and devices, recent batches and runs. */
import type { Batch, Encoder, ExciteClient, Run, WorkerStatus } from '@excite/sdk';
import Link from 'next/link';
import { Loaded } from '@/components/pending.tsx';
import { SessionGate } from '@/components/session-gate.tsx';
import { StatusBadge } from '@/components/status-badge.tsx';
import { METHOD_LABEL, formatNumber, formatTime, neuronLabel } from '@/lib/format.ts';
import { architectureLine, predictivePerformance } from '@/lib/model-summary.ts';
import { useResource } from '@/lib/use-resource.ts';

/** Batches come oldest first: the overview takes a page this long and shows its end. */
const BATCH_WINDOW = 500;

async function loadOverview(client: ExciteClient, signal: AbortSignal) {
  const [encoders, priors, datasets, workers, batches, unfinished, queued, comparisons] = await Promise.all([
    client.encoders({ first: 100 }, { signal }),
    client.priors({ first: 20 }, { signal }),
    client.datasets({ first: 20 }, { signal }),
    client.workers(undefined, { signal }),
    client.batches({ first: BATCH_WINDOW }, { signal }),
    client.runs({ filter: { status: ['RUNNING', 'QUEUED'] }, first: 20 }, { signal }),
    client.runs({ filter: { status: ['QUEUED'] }, first: 1 }, { signal }).then((r) => r.totalCount),
    client.comparisons({ first: 100 }, { signal }),
  ]);
  return { encoders, priors, datasets, workers, batches, unfinished, queued, comparisons };
}

export function Overview() {
  return (
    <SessionGate>
      <OverviewContent />
    </SessionGate>
  );
}

function OverviewContent() {
  const overview = useResource(loadOverview, [], { every: 3000 });
  return (
    <Loaded resource={overview} what="the overview">
      {(o) => (
        <div className="overview">
          <section className="card" aria-labelledby="models">
            <h2 id="models">Models</h2>
            <ModelsTable encoders={o.encoders.nodes} />
            <p className="muted">
              Priors: {o.priors.nodes.map((p) => `${p.name} (${p.imageSize}x${p.imageSize}x${p.channels})`).join(', ') || 'none'} · Datasets:{' '}
              {o.datasets.nodes.map((d) => `${d.name} (${d.imageCount} images)`).join(', ') || 'none'}
            </p>
          </section>
          <section className="card" aria-labelledby="workers">
            <h2 id="workers">Workers</h2>
            <WorkersTable workers={o.workers} queued={o.queued} />
          </section>
          <section className="card" aria-labelledby="batches">
            <h2 id="batches">Recent batches</h2>
            <BatchesTable batches={o.batches.nodes.slice(-10).reverse()} total={o.batches.totalCount} />
          </section>
          <section className="card" aria-labelledby="unfinished">
            <h2 id="unfinished">Unfinished runs</h2>
            <UnfinishedRuns runs={o.unfinished.nodes} total={o.unfinished.totalCount} />
          </section>
          <section className="card" aria-labelledby="comparisons">
            <h2 id="comparisons">Comparisons</h2>
            {o.comparisons.nodes.length ? (
              <ul className="plain">
                {o.comparisons.nodes
                  .slice(-5)
                  .reverse()
                  .map((c) => (
                    <li key={c.id}>
                      <Link href={`/comparisons/${c.id}`}>{c.name ?? c.id.slice(0, 8)}</Link> · {c.generators.length} generators x {c.methods.length} methods x {c.neurons.length} neurons ·{' '}
                      {c.batch.done ? 'done' : `${c.batch.counts.succeeded}/${c.batch.runCount} runs`}
                    </li>
                  ))}
              </ul>
            ) : (
              <p className="muted">
                None yet: <Link href="/comparisons">start one</Link>.
              </p>
            )}
          </section>
        </div>
      )}
    </Loaded>
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
      <p className="muted">{queued} runs queued.</p>
    </>
  );
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
      {total > BATCH_WINDOW && <p className="muted">The {BATCH_WINDOW} oldest of {total} batches were read; newer ones are not listed.</p>}
    </>
  );
}

function UnfinishedRuns({ runs, total }: { runs: readonly Run[]; total: number }) {
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
