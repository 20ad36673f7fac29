/** The `methods` query: the engine's method registry as the dashboard's forms and clients read it. */
import { METHODS, type MethodDefinition, type SettingSpec } from '@excite/engine';
import type { MethodInfo, MethodSetting } from '../generated/resolvers.ts';

/** Engine choice values as the schema's enums name them (adamw: ADAMW). */
const enumName = (value: string) => value.toUpperCase().replace(/-/g, '_');

function setting(name: string, spec: SettingSpec, maxSteps: number): MethodSetting {
  if (spec.kind === 'choice') return { name, description: spec.description, kind: 'choice', defaultChoice: enumName(spec.default), choices: spec.choices.map(enumName), minExclusive: false };
  const max = name === 'steps' ? Math.min(spec.max ?? Infinity, maxSteps) : spec.max;
  return { name, description: spec.description, kind: spec.kind, default: spec.default ?? null, min: spec.min, minExclusive: spec.minExclusive ?? false, max: max ?? null };
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
