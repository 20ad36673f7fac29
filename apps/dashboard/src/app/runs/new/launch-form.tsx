'use client';
/**
 * Launch: a generator, neurons (a list or a whole session), methods, seeds and settings; one
 * startRuns call, then the batch's live view. Settings left blank take each method's defaults;
 * only the settings some chosen method takes are shown and sent.
 */
import { type ExciteClient, type Method, type StartRunsInput, type SynthesisSettingsInput } from '@excite/sdk';
import { useRouter } from 'next/navigation';
import { type FormEvent, useMemo, useState } from 'react';
import { ErrorNotice, Loaded } from '@/components/pending.tsx';
import { RoleGate, useRole } from '@/components/role-gate.tsx';
import { NeuronFields } from '@/components/neuron-fields.tsx';
import { SessionGate } from '@/components/session-gate.tsx';
import { useExcite } from '@/lib/excite-context.tsx';
import { METHOD_LABEL } from '@/lib/format.ts';
import { parseIndexSpec } from '@/lib/neuron-spec.ts';
import { useResource } from '@/lib/use-resource.ts';

const METHODS: readonly Method[] = ['GA', 'EGG', 'EGG_X0', 'MENI', 'TOP_K', 'DIVERSE', 'RECONSTRUCTION'];
const DIFFUSION: readonly Method[] = ['EGG', 'EGG_X0', 'MENI', 'DIVERSE', 'RECONSTRUCTION'];

type SettingName = keyof SynthesisSettingsInput;
/** What each method takes (apps/api/src/runs/settings.ts), and the defaults shown as placeholders. */
const TAKES: Record<Method, readonly SettingName[]> = {
  GA: ['steps', 'lr', 'norm', 'optimizer'],
  EGG: ['steps', 'scale', 'norm'],
  EGG_X0: ['steps', 'scale', 'norm'],
  MENI: ['steps', 'scale', 'norm'],
  RECONSTRUCTION: ['steps', 'scale', 'norm'],
  DIVERSE: ['steps', 'scale', 'norm', 'diversity', 'setSize'],
  TOP_K: ['k'],
};
const SETTING_HINT: Record<Exclude<SettingName, 'optimizer'>, string> = {
  steps: 'GA 1001, EGG 100, MENI 50',
  scale: 'EGG 10, MENI 2',
  norm: '25',
  lr: '10',
  diversity: '1',
  setSize: '4',
  k: '8',
};

export interface LaunchPrefill {
  generator?: string;
  session?: string;
  neurons?: string;
  methods?: string;
}

async function loadChoices(client: ExciteClient, signal: AbortSignal) {
  const [encoders, priors, datasets] = await Promise.all([
    client.encoders({ filter: { kind: ['ENCODER', 'ENSEMBLE'] }, first: 100 }, { signal }),
    client.priors({ first: 50 }, { signal }),
    client.datasets({ first: 50 }, { signal }),
  ]);
  return { encoders: encoders.nodes, priors: priors.nodes, datasets: datasets.nodes };
}

export function LaunchForm({ prefill }: { prefill: LaunchPrefill }) {
  return (
    <SessionGate>
      <h1>Launch runs</h1>
      <RoleGate needed="RUN" what="Starting runs">
        <LaunchFormContent prefill={prefill} />
      </RoleGate>
    </SessionGate>
  );
}

function LaunchFormContent({ prefill }: { prefill: LaunchPrefill }) {
  const choices = useResource(loadChoices, []);
  return <Loaded resource={choices} what="models">{(c) => <Form choices={c} prefill={prefill} />}</Loaded>;
}

