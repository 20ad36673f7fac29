/**
 * One scoring path: the service and `excite compare` (the engine's compare) make and score the same
 * stimulus for the same generator, method, neuron, seed and settings. The demo models, as a user
 * gets them from `npm start`: attention-train generates, attention-val and gaussian-cross evaluate.
 */
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { compare, decodeImage, saturation, decodeNpy } from '@excite/engine';
import { DEMO_MODELS } from './config.ts';
import { type TestService, startTestService, tempDir } from './testing/harness.ts';

// this suite's time limit: GA and EGG with the demo models through the service and through compare: about 20 s
vi.setConfig({ testTimeout: 180_000 });

const NEURON = { session: '201025', index: 2 };
const SEED = 0;
// fewer steps than the defaults keep the test short; both paths get the same settings
const STEPS = 60;

describe('the service and excite compare', () => {
  let t: TestService;
  let out: string;
  beforeAll(async () => {
    out = await tempDir('scoring-paths');
    t = await startTestService('pglite', { demoModels: DEMO_MODELS });
  });
  afterAll(async () => {
    await t?.stop();
    await rm(out, { recursive: true, force: true });
  });

  it('store and score the same stimulus for GA and EGG, within the norm budget', { timeout: 300_000 }, async () => {
    const { encoders } = await t.ok<{ encoders: { nodes: { id: string; name: string }[] } }>('{ encoders(first: 50) { nodes { id name } } }');
    const generator = encoders.nodes.find((e) => e.name === 'attention-train')!.id;
    const { startRuns } = await t.ok(`mutation($input: StartRunsInput!) { startRuns(input: $input) { id } }`, {
      input: { generator, methods: ['GA', 'EGG'], neurons: [NEURON], seeds: [SEED], settings: { steps: STEPS } },
    });
    for (;;) {
      const { batch } = await t.ok(`query($id: ID!) { batch(id: $id) { done counts { succeeded failed } } }`, { id: startRuns.id });
      if (batch.done) {
        expect(batch.counts).toMatchObject({ succeeded: 2, failed: 0 });
        break;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    const { images } = await t.ok(`query($b: ID!) { images(filter: { batch: $b }, first: 10) { nodes { method space width height png { url } array { url } scores { value evaluator { name } } } } }`, { b: startRuns.id });

    const models = (name: string) => join(DEMO_MODELS, name);
    const evaluators = ['attention-train', 'attention-val', 'gaussian-cross'];
    const { rows } = await compare({
      generators: [models('attention-train')],
      evaluators: evaluators.map(models),
      neurons: `${NEURON.session}:${NEURON.index}`,
      methods: ['ga', 'egg'],
      prior: models('prior'),
      seeds: [SEED],
      settings: { steps: STEPS },
      out,
    });

    for (const method of ['ga', 'egg'] as const) {
      const service = images.nodes.find((i: { method: string }) => i.method === method.toUpperCase().replace('-', '_'));
      const cli = rows.find((r) => r.method === method)!;
      // the same stimulus: the stored PNG and .npy are the pixels compare wrote and scored
      const stored = await decodeImage(new Uint8Array(await (await t.fetch(service.png.url)).arrayBuffer()), 'service.png');
      const written = await decodeImage(await readFile(cli.image), 'compare.png');
      expect(stored.shape).toEqual(written.shape);
      expect(Array.from(stored.data)).toEqual(Array.from(written.data));
      const array = decodeNpy(new Uint8Array(await (await t.fetch(service.array.url)).arrayBuffer()));
      expect(service.space).toBe('PIXELS');
      // the PNG decodes to three equal channels; the .npy is the one gray channel
      expect(Array.from(array.data as Float32Array)).toEqual(Array.from(written.data.subarray(0, array.data.length)));
      // the same scores from every evaluator
      for (const name of evaluators) {
        const value = service.scores.find((s: { evaluator: { name: string } }) => s.evaluator.name === name)?.value;
        expect(value, `${method} scored by ${name}`).toBeCloseTo(cli.scores[models(name)]!, 4);
      }
      // within the contrast budget: a balanced image, not one clamped to black and white
      expect(saturation(stored), `${method}: fraction of pixels at 0 or 255`).toBeLessThan(0.05);
    }
  });
});
