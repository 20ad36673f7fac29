'use client';
/**
 * Launch: a generator, neurons (a list or a whole session), methods, seeds and settings; one
 * startRuns call (a server action, with the session's token), then the batch's live view. The
 * methods, the settings each takes and their defaults and ranges come from the service's `methods`
 * query (read by the page on the server); only the settings some chosen method takes are shown and
 * sent, and those left blank take each method's default.
 */
import type { Dataset, Encoder, ExciteClient, Method, Prior, StartRunsInput, SynthesisSettingsInput } from '@excite/sdk';
import { useRouter } from 'next/navigation';
import { type FormEvent, useMemo, useState } from 'react';
import { startRunsAction } from '@/app/actions.ts';
import { NeuronFields } from '@/components/neuron-fields.tsx';
import { ErrorNotice } from '@/components/pending.tsx';
import { METHOD_LABEL } from '@/lib/format.ts';
import { parseIndexSpec } from '@/lib/neuron-spec.ts';

type SettingName = keyof SynthesisSettingsInput;
type MethodInfo = Awaited<ReturnType<ExciteClient['methods']>>[number];

/** A setting's placeholder: each chosen method's default ("GA 1001, EGG 100"), or the one they share. */
function hint(name: SettingName, chosen: readonly MethodInfo[]): string {
  const defaults = chosen.flatMap((m) => m.settings.filter((s) => s.name === name).map((s) => ({ method: m.method, value: s.default ?? s.defaultChoice ?? 'auto' })));
  if (new Set(defaults.map((d) => d.value)).size === 1) return String(defaults[0].value);
  return defaults.map((d) => `${METHOD_LABEL[d.method]} ${d.value}`).join(', ');
}

export interface LaunchPrefill {
  generator?: string;
  session?: string;
  neurons?: string;
  methods?: string;
}

export interface LaunchChoices {
  encoders: readonly Encoder[];
  priors: readonly Prior[];
  datasets: readonly Dataset[];
  methods: readonly MethodInfo[];
}

export function LaunchForm({ choices, prefill }: { choices: LaunchChoices; prefill: LaunchPrefill }) {
  const router = useRouter();
  const [generatorId, setGeneratorId] = useState(prefill.generator ?? choices.encoders[0]?.id ?? '');
  const generator = choices.encoders.find((e) => e.id === generatorId);
  const [session, setSession] = useState(prefill.session ?? generator?.sessions[0] ?? '');
  const [wholeSession, setWholeSession] = useState(false);
  const [neurons, setNeurons] = useState(prefill.neurons ?? '0');
  const known = choices.methods.map((m) => m.method);
  const [methods, setMethods] = useState<Method[]>(() => (prefill.methods ? (prefill.methods.split(',').filter((m) => known.includes(m as Method)) as Method[]) : ['GA']));
  const [seeds, setSeeds] = useState('0');
  const [settings, setSettings] = useState<Partial<Record<SettingName, string>>>({});
  const [priorId, setPriorId] = useState(choices.priors[0]?.id ?? '');
  const [datasetId, setDatasetId] = useState(choices.datasets[0]?.id ?? '');
  const [targets, setTargets] = useState('0-3');
  const [label, setLabel] = useState('');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  const chosenMethods = useMemo(() => choices.methods.filter((m) => methods.includes(m.method)), [choices.methods, methods]);
  // the settings the chosen methods take, in the order the registry lists them
  const taken = useMemo(() => [...new Set(chosenMethods.flatMap((m) => m.settings.map((s) => s.name as SettingName)))], [chosenMethods]);
  const settingOf = (name: SettingName) => chosenMethods.flatMap((m) => m.settings).find((s) => s.name === name)!;
  const needsPrior = chosenMethods.some((m) => m.needsPrior);
  const needsDataset = chosenMethods.some((m) => m.needsDataset);
  const sessions = generator?.sessions ?? [];

  const toggle = (m: Method) => setMethods((ms) => (ms.includes(m) ? ms.filter((x) => x !== m) : [...ms, m]));

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!generator) return;
    setError(undefined);
    setBusy(true);
    try {
      const withNeurons = methods.some((m) => m !== 'RECONSTRUCTION');
      const neuronInputs = withNeurons && !wholeSession ? parseIndexSpec(neurons).map((index) => ({ session, index })) : undefined;
      const chosen: SynthesisSettingsInput = {};
      for (const [name, value] of Object.entries(settings) as [SettingName, string][]) {
        if (!taken.includes(name) || value.trim() === '') continue;
        if (name === 'optimizer') chosen.optimizer = value as NonNullable<SynthesisSettingsInput['optimizer']>;
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
      const result = await startRunsAction(input, withNeurons && wholeSession ? session : undefined);
      if ('error' in result) {
        setError(result.error);
        setBusy(false);
      } else router.push(`/batches/${result.ok.id}`);
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
        {choices.methods.map(({ method: m, description }) => (
          <label key={m} className="inline" title={description}>
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
        {taken.map((name) => {
          const setting = settingOf(name);
          if (setting.kind === 'CHOICE')
            return (
              <label key={name}>
                {name}
                <select name={name} value={settings[name] ?? ''} onChange={(e) => setSettings((s) => ({ ...s, [name]: e.target.value }))}>
                  <option value="">default ({hint(name, chosenMethods)})</option>
                  {(setting.choices ?? []).map((c) => (
                    <option key={c} value={c}>
                      {c}
                    </option>
                  ))}
                </select>
              </label>
            );
          return (
            <label key={name} title={setting.description}>
              {name}
              <input name={name} type="number" step={setting.kind === 'INTEGER' ? 1 : 'any'} min={setting.min ?? undefined} max={setting.max ?? undefined} value={settings[name] ?? ''} placeholder={`default: ${hint(name, chosenMethods)}`} onChange={(e) => setSettings((s) => ({ ...s, [name]: e.target.value }))} />
            </label>
          );
        })}
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
      <button type="submit" disabled={busy || !methods.length}>
        {busy ? 'Starting…' : 'Start runs'}
      </button>
    </form>
  );
}
