/**
 * The methods a user can pick come from the engine's registry: the schema's `Method` enum names
 * exactly the registry's methods, and the `methods` query answers each method's settings, defaults
 * and ranges as the registry declares them, which is also what startRuns enforces. The guidance
 * scale has no fixed default: a batch records its method's reference scaled to the prior's image shape.
 */
import { readFile } from 'node:fs/promises';
import { buildSchema, type GraphQLEnumType } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { METHODS, METHOD_NAMES, guidanceScaleFor } from '@excite/engine';
import { resolveSettings } from '../runs/settings.ts';
import { SCHEMA_FILE } from './schema.ts';
import { type TestService, startTestService } from '../testing/harness.ts';
import { ENUM_VALUES } from './enums.ts';

describe('synthesis methods', () => {
  let t: TestService;
  beforeAll(async () => {
    t = await startTestService('pglite', { limits: { maxSteps: 3000 } });
  });
  afterAll(() => t?.stop());

  it('the schema names every method of the engine’s registry, and no other', async () => {
    const schema = buildSchema(await readFile(SCHEMA_FILE, 'utf8'));
    const names = (schema.getType('Method') as GraphQLEnumType).getValues().map((v) => v.name);
    expect(names.map((n) => ENUM_VALUES.Method[n as keyof typeof ENUM_VALUES.Method]).sort()).toEqual([...METHOD_NAMES].sort());
  });

  it('answers each method’s settings with the registry’s defaults and ranges, and startRuns holds them', async () => {
    const { methods } = await t.ok(`{ methods { method needsPrior needsDataset imageKind settings { name kind default defaultChoice choices min minExclusive max } } }`);
    const engineName = (graphqlName: string) => ENUM_VALUES.Method[graphqlName as keyof typeof ENUM_VALUES.Method];
    expect(methods.map((m: { method: string }) => engineName(m.method))).toEqual(METHOD_NAMES);
    for (const m of methods) {
      const declared = METHODS.get(engineName(m.method))!;
      expect(m).toMatchObject({ needsPrior: declared.needs.prior, needsDataset: declared.needs.dataset });
      expect(ENUM_VALUES.ImageKind[m.imageKind as keyof typeof ENUM_VALUES.ImageKind]).toBe(declared.imageKind);
      expect(m.settings.map((s: { name: string }) => s.name)).toEqual(Object.keys(declared.settings));
      for (const s of m.settings) {
        const spec = declared.settings[s.name as keyof typeof declared.settings]!;
        if (spec.kind === 'choice') expect(s).toMatchObject({ kind: 'CHOICE', defaultChoice: spec.default.toUpperCase(), choices: spec.choices.map((c) => c.toUpperCase()) });
        else expect(s).toMatchObject({ kind: spec.kind.toUpperCase(), default: spec.default ?? null, min: spec.min, minExclusive: spec.minExclusive ?? false, max: s.name === 'steps' ? Math.min(spec.max ?? Infinity, 3000) : (spec.max ?? null) });
      }
    }
    // the bounds the query answers are the ones startRuns enforces
    const ga = methods.find((m: { method: string }) => m.method === 'GA');
    const steps = ga.settings.find((s: { name: string }) => s.name === 'steps');
    const refused = await t.gql(`mutation($input: StartRunsInput!) { startRuns(input: $input) { id } }`, { input: { generator: '00000000-0000-0000-0000-000000000000', methods: ['GA'], neurons: [{ session: 's', index: 0 }], settings: { steps: steps.max + 1 } } });
    expect(refused.errors?.[0]?.extensions?.code).toBe('INVALID_SETTINGS');
    expect(refused.errors?.[0]?.message).toContain(`to ${steps.max}`);
    // the guidance scale's default follows the prior: no fixed default, the rule in its description
    const egg = methods.find((m: { method: string }) => m.method === 'EGG');
    const scale = egg.settings.find((s: { name: string }) => s.name === 'scale');
    expect(scale.default).toBeNull();
    const { methods: described } = await t.ok(`{ methods { method settings { name description } } }`);
    expect(described.find((m: { method: string }) => m.method === 'EGG').settings.find((s: { name: string }) => s.name === 'scale').description).toContain('size-scaled: 10 at 3x256x256');
  });

  it('records the guidance scale a batch runs with: the reference scaled to the prior’s image shape, or the one given', () => {
    const demo = { channels: 1, height: 40, width: 40 };
    const settings = resolveSettings(['ga', 'egg', 'meni'], { steps: 5 }, 3000, demo);
    expect(settings.get('ga')!.scale).toBeUndefined();
    expect(settings.get('egg')!.scale).toBeCloseTo(guidanceScaleFor(10, demo), 12);
    expect(settings.get('egg')!.scale).toBeCloseTo(10 * Math.sqrt(1600 / 196608), 12);
    expect(settings.get('meni')!.scale).toBe(2);
    expect(resolveSettings(['egg'], { scale: 10 }, 3000, demo).get('egg')!.scale).toBe(10);
  });
});
