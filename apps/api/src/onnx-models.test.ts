/**
 * Imported (ONNX) encoders in the service, on PGlite and PostgreSQL: uploaded as model folders,
 * listed as kind ONNX with their architecture and op count, used as the generator of GA and EGG
 * runs and as evaluators of each other's images; a folder with an operator excite lacks is refused
 * with its code and nothing is stored.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type OnnxModelJson, importOnnxModel } from '@excite/engine';
import { writeTinyPrior } from './testing/fixtures.ts';
import { type Backend, POSTGRES_SKIP_MESSAGE, POSTGRES_URL, type TestService, folderFiles, startTestService, tempDir } from './testing/harness.ts';

// this suite's time limit: a service per backend, then GA and EGG runs on imported graphs
vi.setConfig({ testTimeout: 120_000 });

const fixtures = fileURLToPath(new URL('../../../packages/engine/fixtures/onnx', import.meta.url));
const backends: Backend[] = POSTGRES_URL ? ['pglite', 'postgres'] : ['pglite'];
if (!POSTGRES_URL) console.warn(POSTGRES_SKIP_MESSAGE);

const START = `mutation($input: StartRunsInput!) { startRuns(input: $input) { id } }`;
const BATCH_DONE = 'query($id: ID!) { batch(id: $id) { done counts { succeeded failed } } }';

for (const backend of backends) {
  describe(`imported ONNX encoders on ${backend}`, () => {
    let t: TestService;
    let folders: string;
    const ids: Record<'resnet' | 'vit' | 'prior', string> = { resnet: '', vit: '', prior: '' };

    beforeAll(async () => {
      folders = await tempDir('onnx-models');
      // the ViT fixture renamed to predict the ResNet fixture's session, so each scores the other's images
      const vitMeta = JSON.parse(await readFile(join(fixtures, 'vit/model.json'), 'utf8')) as OnnxModelJson;
      await importOnnxModel({ graphs: [join(fixtures, 'vit/model.onnx')], meta: { ...vitMeta, name: 'lab-vit', neurons: vitMeta.neurons.map((_, i) => `resnet:${i}`) }, out: join(folders, 'lab-vit') });
      await writeTinyPrior(join(folders, 'prior'));
      t = await startTestService(backend);
      const upload = async (dir: string, name?: string) => (await t.upload('/upload/model', await folderFiles(dir), name ? { name } : {}));
      const resnet = await upload(join(fixtures, 'resnet'), 'lab-resnet');
      const vit = await upload(join(folders, 'lab-vit'));
      const prior = await upload(join(folders, 'prior'), 'tiny-prior');
      expect([resnet.status, vit.status, prior.status]).toEqual([201, 201, 201]);
      Object.assign(ids, { resnet: resnet.body.model.id, vit: vit.body.model.id, prior: prior.body.model.id });
    });

    afterAll(async () => {
      await t?.stop();
    });

    it('lists an imported model as kind ONNX with its architecture, op count, input and neurons', async () => {
      const { encoder } = await t.ok(`query($id: ID!) { encoder(id: $id) { name kind architecture ops readout input { channels height width } neuronCount sessions } }`, { id: ids.resnet });
      expect(encoder).toMatchObject({ name: 'lab-resnet', kind: 'ONNX', readout: null, input: { channels: 3, height: 64, width: 64 }, neuronCount: 10, sessions: ['resnet'] });
      expect(encoder.architecture).toMatch(/ResNet-18-like/);
      expect(encoder.ops).toBeGreaterThan(20);
      const { encoders } = await t.ok(`{ encoders(filter: { kind: [ONNX] }) { nodes { id } } }`);
      expect(encoders.nodes.map((n: { id: string }) => n.id).sort()).toEqual([ids.resnet, ids.vit].sort());
    });

    it('generates with an imported model (GA and EGG) and scores with every model of the neuron', async () => {
      const input = { generator: ids.resnet, methods: ['GA', 'EGG'], neurons: [{ session: 'resnet', index: 3 }], seeds: [0], prior: ids.prior, settings: { steps: 4 } };
      const { startRuns } = await t.ok(START, { input });
      for (;;) {
        const { batch } = await t.ok(BATCH_DONE, { id: startRuns.id });
        if (batch.done) {
          expect(batch.counts).toEqual({ succeeded: 2, failed: 0 });
          break;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      const { images } = await t.ok(`query($b: ID!) { images(filter: { batch: $b }) { nodes { method channels width height activation scores { value generator evaluator { id kind } } } } }`, { b: startRuns.id });
      expect(images.nodes).toHaveLength(2);
      for (const image of images.nodes) {
        // the stimulus at the generator's input: grayscale synthesis, replicated for an RGB model
        expect([image.width, image.height]).toEqual([64, 64]);
        expect(image.scores.map((s: { evaluator: { id: string } }) => s.evaluator.id).sort()).toEqual([ids.resnet, ids.vit].sort());
        const own = image.scores.find((s: { generator: boolean }) => s.generator);
        expect(own.evaluator).toEqual({ id: ids.resnet, kind: 'ONNX' });
        expect(own.value).toBeCloseTo(image.activation, 4);
        expect(image.scores.every((s: { value: number }) => Number.isFinite(s.value))).toBe(true);
      }
    });

    it('refuses a folder whose graph has an operator excite lacks, with its code, storing nothing', async () => {
      const dir = join(folders, 'unsupported');
      await importOnnxModel({ graphs: [join(fixtures, 'recurrent/model.onnx')], meta: JSON.parse(await readFile(join(fixtures, 'recurrent/model.json'), 'utf8')), out: dir });
      const text = (await readFile(join(dir, 'model.onnx'))).toString('latin1');
      // LeakyRelu (op types and node names) renamed to an op excite has no rule for: same length, so the protobuf stays valid
      expect(text).toContain('LeakyRelu');
      await writeFile(join(dir, 'model.onnx'), Buffer.from(text.split('LeakyRelu').join('Shrink___'), 'latin1'));
      const before = await t.count('models');
      const refused = await t.upload('/upload/model', await folderFiles(dir), { name: 'lab-unsupported' });
      expect(refused.status).toBe(400);
      expect(JSON.stringify(refused.body)).toMatch(/UNSUPPORTED_OPERATOR/);
      expect(JSON.stringify(refused.body)).toMatch(/Shrink___/);
      expect(await t.count('models')).toBe(before);
    });
  });
}
