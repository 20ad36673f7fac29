'use client';
/**
 * A run's steps as they happen (the runProgress subscription: earlier steps replayed, then live
 * ones, until the run ends): the latest preview and the energy and activation curves. Events come
 * at the worker's pace (tens a second); the view takes them at most every `frameMs`. The page's
 * live client (lib/live.tsx) carries the subscription.
 */
import { useEffect, useState } from 'react';
import { useLiveClient } from './live.tsx';

export interface LiveProgress {
  step: number;
  steps: number;
  attempt: number;
  /** data:image/png;base64 of the latest step that carried one */
  preview?: string;
  /** previews received (a replay carries only the latest) */
  previews: number;
  stepAxis: number[];
  energy: number[];
  activation: number[];
  /** the stream completed: the run ended */
  ended: boolean;
  error?: string;
}

const EMPTY: LiveProgress = { step: 0, steps: 0, attempt: 1, previews: 0, stepAxis: [], energy: [], activation: [], ended: false };

export function useRunProgress(runId: string, active: boolean, frameMs = 100): LiveProgress {
  const client = useLiveClient();
  const [progress, setProgress] = useState<LiveProgress>(EMPTY);

  useEffect(() => {
    if (!client || !active) return;
    const acc: LiveProgress = { ...EMPTY, stepAxis: [], energy: [], activation: [] };
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const flush = () => {
      timer = undefined;
      if (!stopped) setProgress({ ...acc, stepAxis: acc.stepAxis.slice(), energy: acc.energy.slice(), activation: acc.activation.slice() });
    };
    const stream = client.runProgress({ run: runId });
    (async () => {
      try {
        for await (const event of stream) {
          if (stopped) break;
          // a retried run goes on from its checkpoint: its steps replace those after it
          const from = acc.stepAxis.findIndex((s) => s >= event.step);
          if (from >= 0) for (const a of [acc.stepAxis, acc.energy, acc.activation]) a.length = from;
          acc.stepAxis.push(event.step);
          acc.energy.push(event.energy);
          acc.activation.push(event.activation);
          Object.assign(acc, { step: event.step, steps: event.steps, attempt: event.attempt });
          if (event.preview) {
            acc.preview = event.preview.dataUrl;
            acc.previews++;
          }
          timer ??= setTimeout(flush, frameMs);
        }
        acc.ended = true;
      } catch (e) {
        acc.error = (e as Error).message;
      }
      clearTimeout(timer);
      flush();
    })();
    return () => {
      stopped = true;
      clearTimeout(timer);
      void stream.return(undefined);
    };
  }, [client, runId, active, frameMs]);

  return progress;
}
