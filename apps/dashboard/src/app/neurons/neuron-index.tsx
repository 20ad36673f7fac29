'use client';
/** Every recorded neuron of a session, each a link to its page. */
import type { ExciteClient } from '@excite/sdk';
import Link from 'next/link';
import { useState } from 'react';
import { Loaded } from '@/components/pending.tsx';
import { SessionGate } from '@/components/session-gate.tsx';
import { useResource } from '@/lib/use-resource.ts';

async function loadSessions(client: ExciteClient, signal: AbortSignal) {
  const encoders = await client.encoders({ first: 100 }, { signal });
  return [...new Set(encoders.nodes.flatMap((e) => e.sessions))].sort();
}

export function NeuronIndex() {
  return (
    <SessionGate>
      <h1>Neurons</h1>
      <Sessions />
    </SessionGate>
  );
}

function Sessions() {
  const sessions = useResource(loadSessions, []);
  return <Loaded resource={sessions} what="sessions">{(s) => (s.length ? <SessionNeurons sessions={s} /> : <p className="muted">No model predicts any neuron yet.</p>)}</Loaded>;
}

function SessionNeurons({ sessions }: { sessions: string[] }) {
  const [session, setSession] = useState(sessions[0]);
  const neurons = useResource((client, signal) => client.neurons({ filter: { session }, first: 500 }, { signal }), [session]);
  return (
    <section className="card">
      <label>
        Session{' '}
        <select value={session} onChange={(e) => setSession(e.target.value)}>
          {sessions.map((s) => (
            <option key={s}>{s}</option>
          ))}
        </select>
      </label>
      <Loaded resource={neurons} what="neurons">
        {(n) => (
          <div className="chips">
            {n.nodes.map((x) => (
              <Link key={x.id} className="chip" href={`/neurons/${x.session}/${x.index}`} title={`predicted by ${x.encoders.map((e) => e.name).join(', ')}`}>
                {x.index}
              </Link>
            ))}
          </div>
        )}
      </Loaded>
    </section>
  );
}
