'use client';
/**
 * Start a comparison: generators x methods over neurons of a session, every image scored by the
 * evaluators (default: every registered model that predicts the neurons, ground truth included).
 * The models come from the page (read on the server); the comparison starts through a server action.
 */
import type { Encoder, Method } from '@excite/sdk';
import { useRouter } from 'next/navigation';
import { type FormEvent, useState } from 'react';
import { startComparisonAction } from '@/app/actions.ts';
import { NeuronFields } from '@/components/neuron-fields.tsx';
import { ErrorNotice } from '@/components/pending.tsx';
import { METHOD_LABEL } from '@/lib/format.ts';
import { parseIndexSpec } from '@/lib/neuron-spec.ts';

export function ComparisonForm({ models: { encoders: models, methods: METHODS } }: { models: { encoders: readonly Encoder[]; methods: readonly Method[] } }) {
  const router = useRouter();
  const generatorsAvailable = models.filter((m) => m.kind === 'ENCODER' || m.kind === 'ENSEMBLE');
  const sessions = [...new Set(generatorsAvailable.flatMap((m) => m.sessions))].sort();
  const [name, setName] = useState('');
  const [generators, setGenerators] = useState<string[]>(() => generatorsAvailable.map((m) => m.id));
  const [evaluators, setEvaluators] = useState<string[]>([]);
  const [methods, setMethods] = useState<Method[]>(['GA', 'EGG']);
  const [session, setSession] = useState(sessions[0] ?? '');
  const [neurons, setNeurons] = useState('0-4');
  const [seeds, setSeeds] = useState('0');
  const [steps, setSteps] = useState('');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const toggle = <T,>(list: T[], set: (v: T[]) => void, v: T) => set(list.includes(v) ? list.filter((x) => x !== v) : [...list, v]);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const result = await startComparisonAction({
        name: name.trim() || undefined,
        generators,
        evaluators: evaluators.length ? evaluators : undefined,
        methods,
        neurons: parseIndexSpec(neurons).map((index) => ({ session, index })),
        seeds: parseIndexSpec(seeds, 100),
        settings: steps.trim() ? { steps: Number(steps) } : undefined,
      });
      if ('error' in result) {
        setError(result.error);
        setBusy(false);
      } else router.push(`/comparisons/${result.ok.id}`);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  }

  if (!generatorsAvailable.length) return <p className="muted">No encoder is registered to generate images.</p>;
  return (
    <form className="card launch-form" onSubmit={submit} aria-label="start a comparison">
      <h2>New comparison</h2>
      <fieldset>
        <legend>Generators</legend>
        {generatorsAvailable.map((m) => (
          <label key={m.id} className="inline">
            <input type="checkbox" name={`generator-${m.name}`} checked={generators.includes(m.id)} onChange={() => toggle(generators, setGenerators, m.id)} /> {m.name}
          </label>
        ))}
      </fieldset>
      <fieldset>
        <legend>Evaluators (none ticked: every model that predicts the neurons)</legend>
        {models.map((m) => (
          <label key={m.id} className="inline">
            <input type="checkbox" name={`evaluator-${m.name}`} checked={evaluators.includes(m.id)} onChange={() => toggle(evaluators, setEvaluators, m.id)} /> {m.name}
            {m.kind === 'COMPACT' ? ' (ground truth)' : ''}
          </label>
        ))}
      </fieldset>
      <fieldset>
        <legend>Methods</legend>
        {METHODS.map((m) => (
          <label key={m} className="inline">
            <input type="checkbox" name={`method-${m}`} checked={methods.includes(m)} onChange={() => toggle(methods, setMethods, m)} /> {METHOD_LABEL[m]}
          </label>
        ))}
      </fieldset>
      <fieldset>
        <legend>Neurons, seeds, settings</legend>
        <NeuronFields sessions={sessions} session={session} onSession={setSession} neurons={neurons} onNeurons={setNeurons} />
        <label>
          Seeds
          <input name="seeds" value={seeds} onChange={(e) => setSeeds(e.target.value)} />
        </label>
        <label>
          Steps
          <input name="steps" type="number" value={steps} onChange={(e) => setSteps(e.target.value)} placeholder="method defaults" />
        </label>
        <label>
          Name
          <input name="name" value={name} onChange={(e) => setName(e.target.value)} placeholder="optional" />
        </label>
      </fieldset>
      {error !== undefined && <ErrorNotice error={error} title="The comparison was not started" />}
      <button type="submit" disabled={busy || !generators.length || !methods.length}>
        {busy ? 'Starting…' : 'Start the comparison'}
      </button>
    </form>
  );
}
