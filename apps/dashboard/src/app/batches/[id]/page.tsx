/**
 * One batch's runs, rendered on the server: counts, each run's card, a finished run's images and
 * trajectory (each in its own Suspense boundary). The live parts are client components: an
 * unfinished run's preview and curves (its runProgress subscription), and a status subscription
 * that re-renders the page when a run starts, ends or is cancelled.
 */
import { type ExciteClient, type Run, isFinished } from '@excite/sdk';
import type { Metadata } from 'next';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { Suspense } from 'react';
import { cancelBatchAction, cancelRunAction } from '@/app/actions.ts';
import { ActionButton } from '@/components/action-button.tsx';
import { ErrorNotice, Loading } from '@/components/pending.tsx';
import { ProgressCurves } from '@/components/progress-curves.tsx';
import { SignInPrompt } from '@/components/sign-in-prompt.tsx';
import { StatusBadge } from '@/components/status-badge.tsx';
import { METHOD_LABEL, neuronLabel } from '@/lib/format.ts';
import { LiveProvider, LiveRefresh } from '@/lib/live.tsx';
import { firstSeries, parseNpy } from '@/lib/npy.ts';
import { roleAllows } from '@/lib/roles.ts';
import { browserApiLocation, getSession } from '@/lib/server/session.ts';
import { FinalImages } from './final-images.tsx';
import { LiveRun } from './live-run.tsx';

export const metadata: Metadata = { title: 'Runs' };

/** Runs shown (and followed) at once. */
const PAGE = 48;

export default async function BatchPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const session = await getSession();
  if (session.status !== 'signed-in') return <SignInPrompt session={session} next={`/batches/${id}`} />;
  const { client, token, viewer } = session;
  const batch = await client.batch({ id, runsFirst: PAGE });
  if (!batch) notFound();
  const canRun = roleAllows(viewer.role, 'RUN');
  const runs = batch.runs.nodes;
  const c = batch.counts;
  return (
    <LiveProvider api={browserApiLocation()} token={token}>
      {!batch.done && <LiveRefresh batch={batch.id} />}
      <div className="title-row">
        <h1>{batch.label ?? `Batch ${batch.id.slice(0, 8)}`}</h1>
        <span className="muted" data-testid="batch-counts">
          {batch.runCount} runs: {c.succeeded} succeeded, {c.running} running, {c.queued} queued{c.failed ? `, ${c.failed} failed` : ''}
          {c.cancelled ? `, ${c.cancelled} cancelled` : ''}
        </span>
        {!batch.done && canRun && <ActionButton action={cancelBatchAction.bind(null, batch.id)} label="Cancel the batch" className="danger" failed="Not cancelled" />}
        {batch.done && <span className="tag">done</span>}
      </div>
      <div className="run-grid">
        {runs.map((r) => (
          <RunCard key={r.id} run={r} client={client} canRun={canRun} />
        ))}
      </div>
      {batch.runs.totalCount > runs.length && (
        <p className="muted">
          {batch.runs.totalCount - runs.length} more runs are not shown here; see <code>excite runs watch {batch.id}</code>.
        </p>
      )}
      {runs.every(isFinished) && runs.some((r) => r.neuron) && (
        <p>
          Compare the images of a neuron:{' '}
          {[...new Map(runs.filter((r) => r.neuron).map((r) => [`${r.neuron!.session}/${r.neuron!.index}`, r.neuron!])).values()].slice(0, 12).map((n) => (
            <Link key={`${n.session}/${n.index}`} href={`/neurons/${n.session}/${n.index}`} className="chip">
              {n.session}:{n.index}
            </Link>
          ))}
        </p>
      )}
    </LiveProvider>
  );
}

function RunCard({ run, client, canRun }: { run: Run; client: ExciteClient; canRun: boolean }) {
  const finished = isFinished(run);
  return (
    <article className="card run-card" data-testid="run-card" data-run={run.id} data-status={run.status}>
      <header>
        <strong>
          {METHOD_LABEL[run.method]} · {neuronLabel(run.neuron)}
          {run.targetImage !== null && run.targetImage !== undefined ? ` · target ${run.targetImage}` : ''} · seed {run.seed}
        </strong>
        <StatusBadge status={run.status} />
      </header>
      <div className="muted small">
        {run.generator.name}
        {run.prior ? ` · prior ${run.prior.name}` : ''}
        {finished ? ` · step ${run.progress.step}/${run.progress.steps}` : ''}
        {run.attempts > 1 ? ` · attempt ${run.attempts}` : ''}
        {run.device ? ` · ${run.device}` : ''}
      </div>
      {finished ? (
        <>
          <progress max={run.progress.steps || 1} value={run.progress.step} />
          <Suspense fallback={<Loading what="the run's images" />}>
            <FinalResult id={run.id} client={client} />
          </Suspense>
        </>
      ) : (
        <LiveRun runId={run.id} initial={{ step: run.progress.step, steps: run.progress.steps, activation: run.progress.activation ?? null }} />
      )}
      {run.error && <ErrorNotice error={new Error(run.error.message)} title={run.error.code} />}
      {!finished && canRun && <ActionButton action={cancelRunAction.bind(null, run.id)} label="Cancel" className="danger small" failed="Not cancelled" />}
    </article>
  );
}

/** A finished run's stored images and its whole trajectory (the .npy blobs, read here on the server). */
async function FinalResult({ id, client }: { id: string; client: ExciteClient }) {
  const run = await client.run({ id });
  if (!run) return null;
  let curves: { stepAxis: number[]; energy: number[]; activation: number[] } | null = null;
  if (run.trajectory) {
    const [energy, activation] = await Promise.all([client.download(run.trajectory.energy), client.download(run.trajectory.activation)]);
    const e = firstSeries(parseNpy(energy));
    curves = { stepAxis: e.map((_, i) => i + 1), energy: e, activation: firstSeries(parseNpy(activation)) };
  }
  return (
    <>
      <FinalImages
        title={`${METHOD_LABEL[run.method]} · ${neuronLabel(run.neuron)} · seed ${run.seed}`}
        images={run.images.map((i) => ({ id: i.id, url: i.png.url, width: i.width, activation: i.activation, method: i.method, recorded: i.recorded }))}
        succeeded={run.status === 'SUCCEEDED'}
      />
      {curves && curves.stepAxis.length > 1 && <ProgressCurves stepAxis={curves.stepAxis} energy={curves.energy} activation={curves.activation} />}
    </>
  );
}
