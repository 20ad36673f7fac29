'use client';
/**
 * One batch's runs, live: each unfinished run follows its progress subscription (preview image,
 * energy and activation curves); the batch's state is re-read while runs are unfinished, and a
 * run that ended shows its final images and full trajectory. Tokens with the run role can cancel.
 */
import { type Batch, type ExciteClient, type Run, isFinished } from '@excite/sdk';
import Link from 'next/link';
import { useState } from 'react';
import { ErrorNotice, Loaded } from '@/components/pending.tsx';
import { useRole } from '@/components/role-gate.tsx';
import { SessionGate } from '@/components/session-gate.tsx';
import { useExcite } from '@/lib/excite-context.tsx';
import { useResource } from '@/lib/use-resource.ts';
import { RunCard } from './run-card.tsx';

/** Runs shown (and followed) at once. */
const PAGE = 48;

async function loadBatch(client: ExciteClient, id: string, signal: AbortSignal) {
  const batch = await client.batch({ id, runsFirst: PAGE }, { signal });
  return batch;
}

export function BatchWatch({ id }: { id: string }) {
  return (
    <SessionGate>
      <BatchContent id={id} />
    </SessionGate>
  );
}

function BatchContent({ id }: { id: string }) {
  const batch = useResource((client, signal) => loadBatch(client, id, signal), [id], { every: (b) => (b && !b.done ? 1500 : undefined) });
  return (
    <Loaded resource={batch} what="the batch">
      {(b) =>
        b ? (
          <BatchView batch={b} runs={b.runs.nodes} total={b.runs.totalCount} reload={batch.reload} />
        ) : (
          <ErrorNotice error={new Error(`There is no batch ${id}.`)} title="Not found" />
        )
      }
    </Loaded>
  );
}

function BatchView({ batch, runs, total, reload }: { batch: Batch; runs: readonly Run[]; total: number; reload: () => void }) {
  const { client } = useExcite();
  const canRun = useRole('RUN');
  const [error, setError] = useState<unknown>();
  const cancelBatch = async () => {
    setError(undefined);
    try {
      await client!.cancelBatch({ id: batch.id });
      reload();
    } catch (e) {
      setError(e);
    }
  };
  const c = batch.counts;
  return (
    <div>
      <div className="title-row">
        <h1>{batch.label ?? `Batch ${batch.id.slice(0, 8)}`}</h1>
        <span className="muted" data-testid="batch-counts">
          {batch.runCount} runs: {c.succeeded} succeeded, {c.running} running, {c.queued} queued{c.failed ? `, ${c.failed} failed` : ''}
          {c.cancelled ? `, ${c.cancelled} cancelled` : ''}
        </span>
        {!batch.done && canRun && (
          <button type="button" className="danger" onClick={cancelBatch}>
            Cancel the batch
          </button>
        )}
        {batch.done && <span className="tag">done</span>}
      </div>
      {error !== undefined && <ErrorNotice error={error} title="Not cancelled" />}
      <div className="run-grid">
        {runs.map((r) => (
          <RunCard key={r.id} run={r} onChanged={reload} />
        ))}
      </div>
      {total > runs.length && (
        <p className="muted">
          {total - runs.length} more runs are not shown here; see <Link href="/">the overview</Link> or <code>excite runs watch {batch.id}</code>.
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
    </div>
  );
}
