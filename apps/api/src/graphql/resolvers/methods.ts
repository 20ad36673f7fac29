/** The `methods` query: the engine's method registry as the dashboard's forms and clients read it. */
import { METHODS, type MethodDefinition, PRESETS, type SettingSpec, defaultLabel } from '@excite/engine';
import { MAX_SEED, MAX_TRAINING_DATASETS, TRAINING_DEFAULTS, TRAINING_RANGES, TRAINING_SETTING_DESCRIPTIONS } from '../../runs/start-training.ts';
import type { MethodInfo, MethodSetting, TrainingOptions } from '../generated/resolvers.ts';

/** Engine choice values as the schema's enums name them (adamw: ADAMW). */
const enumName = (value: string) => value.toUpperCase().replace(/-/g, '_');

function setting(name: string, spec: SettingSpec, maxSteps: number): MethodSetting {
  if (spec.kind === 'choice') return { name, description: spec.description, kind: 'choice', defaultChoice: enumName(spec.default), choices: spec.choices.map(enumName), minExclusive: false };
  const max = name === 'steps' ? Math.min(spec.max ?? Infinity, maxSteps) : spec.max;
  // a size-scaled default has no one value (it follows the prior): its description names the reference
  const description = spec.sizeScaled ? `${spec.description}; default ${defaultLabel(spec)}` : spec.description;
  return { name, description, kind: spec.kind, default: spec.default ?? null, min: spec.min, minExclusive: spec.minExclusive ?? false, max: max ?? null };
}

function info(method: MethodDefinition, maxSteps: number): MethodInfo {
  return {
    method: method.name,
    description: method.description,
    needsPrior: method.needs.prior,
    needsDataset: method.needs.dataset,
    imageKind: method.imageKind,
    settings: Object.entries(method.settings).map(([name, spec]) => setting(name, spec, maxSteps)),
  };
}

export function methodInfos(maxSteps: number): MethodInfo[] {
  return [...METHODS.values()].map((m) => info(m, maxSteps));
}

/** The `trainingOptions` query: start-training.ts's ranges and defaults, the engine's presets. */
export function trainingOptions(): TrainingOptions {
  const ranges: Record<string, { min: number; max: number; integer?: boolean; above?: boolean; below?: boolean }> = { ...TRAINING_RANGES, seed: { min: 0, max: MAX_SEED, integer: true } };
  return {
    kinds: ['encoder', 'readout'],
    architectures: ['attention', 'gaussian'],
    presets: Object.entries(PRESETS).map(([name, p]) => ({ name, inputHeight: p.input.height, inputWidth: p.input.width, channels: p.core.channels, layers: p.core.layers })),
    defaultPreset: 'demo',
    settings: Object.entries(ranges).map(([name, r]) => ({
      name,
      description: TRAINING_SETTING_DESCRIPTIONS[name as keyof typeof TRAINING_SETTING_DESCRIPTIONS],
      integer: r.integer ?? false,
      default: (TRAINING_DEFAULTS as Record<string, number>)[name],
      min: r.min,
      minExclusive: r.above ?? false,
      max: r.max,
      maxExclusive: r.below ?? false,
    })),
    maxDatasets: MAX_TRAINING_DATASETS,
  };
}
