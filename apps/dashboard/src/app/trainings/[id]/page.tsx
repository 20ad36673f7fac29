/**
 * A training: its status and recipe (read on the server), its loss and median-r curves live from
 * the trainingProgress subscription, a cancel button while it is unfinished, and once it succeeded
 * the model it registered, its held-out r, and the link to launch MEIs for its neurons.
 */
import { type ExciteClient, type TrainingFieldsFragment, isFinished } from '@excite/sdk';
import type { Metadata } from 'next';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { Suspense } from 'react';
import { cancelTrainingAction } from '@/app/actions.ts';
import { ActionButton } from '@/components/action-button.tsx';
import { ErrorNotice, Loading } from '@/components/pending.tsx';
import { SignInPrompt } from '@/components/sign-in-prompt.tsx';
import { StatusBadge } from '@/components/status-badge.tsx';
import { formatNumber, formatTime } from '@/lib/format.ts';
import { LiveProvider } from '@/lib/live.tsx';
import { roleAllows } from '@/lib/roles.ts';
import { browserApiLocation, getSession } from '@/lib/server/session.ts';
import { curvesFromHistory } from '@/lib/training-curves.ts';
import { LiveTraining } from './live-training.tsx';
import { ModelMetrics, type SessionMetrics } from './model-metrics.tsx';

export const metadata: Metadata = { title: 'Training' };

const seconds = (s: number | null | undefined) => (s == null ? '—' : s < 120 ? `${Math.round(s)} s` : `${Math.round(s / 60)} min`);

export default async function TrainingPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const session = await getSession();
  if (session.status !== 'signed-in') return <SignInPrompt session={session} next={`/trainings/${id}`} />;
  const { client, token, viewer } = session;
  const training = await client.training({ id });
  if (!training) notFound();
  const finished = isFinished(training);
  const canRun = roleAllows(viewer.role, 'RUN');
  const r = training.recipe;
  return (
    <LiveProvider api={browserApiLocation()} token={token}>
      <h1>
        {training.name} <StatusBadge status={training.status} />
      </h1>
      <p className="muted" data-testid="training-status" data-status={training.status}>
        {training.kind.toLowerCase()} training of {training.datasets.map((d, i) => (
          <span key={d.id}>
            {i > 0 && ', '}
            <Link href={`/datasets/${d.id}`}>{d.name}</Link>
          </span>
        ))}
        {training.core && (
          <>
            {' '}
            on the core of <Link href={`/runs/new?generator=${training.core.id}`}>{training.core.name}</Link>
          </>
        )}
        , started {formatTime(training.startedAt ?? training.createdAt)}
        {!finished && canRun && (
          <>
            {' '}
            <ActionButton action={cancelTrainingAction.bind(null, training.id)} label="Cancel the training" className="danger small" failed="Not cancelled" />
          </>
        )}
      </p>
      {training.error && <ErrorNotice error={training.error} title={`The training ${training.status === 'CANCELLED' ? 'was cancelled' : 'failed'}`} />}
      {training.model && <ModelCard client={client} model={training.model} />}
      <section className="card">
        <h2>Progress</h2>
        <Progress training={training} />
        <LiveTraining trainingId={training.id} status={training.status} initial={curvesFromHistory(training.history)} />
      </section>
      <section className="card">
        <h2>Recipe</h2>
        <table className="facts" data-testid="training-recipe">
          <tbody>
            <tr>
              <th>readout</th>
              <td>{r.architecture.toLowerCase()}</td>
              <th>preset</th>
              <td>{r.preset ?? '(the core’s)'}</td>
              <th>members</th>
              <td>{r.members}</td>
              <th>seed</th>
              <td>{r.seed}</td>
            </tr>
            <tr>
              <th>images</th>
              <td>{r.imageRange ?? 'all'}</td>
              <th>validation</th>
              <td>{r.validationFraction}</td>
              <th>max epochs</th>
              <td>{r.maxEpochs}</td>
              <th>batch size</th>
              <td>{r.batchSize}</td>
            </tr>
            <tr>
              <th>lr</th>
              <td>{r.lr}</td>
              <th>patience</th>
              <td>{r.patience}</td>
              <th>decay</th>
              <td>
                ×{r.decayFactor}, at most {r.maxDecays}
              </td>
              <th>min lr</th>
              <td>{r.minLr}</td>
            </tr>
          </tbody>
        </table>
      </section>
    </LiveProvider>
  );
}

