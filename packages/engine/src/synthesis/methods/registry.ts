/**
 * The synthesis methods, one declaration each in this folder. Adding a method is one file here and
 * one line below; the service's GraphQL enum `Method` lists the same names (a test holds them equal).
 */
import { diverseMethod } from './diverse.ts';
import { type ImageShape, guidanceScaleFor } from '../guidance-scale.ts';
import { eggX0Method } from './egg-x0.ts';
import { eggMethod } from './egg.ts';
import { gaMethod } from './ga.ts';
import { meniMethod } from './meni.ts';
import type { MethodDefinition, MethodName, MethodSettings, NumberSetting, SettingName, SettingSpec } from './method.ts';
import { reconMethod } from './recon.ts';
import { topkMethod } from './topk.ts';

export type { MethodName };

/** Every method by name, in the order the command line and the dashboard list them. */
const DEFINITIONS: { [N in MethodName]: MethodDefinition<N> } = { ga: gaMethod, egg: eggMethod, 'egg-x0': eggX0Method, meni: meniMethod, recon: reconMethod, topk: topkMethod, diverse: diverseMethod };

export const METHODS: ReadonlyMap<MethodName, MethodDefinition> = new Map(Object.values(DEFINITIONS).map((d) => [d.name, d as MethodDefinition]));

/** The names as a non-empty tuple (for database enums and command-line choices). */
export const METHOD_NAMES = [...METHODS.keys()] as [MethodName, ...MethodName[]];

export function methodOf(name: string): MethodDefinition {
  const method = METHODS.get(name as MethodName);
  if (!method) throw new Error(`unknown method "${name}" (one of ${METHOD_NAMES.join(', ')})`);
  return method;
}

/** A setting outside its method's range, or given to a method that does not take it. */
export class SettingError extends Error {
  constructor(
    readonly setting: string,
    message: string,
  ) {
    super(message);
    this.name = 'SettingError';
  }
}

export interface SettingLimits {
  /** an upper bound on steps over the methods' own (a service's limit) */
  maxSteps?: number;
}

/** What a size-scaled default (the guidance scale) is resolved against. */
export interface SettingContext {
  /** the prior's image shape; without it a size-scaled setting left unset stays unset (the method scales it from its prior) */
  priorShape?: ImageShape;
}

function rangeOf(spec: NumberSetting, max: number | undefined): string {
  const kind = spec.kind === 'integer' ? 'an integer' : 'a finite number';
  if (max !== undefined) return `${kind} from ${spec.min}${spec.minExclusive ? ' (exclusive)' : ''} to ${max}`;
  return `${kind} ${spec.minExclusive ? '>' : '>='} ${spec.min}`;
}

/** Throws a SettingError when `value` is outside `spec`'s range. */
function checkSetting(name: string, spec: SettingSpec, value: unknown, limits: SettingLimits = {}): void {
  if (spec.kind === 'choice') {
    if (typeof value !== 'string' || !spec.choices.includes(value)) throw new SettingError(name, `settings.${name} must be one of ${spec.choices.join(', ')}, got ${String(value)}`);
    return;
  }
  const max = name === 'steps' && limits.maxSteps !== undefined ? Math.min(spec.max ?? Infinity, limits.maxSteps) : spec.max;
  const n = value as number;
  const ok =
    typeof n === 'number' &&
    Number.isFinite(n) &&
    (spec.kind === 'number' || Number.isInteger(n)) &&
    (spec.minExclusive ? n > spec.min : n >= spec.min) &&
    (max === undefined || n <= max);
  if (!ok) throw new SettingError(name, `settings.${name} must be ${rangeOf(spec, max)}, got ${String(value)}`);
}

/**
 * A method's settings: its defaults under what the caller gave (a setting left undefined keeps the
 * default), each checked against its range. A setting the method does not take is an error. A
 * size-scaled default (the guidance scale) is the method's reference scaled to `context.priorShape`
 * (guidanceScaleFor); a value the caller gave is used as it is.
 */
export function resolveSettings(method: MethodDefinition, given: MethodSettings = {}, limits: SettingLimits = {}, context: SettingContext = {}): MethodSettings {
  const resolved: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(method.settings) as [SettingName, SettingSpec][]) {
    if (spec.default !== undefined) resolved[name] = spec.default;
    else if (spec.kind !== 'choice' && spec.sizeScaled && context.priorShape) resolved[name] = guidanceScaleFor(spec.sizeScaled.reference, context.priorShape);
  }
  for (const [name, value] of Object.entries(given) as [SettingName, unknown][]) {
    if (value === undefined || value === null) continue;
    const spec = method.settings[name];
    if (!spec) throw new SettingError(name, `settings.${name} is not a setting of ${method.name} (it takes ${Object.keys(method.settings).join(', ') || 'none'})`);
    checkSetting(name, spec, value, limits);
    resolved[name] = value;
  }
  return resolved as MethodSettings;
}

/**
 * The settings of each method of a batch (a comparison, a service batch): a setting applies to the
 * methods that take it; one that no method of the batch takes is an error, not silently ignored.
 */
export function resolveBatchSettings(methods: readonly MethodName[], given: MethodSettings = {}, limits: SettingLimits = {}, context: SettingContext = {}): Map<MethodName, MethodSettings> {
  const definitions = methods.map(methodOf);
  const set = (Object.entries(given) as [SettingName, unknown][]).filter(([, v]) => v !== undefined && v !== null);
  for (const [name] of set) {
    if (!definitions.some((d) => d.settings[name])) throw new SettingError(name, `settings.${name} is taken by none of the methods ${methods.join(', ')}`);
  }
  return new Map(definitions.map((d) => [d.name, resolveSettings(d, Object.fromEntries(set.filter(([name]) => d.settings[name])), limits, context)]));
}
