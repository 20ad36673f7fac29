'use client';
/**
 * The start-training form: kind, recordings, the readout and preset (ENCODER) or the core (READOUT),
 * members, seed, epochs, name, the image range and validation fraction, and the batch size. One
 * startTraining (a server action); blank fields take the service's defaults. A refusal shows the
 * service's code and message.
 */
import type { StartTrainingInput, TrainingArchitecture, TrainingKind } from '@excite/sdk';
import { useRouter } from 'next/navigation';
import { type FormEvent, useState } from 'react';
import { startTrainingAction } from '@/app/actions.ts';
import { ErrorNotice } from '@/components/pending.tsx';

export interface TrainingChoices {
  datasets: readonly { id: string; name: string; imageCount: number; neuronCount: number | null }[];
  cores: readonly { id: string; name: string; kind: string }[];
}

const PRESETS = ['demo', 'demo-alt', 'paper'];

/** A blank field is unset (the service's default); otherwise a number (NaN: not one). */
const numberOrUndefined = (s: string) => (s.trim() === '' ? undefined : Number(s));

export function TrainingForm({ datasets, cores, prefillDataset }: TrainingChoices & { prefillDataset?: string }) {
  const router = useRouter();
  const [kind, setKind] = useState<TrainingKind>('ENCODER');
  const [chosen, setChosen] = useState<string[]>(() => (prefillDataset ? [prefillDataset] : datasets[0] ? [datasets[0].id] : []));
  const [architecture, setArchitecture] = useState<TrainingArchitecture>('ATTENTION');
  const [preset, setPreset] = useState('demo');
  const [core, setCore] = useState(cores[0]?.id ?? '');
  const [members, setMembers] = useState('');
  const [seed, setSeed] = useState('');
  const [maxEpochs, setMaxEpochs] = useState('');
  const [batchSize, setBatchSize] = useState('');
  const [name, setName] = useState('');
  const [range, setRange] = useState('');
  const [validationFraction, setValidationFraction] = useState('');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  if (!datasets.length) return <p className="muted">No recording is uploaded yet: upload a dataset with responses.npy on the Datasets page first.</p>;

  const toggle = (id: string, on: boolean) => setChosen((c) => (on ? [...c.filter((x) => x !== id), id] : c.filter((x) => x !== id)));

  async function submit(e: FormEvent) {
    e.preventDefault();
    setError(undefined);
    const input: StartTrainingInput = { kind, datasets: chosen };
    if (kind === 'ENCODER') {
      input.architecture = architecture;
      input.preset = preset;
      if (members.trim()) input.members = numberOrUndefined(members);
    } else input.core = core || undefined;
    if (seed.trim()) input.seed = numberOrUndefined(seed);
    if (maxEpochs.trim()) input.maxEpochs = numberOrUndefined(maxEpochs);
    if (name.trim()) input.name = name.trim();
    if (range.trim() || validationFraction.trim()) input.images = { range: range.trim() || undefined, validationFraction: numberOrUndefined(validationFraction) };
    if (batchSize.trim()) input.settings = { batchSize: numberOrUndefined(batchSize) };
    setBusy(true);
    try {
      const result = await startTrainingAction(input);
      if ('error' in result) setError(result.error);
      else router.push(`/trainings/${result.ok.id}`);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="card launch-form" onSubmit={submit} aria-label="start a training">
      <fieldset>
        <legend>What to train</legend>
        <label>
          kind
          <select name="kind" value={kind} onChange={(e) => setKind(e.target.value as TrainingKind)}>
            <option value="ENCODER">encoder (a core and readouts)</option>
            <option value="READOUT">readouts on a trained core</option>
          </select>
        </label>
        {kind === 'ENCODER' ? (
          <>
            <label>
              readout
              <select name="architecture" value={architecture} onChange={(e) => setArchitecture(e.target.value as TrainingArchitecture)}>
                <option value="ATTENTION">attention</option>
                <option value="GAUSSIAN">gaussian</option>
              </select>
            </label>
            <label>
              preset
              <select name="preset" value={preset} onChange={(e) => setPreset(e.target.value)}>
                {PRESETS.map((p) => (
                  <option key={p}>{p}</option>
                ))}
              </select>
            </label>
            <label>
              members
              <input name="members" type="number" min={1} max={8} placeholder="1" value={members} onChange={(e) => setMembers(e.target.value)} />
            </label>
          </>
        ) : (
          <label>
            core (kept frozen)
            <select name="core" value={core} onChange={(e) => setCore(e.target.value)}>
              {cores.map((c) => (
                <option key={c.id} value={c.id}>
                  {c.name} ({c.kind.toLowerCase()})
                </option>
              ))}
            </select>
          </label>
        )}
        <label>
          name
          <input name="name" placeholder="kind and dataset names" value={name} onChange={(e) => setName(e.target.value)} />
        </label>
      </fieldset>
      <fieldset>
        <legend>Recordings (one session each)</legend>
        {datasets.map((d) => (
          <label key={d.id} className="inline">
            <input type="checkbox" name="datasets" value={d.id} checked={chosen.includes(d.id)} onChange={(e) => toggle(d.id, e.target.checked)} />
            {d.name} <span className="muted small">({d.imageCount} images, {d.neuronCount} neurons)</span>
          </label>
        ))}
      </fieldset>
      <fieldset>
        <legend>Recipe (blank: the default)</legend>
        <label>
          seed
          <input name="seed" type="number" min={0} placeholder="1" value={seed} onChange={(e) => setSeed(e.target.value)} />
        </label>
        <label>
          max epochs
          <input name="maxEpochs" type="number" min={1} max={1000} placeholder="200" value={maxEpochs} onChange={(e) => setMaxEpochs(e.target.value)} />
        </label>
        <label>
          batch size
          <input name="batchSize" type="number" min={1} max={512} placeholder="64" value={batchSize} onChange={(e) => setBatchSize(e.target.value)} />
        </label>
        <label>
          images (columns A:B)
          <input name="range" placeholder="all" value={range} onChange={(e) => setRange(e.target.value)} />
        </label>
        <label>
          validation fraction
          <input name="validationFraction" type="number" step="0.01" min={0.05} max={0.5} placeholder="0.1" value={validationFraction} onChange={(e) => setValidationFraction(e.target.value)} />
        </label>
      </fieldset>
      <button type="submit" disabled={busy || chosen.length === 0}>
        {busy ? 'Starting…' : 'Start the training'}
      </button>
      {error !== undefined && <ErrorNotice error={error} title="The training was not started" />}
    </form>
  );
}
