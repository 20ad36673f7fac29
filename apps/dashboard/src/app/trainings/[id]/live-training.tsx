'use client';
/**
 * A training's curves as they happen (the trainingProgress subscription: what it did before is
 * replayed first, then every batch and epoch live, until it ends): the loss of every batch and the
 * validation median r of every epoch. Before the stream answers (and without a socket) the stored
 * epochs are drawn. When the status changes from the one the server rendered, the page is read
 * again on the server (its status, its model). The chart's point counts are in data-batches / data-epochs.
 */
import type { RunStatus } from '@excite/sdk';
import { useRouter } from 'next/navigation';
import { useEffect, useMemo, useRef, useState } from 'react';
import { EChart } from '@/components/echart.tsx';
import { formatNumber } from '@/lib/format.ts';
import { useLiveClient } from '@/lib/live.tsx';
import { type TrainingCurves, addEvent, emptyCurves } from '@/lib/training-curves.ts';

const FRAME_MS = 150;

/** Where the stream is: the last batch. */
interface Position {
  member: number;
  epoch: number;
  batch: number;
  batches: number;
  loss: number;
}
const TERMINAL: readonly RunStatus[] = ['SUCCEEDED', 'FAILED', 'CANCELLED'];

export function LiveTraining({ trainingId, status, initial }: { trainingId: string; status: RunStatus; initial: TrainingCurves }) {
  const client = useLiveClient();
  const router = useRouter();
  const routerRef = useRef(router);
  routerRef.current = router;
  // the status the server rendered (a refresh passes the new one)
  const statusRef = useRef(status);
  statusRef.current = status;
  const [curves, setCurves] = useState<TrainingCurves>(initial);
  const [streamed, setStreamed] = useState(false);
  const [ended, setEnded] = useState(false);
  const [last, setLast] = useState<Position>();

  useEffect(() => {
    if (!client) return;
    const acc = emptyCurves();
    let position: Position | undefined;
    let asked = statusRef.current;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const flush = () => {
      timer = undefined;
      if (stopped) return;
      setStreamed(true);
      setLast(position);
      setCurves({ ...acc, members: acc.members.map((m) => ({ ...m, loss: m.loss.slice(), r: m.r.slice(), valLoss: m.valLoss.slice() })) });
    };
    const stream = client.trainingProgress({ training: trainingId });
    (async () => {
      try {
        for await (const event of stream) {
          if (stopped) break;
          addEvent(acc, event);
          if (event.kind === 'BATCH') position = { member: event.member, epoch: event.epoch, batch: event.batch ?? 0, batches: event.batches ?? 0, loss: event.loss ?? Number.NaN };
          // running, queued again, ended: the page (its status, its model) is read again on the server
          // (a finished one's replayed changes are not news)
          if (event.kind === 'STATUS' && !TERMINAL.includes(statusRef.current) && event.status !== asked) {
            asked = event.status;
            routerRef.current.refresh();
          }
          timer ??= setTimeout(flush, FRAME_MS);
        }
      } catch {
        // the socket closed: the page keeps what it has
      }
      clearTimeout(timer);
      flush();
      if (!stopped) setEnded(true);
    })();
    return () => {
      stopped = true;
      clearTimeout(timer);
      void stream.return(undefined);
    };
  }, [client, trainingId]);

  const lossOption = useMemo(
    () => ({
      animation: false,
      grid: { left: 56, right: 16, top: 28, bottom: 36 },
      tooltip: { trigger: 'axis' },
      legend: curves.members.length > 1 ? { top: 0 } : undefined,
      xAxis: { type: 'value', name: 'epoch', nameLocation: 'middle', nameGap: 24, min: 0 },
      yAxis: { type: 'value', name: 'loss per image', scale: true },
      series: curves.members.map((m) => ({ type: 'line', name: `member ${m.member + 1}`, showSymbol: false, data: m.loss })),
    }),
    [curves],
  );
  const rOption = useMemo(
    () => ({
      animation: false,
      grid: { left: 56, right: 16, top: 28, bottom: 36 },
      tooltip: { trigger: 'axis' },
      legend: curves.members.length > 1 ? { top: 0 } : undefined,
      xAxis: { type: 'value', name: 'epoch', nameLocation: 'middle', nameGap: 24, minInterval: 1, min: 0 },
      yAxis: { type: 'value', name: 'median r (validation)', scale: true },
      series: curves.members.map((m) => ({ type: 'line', name: `member ${m.member + 1}`, data: m.r, symbolSize: 6 })),
    }),
    [curves],
  );

  return (
    <>
      {last && !ended && (
        <p className="small" data-testid="live-position">
          live: {curves.members.length > 1 || last.member > 0 ? `member ${last.member + 1}, ` : ''}epoch {last.epoch}, batch {last.batch}/{last.batches}, loss {formatNumber(last.loss)}
          {curves.members.at(-1)?.r.length ? `, last median r ${formatNumber(curves.members.at(-1)!.r.at(-1)![1])}` : ''}
        </p>
      )}
      <div className="training-curves" data-testid="training-curves" data-batches={curves.batches} data-epochs={curves.epochs} data-streamed={streamed} data-ended={ended}>
        <div>
          <h3>Loss per batch</h3>
          {curves.batches === 0 && <p className="muted small">{streamed || ended ? 'No batch yet.' : 'Waiting for the first batch…'}</p>}
          <EChart option={lossOption} height={260} label="training loss per batch" testId="loss-chart" />
        </div>
        <div>
          <h3>Median r per epoch</h3>
          <EChart option={rOption} height={260} label="validation median r per epoch" testId="r-chart" />
        </div>
      </div>
    </>
  );
}
