/**
 * A batch's settings resolved per method: the methods' defaults (the engine's; docs/synthesis.md)
 * under what the user set, each setting checked against its range. A setting applies to the methods
 * that take it; one that no method of the batch takes is an error, not silently ignored.
 */
import { MENI_DEFAULTS, RECONSTRUCTION_DEFAULTS } from '@excite/engine';
import type { Method, RunSettings } from '../db/schema.ts';
import { ServiceError } from '../graphql/errors.ts';

export type SettingName = keyof RunSettings;

export interface SettingsInput {
  steps?: number | null;
  scale?: number | null;
  norm?: number | null;
  lr?: number | null;
  optimizer?: 'adamw' | 'sgd' | null;
  diversity?: number | null;
  setSize?: number | null;
  k?: number | null;
}

/** Each method's settings and defaults (GA: ga.ts; EGG: egg.ts; MENI, reconstruction: their files). */
export const METHOD_DEFAULTS: Record<Method, RunSettings> = {
  ga: { steps: 1001, lr: 10, norm: 25, optimizer: 'adamw' },
  egg: { steps: 100, scale: 10, norm: 25 },
  'egg-x0': { steps: 100, scale: 10, norm: 25 },
  meni: { steps: MENI_DEFAULTS.steps, scale: MENI_DEFAULTS.scale, norm: MENI_DEFAULTS.norm },
  // the norm of a reconstruction is its target image's unless set
  recon: { steps: RECONSTRUCTION_DEFAULTS.steps, scale: RECONSTRUCTION_DEFAULTS.scale },
  diverse: { steps: 100, scale: 10, norm: 25, diversity: 1, setSize: 4 },
  topk: { steps: 1, k: 8 },
};

const TAKES: Record<Method, readonly SettingName[]> = {
  ga: ['steps', 'lr', 'norm', 'optimizer'],
  egg: ['steps', 'scale', 'norm'],
  'egg-x0': ['steps', 'scale', 'norm'],
  meni: ['steps', 'scale', 'norm'],
  recon: ['steps', 'scale', 'norm'],
  diverse: ['steps', 'scale', 'norm', 'diversity', 'setSize'],
  topk: ['k'],
};

export const DIFFUSION_METHODS: readonly Method[] = ['egg', 'egg-x0', 'meni', 'recon', 'diverse'];

function check(name: string, value: number, ok: boolean, range: string): void {
  if (!ok) throw new ServiceError('INVALID_SETTINGS', `settings.${name} must be ${range}, got ${value}`, { setting: name });
}

/** The settings each method of the batch runs with. */
export function resolveSettings(methods: readonly Method[], input: SettingsInput | null | undefined, maxSteps: number): Map<Method, RunSettings> {
  const given = Object.fromEntries(Object.entries(input ?? {}).filter(([, v]) => v !== null && v !== undefined)) as RunSettings;
  for (const name of Object.keys(given) as SettingName[]) {
    if (!methods.some((m) => TAKES[m].includes(name))) throw new ServiceError('INVALID_SETTINGS', `settings.${name} is taken by none of the methods ${methods.map((m) => m.toUpperCase()).join(', ')}`, { setting: name });
  }
  const { steps, scale, norm, lr, diversity, setSize, k } = given;
  if (steps !== undefined) {
    const diffusion = methods.some((m) => DIFFUSION_METHODS.includes(m));
    check('steps', steps, Number.isInteger(steps) && steps >= (diffusion ? 2 : 1) && steps <= maxSteps, `an integer from ${diffusion ? 2 : 1} (diffusion methods respace to at least 2 steps) to ${maxSteps}`);
  }
  if (scale !== undefined) check('scale', scale, Number.isFinite(scale) && scale >= 0, 'a finite number >= 0');
  if (norm !== undefined) check('norm', norm, Number.isFinite(norm) && norm > 0, 'a finite number > 0');
  if (lr !== undefined) check('lr', lr, Number.isFinite(lr) && lr > 0, 'a finite number > 0');
  if (diversity !== undefined) check('diversity', diversity, Number.isFinite(diversity) && diversity >= 0, 'a finite number >= 0');
  if (setSize !== undefined) check('setSize', setSize, Number.isInteger(setSize) && setSize >= 2 && setSize <= 16, 'an integer from 2 to 16');
  if (k !== undefined) check('k', k, Number.isInteger(k) && k >= 1 && k <= 100, 'an integer from 1 to 100');
  return new Map(
    methods.map((m) => {
      const own = Object.fromEntries(TAKES[m].filter((name) => given[name] !== undefined).map((name) => [name, given[name]]));
      return [m, { ...METHOD_DEFAULTS[m], ...own }];
    }),
  );
}
