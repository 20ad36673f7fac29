'use client';
/**
 * An unfinished run, live: its progress, the preview of every step and the energy and activation
 * curves from its runProgress subscription. When the stream ends (the run ended) the page is read
 * again on the server, which then shows the stored images.
 */
import { useRouter } from 'next/navigation';
import { useEffect } from 'react';
import { ProgressCurves } from '@/components/progress-curves.tsx';
import { formatNumber } from '@/lib/format.ts';
import { useRunProgress } from '@/lib/use-run-progress.ts';

const IMAGE_SIZE = 128;

export function LiveRun({ runId, initial }: { runId: string; initial: { step: number; steps: number; activation: number | null } }) {
  const live = useRunProgress(runId, true);
  const router = useRouter();
  useEffect(() => {
    if (live.ended) router.refresh();
  }, [live.ended, router]);
  const step = Math.max(live.step, initial.step);
  const steps = live.steps || initial.steps;
  const activation = live.activation.at(-1) ?? initial.activation;
  return (
    <>
      <div className="muted small" data-testid="live-step">
        step {step}/{steps}
        {live.attempt > 1 ? ` · attempt ${live.attempt}` : ''}
      </div>
      <progress max={steps || 1} value={step} />
      <div className="run-images">
        {live.preview ? (
          <img className="pixelated" src={live.preview} alt={`preview at step ${step}`} width={IMAGE_SIZE} height={IMAGE_SIZE} data-testid="preview" data-step={step} />
        ) : (
          <span className="image-placeholder" style={{ width: IMAGE_SIZE, height: IMAGE_SIZE }}>
            waiting for the first step
          </span>
        )}
        <div className="muted small">activation {formatNumber(activation)}</div>
      </div>
      {live.stepAxis.length > 1 && <ProgressCurves stepAxis={live.stepAxis} energy={live.energy} activation={live.activation} />}
      {live.error && <p className="error-text small">The progress stream stopped: {live.error}</p>}
    </>
  );
}
