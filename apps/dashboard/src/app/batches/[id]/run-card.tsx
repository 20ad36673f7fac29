'use client';
/** One run: live while it samples (preview per step, curves), its final images and trajectory once it ended. */
import { type Run, type RunDetails, isFinished } from '@excite/sdk';
import { useState } from 'react';
import { BlobImage } from '@/components/blob-image.tsx';
import { ErrorNotice, Loaded } from '@/components/pending.tsx';
import { ProgressCurves } from '@/components/progress-curves.tsx';
import { useRole } from '@/components/role-gate.tsx';
import { StatusBadge } from '@/components/status-badge.tsx';
import { ZoomDialog } from '@/components/zoom-dialog.tsx';
import { useExcite } from '@/lib/excite-context.tsx';
import { METHOD_LABEL, formatNumber, neuronLabel } from '@/lib/format.ts';
import { useResource } from '@/lib/use-resource.ts';
import { useRunProgress } from '@/lib/use-run-progress.ts';
import { useTrajectory } from '@/lib/use-trajectory.ts';

const IMAGE_SIZE = 128;

export function RunCard({ run, onChanged }: { run: Run; onChanged: () => void }) {
  const finished = isFinished(run);
  const live = useRunProgress(run.id, !finished || run.status === 'RUNNING');
  const { client } = useExcite();
  const canRun = useRole('RUN');
  const [error, setError] = useState<unknown>();
  const cancel = async () => {
    try {
      await client!.cancelRun({ id: run.id });
      onChanged();
    } catch (e) {
      setError(e);
    }
  };
  const step = Math.max(live.step, run.progress.step);
  const steps = live.steps || run.progress.steps;
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
        {run.prior ? ` · prior ${run.prior.name}` : ''} · step {step}/{steps}
        {run.attempts > 1 ? ` · attempt ${run.attempts}` : ''}
        {run.device ? ` · ${run.device}` : ''}
      </div>
      <progress max={steps || 1} value={step} />
      {finished ? <FinalResult run={run} /> : <LivePreview preview={live.preview} step={step} activation={live.activation.at(-1) ?? run.progress.activation} />}
      {!finished && live.stepAxis.length > 1 && <ProgressCurves stepAxis={live.stepAxis} energy={live.energy} activation={live.activation} />}
      {run.error && <ErrorNotice error={new Error(run.error.message)} title={run.error.code} />}
      {error !== undefined && <ErrorNotice error={error} title="Not cancelled" />}
      {!finished && canRun && (
        <button type="button" className="danger small" onClick={cancel}>
          Cancel
        </button>
      )}
    </article>
  );
}

function LivePreview({ preview, step, activation }: { preview?: string; step: number; activation?: number | null }) {
  return (
    <div className="run-images">
      {preview ? (
        // eslint-disable-next-line @next/next/no-img-element -- a data URL from the subscription
        <img className="pixelated" src={preview} alt={`preview at step ${step}`} width={IMAGE_SIZE} height={IMAGE_SIZE} data-testid="preview" data-step={step} />
      ) : (
        <span className="image-placeholder" style={{ width: IMAGE_SIZE, height: IMAGE_SIZE }}>
          waiting for the first step
        </span>
      )}
      <div className="muted small">activation {formatNumber(activation)}</div>
    </div>
  );
}

function FinalResult({ run }: { run: Run }) {
  const details = useResource((client, signal) => client.run({ id: run.id }, { signal }), [run.id, run.status]);
  return <Loaded resource={details} what="the run's images">{(d) => (d ? <FinalImages run={d} /> : null)}</Loaded>;
}

function FinalImages({ run }: { run: RunDetails }) {
  const trajectory = useTrajectory(run.trajectory);
  const [zoomed, setZoomed] = useState<number>();
  return (
    <>
      <div className="run-images">
        {run.images.map((image, i) => (
          <figure key={image.id}>
            <BlobImage url={image.png.url} alt={`${METHOD_LABEL[image.method]} image ${i}`} size={run.images.length > 1 ? 64 : IMAGE_SIZE} testId="final-image" onClick={() => setZoomed(i)} />
            <figcaption className="small">activation {formatNumber(image.activation)}</figcaption>
          </figure>
        ))}
        {!run.images.length && run.status === 'SUCCEEDED' && <span className="muted">no images</span>}
      </div>
      {zoomed !== undefined && run.images[zoomed] && (
        <ZoomDialog url={run.images[zoomed].png.url} width={run.images[zoomed].width} title={`${METHOD_LABEL[run.method]} · ${neuronLabel(run.neuron)} · seed ${run.seed}`} onClose={() => setZoomed(undefined)} />
      )}
      {run.trajectory && (
        <Loaded resource={trajectory} what="the trajectory">
          {(t) => (t && t.stepAxis.length > 1 ? <ProgressCurves stepAxis={t.stepAxis} energy={t.energy} activation={t.activation} /> : null)}
        </Loaded>
      )}
    </>
  );
}