function Form({ choices, prefill }: { choices: Awaited<ReturnType<typeof loadChoices>>; prefill: LaunchPrefill }) {
  const { client } = useExcite();
  const router = useRouter();
  const canRun = useRole('RUN');
  const [generatorId, setGeneratorId] = useState(prefill.generator ?? choices.encoders[0]?.id ?? '');
  const generator = choices.encoders.find((e) => e.id === generatorId);
  const [session, setSession] = useState(prefill.session ?? generator?.sessions[0] ?? '');
  const [wholeSession, setWholeSession] = useState(false);
  const [neurons, setNeurons] = useState(prefill.neurons ?? '0');
  const [methods, setMethods] = useState<Method[]>(() => (prefill.methods ? (prefill.methods.split(',').filter((m) => METHODS.includes(m as Method)) as Method[]) : ['GA']));
  const [seeds, setSeeds] = useState('0');
  const [settings, setSettings] = useState<Partial<Record<SettingName, string>>>({});
  const [priorId, setPriorId] = useState(choices.priors[0]?.id ?? '');
  const [datasetId, setDatasetId] = useState(choices.datasets[0]?.id ?? '');
  const [targets, setTargets] = useState('0-3');
  const [label, setLabel] = useState('');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  const taken = useMemo(() => new Set(methods.flatMap((m) => TAKES[m])), [methods]);
  const needsPrior = methods.some((m) => DIFFUSION.includes(m));
  const needsDataset = methods.includes('TOP_K') || methods.includes('RECONSTRUCTION');
  const sessions = generator?.sessions ?? [];

  const toggle = (m: Method) => setMethods((ms) => (ms.includes(m) ? ms.filter((x) => x !== m) : [...ms, m]));

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!client || !generator) return;
    setError(undefined);
    setBusy(true);
    try {
      let neuronInputs: { session: string; index: number }[] | undefined;
      if (methods.some((m) => m !== 'RECONSTRUCTION')) {
        if (wholeSession) {
          neuronInputs = [];
          for await (const n of client.paginate('neurons', { filter: { session, encoder: generator.id } }, { pageSize: 500 })) neuronInputs.push({ session: n.session, index: n.index });
        } else neuronInputs = parseIndexSpec(neurons).map((index) => ({ session, index }));
      }
      const chosen: SynthesisSettingsInput = {};
      for (const [name, value] of Object.entries(settings) as [SettingName, string][]) {
        if (!taken.has(name) || value.trim() === '') continue;
        if (name === 'optimizer') chosen.optimizer = value as 'ADAMW' | 'SGD';
        else (chosen as Record<string, number>)[name] = Number(value);
      }
      const input: StartRunsInput = {
        generator: generator.id,
        methods,
        neurons: neuronInputs,
        seeds: parseIndexSpec(seeds, 100),
        settings: chosen,
        prior: needsPrior && priorId ? priorId : undefined,
        dataset: needsDataset && datasetId ? datasetId : undefined,
        targetImages: methods.includes('RECONSTRUCTION') ? parseIndexSpec(targets) : undefined,
        label: label.trim() || undefined,
      };
      const batch = await client.startRuns({ input, runsFirst: 1 });
      router.push(`/batches/${batch.id}`);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  }

  if (!choices.encoders.length) return <p className="muted">No encoder is registered: upload one (excite models upload) or start with the demo models.</p>;

  return (
    <form className="card launch-form" onSubmit={submit} aria-label="launch runs">
      <fieldset>
        <legend>Generator and neurons</legend>
        <label>
          Generator
          <select
            name="generator"
            value={generatorId}
            onChange={(e) => {
              setGeneratorId(e.target.value);
              setSession(choices.encoders.find((x) => x.id === e.target.value)?.sessions[0] ?? '');
            }}
          >
            {choices.encoders.map((e) => (
              <option key={e.id} value={e.id}>
                {e.name} ({e.kind.toLowerCase()}, {e.neuronCount} neurons)
              </option>
            ))}
          </select>
        </label>
        <NeuronFields sessions={sessions} session={session} onSession={setSession} neurons={neurons} onNeurons={setNeurons} neuronsDisabled={wholeSession} />
        <label className="inline">
          <input type="checkbox" name="whole-session" checked={wholeSession} onChange={(e) => setWholeSession(e.target.checked)} /> the whole session
        </label>
      </fieldset>

      <fieldset>
        <legend>Methods</legend>
        {METHODS.map((m) => (
          <label key={m} className="inline">
            <input type="checkbox" name={`method-${m}`} checked={methods.includes(m)} onChange={() => toggle(m)} /> {METHOD_LABEL[m]}
          </label>
        ))}
      </fieldset>

      <fieldset>
        <legend>Seeds and settings</legend>
        <label>
          Seeds
          <input name="seeds" value={seeds} onChange={(e) => setSeeds(e.target.value)} placeholder="0,1" />
        </label>
        {(Object.keys(SETTING_HINT) as (keyof typeof SETTING_HINT)[])
          .filter((name) => taken.has(name))
          .map((name) => (
            <label key={name}>
              {name}
              <input name={name} type="number" step="any" value={settings[name] ?? ''} placeholder={`default: ${SETTING_HINT[name]}`} onChange={(e) => setSettings((s) => ({ ...s, [name]: e.target.value }))} />
            </label>
          ))}
        {taken.has('optimizer') && (
          <label>
            GA optimizer
            <select name="optimizer" value={settings.optimizer ?? ''} onChange={(e) => setSettings((s) => ({ ...s, optimizer: e.target.value }))}>
              <option value="">default (AdamW)</option>
              <option value="ADAMW">AdamW</option>
              <option value="SGD">SGD</option>
            </select>
          </label>
        )}
        {needsPrior && (
          <label>
            Prior
            <select name="prior" value={priorId} onChange={(e) => setPriorId(e.target.value)}>
              {choices.priors.map((p) => (
                <option key={p.id} value={p.id}>
                  {p.name}
                </option>
              ))}
            </select>
          </label>
        )}
        {needsDataset && (
          <label>
            Dataset
            <select name="dataset" value={datasetId} onChange={(e) => setDatasetId(e.target.value)}>
              {choices.datasets.length ? (
                choices.datasets.map((d) => (
                  <option key={d.id} value={d.id}>
                    {d.name} ({d.imageCount} images)
                  </option>
                ))
              ) : (
                <option value="">none registered (excite models upload / POST /upload/dataset)</option>
              )}
            </select>
          </label>
        )}
        {methods.includes('RECONSTRUCTION') && (
          <label>
            Target images
            <input name="targets" value={targets} onChange={(e) => setTargets(e.target.value)} />
          </label>
        )}
        <label>
          Label
          <input name="label" value={label} onChange={(e) => setLabel(e.target.value)} placeholder="optional" />
        </label>
      </fieldset>

      {error !== undefined && <ErrorNotice error={error} title="The runs were not started" />}
      <button type="submit" disabled={busy || !methods.length || !canRun}>
        {busy ? 'Starting…' : 'Start runs'}
      </button>
    </form>
  );
}