function Progress({ training: t }: { training: TrainingFieldsFragment }) {
  return (
    <table className="facts">
      <tbody>
        <tr>
          <th>member</th>
          <td>
            {Math.min(t.member + 1, t.members)}/{t.members}
          </td>
          <th>epoch</th>
          <td>
            {t.epoch}/{t.maxEpochs}
            {t.steps > 0 && !isFinished(t) ? ` (batch ${t.step}/${t.steps})` : ''}
          </td>
          <th>attempts</th>
          <td>{t.attempts}</td>
          <th>worker</th>
          <td>{t.worker ? `${t.worker}${t.device ? ` (${t.device})` : ''}` : '—'}</td>
        </tr>
        <tr>
          <th>validation loss</th>
          <td>
            {formatNumber(t.lastValLoss)} (best {formatNumber(t.bestValLoss)})
          </td>
          <th className="num">median r</th>
          <td data-testid="last-r">
            {formatNumber(t.lastValCorrelation)} (best {formatNumber(t.bestValCorrelation)})
          </td>
          <th>elapsed</th>
          <td>{seconds(t.elapsedSeconds)}</td>
          <th>left at most</th>
          <td>{seconds(t.remainingSeconds)}</td>
        </tr>
      </tbody>
    </table>
  );
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** The held-out metrics of each session, as the trainer writes them to model.json ({validation: {<session>: {median_r, mean_r, neurons}}}). */
function sessionMetrics(metrics: unknown): SessionMetrics[] {
  const validation = isObject(metrics) && isObject(metrics.validation) ? metrics.validation : {};
  return Object.entries(validation)
    .filter((e): e is [string, Json] => isObject(e[1]))
    .map(([session, m]) => ({ session, medianR: num(m.median_r), meanR: num(m.mean_r), neurons: num(m.neurons), r: Array.isArray(m.r) && m.r.every((x) => typeof x === 'number') ? (m.r as number[]) : null }));
}

function ModelCard({ client, model }: { client: ExciteClient; model: NonNullable<TrainingFieldsFragment['model']> }) {
  return (
    <section className="card" data-testid="trained-model" data-model={model.id}>
      <h2>The model</h2>
      <p>
        <strong>{model.name}</strong> ({model.kind.toLowerCase()}, {model.neuronCount} neurons of {model.sessions.join(', ')}) is registered and generates at once:{' '}
        {model.sessions.map((s) => (
          <Link key={s} className="launch-link" data-testid="launch-link" href={`/runs/new?generator=${model.id}&session=${encodeURIComponent(s)}`}>
            launch MEIs for the neurons of {s}
          </Link>
        ))}
      </p>
      <Suspense fallback={<Loading what="the model's metrics" />}>
        <Metrics client={client} id={model.id} />
      </Suspense>
    </section>
  );
}

async function Metrics({ client, id }: { client: ExciteClient; id: string }) {
  const encoder = await client.encoder({ id, neuronsFirst: 0 });
  const sessions = sessionMetrics(encoder?.metrics);
  if (!sessions.length) return <p className="muted">The model states no held-out metrics.</p>;
  const perNeuron = sessions.some((s) => s.r);
  return (
    <>
      <h3>{perNeuron ? 'Per-neuron validation r' : 'Validation r per session'}</h3>
      <ModelMetrics sessions={sessions} />
      <table data-testid="model-metrics">
        <thead>
          <tr>
            <th>session</th>
            <th className="num">neurons</th>
            <th className="num">median r</th>
            <th className="num">mean r</th>
          </tr>
        </thead>
        <tbody>
          {sessions.map((s) => (
            <tr key={s.session}>
              <td>{s.session}</td>
              <td className="num">{s.neurons ?? '—'}</td>
              <td className="num" data-value={s.medianR ?? ''}>
                {formatNumber(s.medianR)}
              </td>
              <td className="num" data-value={s.meanR ?? ''}>
                {formatNumber(s.meanR)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {!perNeuron && <p className="muted small">The model's metrics hold each session's median and mean validation r, not each neuron's, so there is no per-neuron histogram.</p>}
    </>
  );
}
