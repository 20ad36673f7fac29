/**
 * A batch's settings resolved per method by the engine's method registry: each method's defaults
 * under what the user set, each setting checked against its range, one that no method of the batch
 * takes refused. The engine's SettingError becomes the service's INVALID_SETTINGS.
 */
import { type ImageShape, type MethodSettings, SettingError, methodOf, resolveBatchSettings } from '@excite/engine';
import type { Method, RunSettings } from '../db/schema.ts';
import { ServiceError } from '../errors.ts';

/** The GraphQL input: unset fields come as null or undefined. */
export type SettingsInput = { [K in keyof MethodSettings]?: MethodSettings[K] | null };

export const needsPrior = (method: Method): boolean => methodOf(method).needs.prior;
export const needsDataset = (method: Method): boolean => methodOf(method).needs.dataset;

/**
 * The settings each method of the batch runs with. With the prior's image shape, a guidance scale
 * left unset is the method's reference scaled to it, the value the runs record; without it
 * (checking the input before the prior is chosen) it stays unset.
 */
export function resolveSettings(methods: readonly Method[], input: SettingsInput | null | undefined, maxSteps: number, priorShape?: ImageShape): Map<Method, RunSettings> {
  try {
    // unset fields (null) are left out by the registry as undefined ones are
    return resolveBatchSettings(methods, (input ?? {}) as MethodSettings, { maxSteps }, { priorShape });
  } catch (e) {
    if (e instanceof SettingError) throw new ServiceError('INVALID_SETTINGS', e.message, { setting: e.setting });
    throw e;
  }
}
