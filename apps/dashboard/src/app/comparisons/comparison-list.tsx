'use client';
/** The comparisons so far, and a form that starts one (startComparison). */
import type { ExciteClient } from '@excite/sdk';
import Link from 'next/link';
import { Loaded } from '@/components/pending.tsx';
import { RoleGate } from '@/components/role-gate.tsx';
import { SessionGate } from '@/components/session-gate.tsx';
import { METHOD_LABEL, formatTime } from '@/lib/format.ts';
import { useResource } from '@/lib/use-resource.ts';
import { ComparisonForm } from './comparison-form.tsx';

async function loadComparisons(client: ExciteClient, signal: AbortSignal) {
  return (await client.comparisons({ first: 200 }, { signal })).nodes.slice().reverse();
}

export function ComparisonList() {
  return (
    <SessionGate>
      <h1>Comparisons</h1>
      <Comparisons />
      <RoleGate needed="RUN" what="Starting a comparison">
        <ComparisonForm />
      </RoleGate>
    </SessionGate>
  );
}

function Comparisons() {
  const comparisons = useResource(loadComparisons, [], { every: (cs) => (cs.some((c) => !c.batch.done) ? 3000 : undefined) });
  return (
    <section className="card">
      <Loaded resource={comparisons} what="comparisons">
        {(cs) =>
          cs.length ? (
            <table data-testid="comparisons-table">
              <thead>
                <tr>
                  <th>comparison</th>
                  <th>generators</th>
                  <th>methods</th>
                  <th>neurons</th>
                  <th>evaluators</th>
                  <th>runs</th>
                  <th>started</th>
                </tr>
              </thead>
              <tbody>
                {cs.map((c) => (
                  <tr key={c.id}>
                    <td>
                      <Link href={`/comparisons/${c.id}`}>{c.name ?? c.id.slice(0, 8)}</Link>
                    </td>
                    <td>{c.generators.map((g) => g.name).join(', ')}</td>
                    <td>{c.methods.map((m) => METHOD_LABEL[m]).join(', ')}</td>
                    <td className="num">{c.neurons.length}</td>
                    <td className="num">{c.evaluators.length}</td>
                    <td className="num">
                      {c.batch.counts.succeeded}/{c.batch.runCount}
                      {c.batch.done ? '' : ' …'}
                    </td>
                    <td>{formatTime(c.createdAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            <p className="muted">No comparison yet.</p>
          )
        }
      </Loaded>
    </section>
  );
}
