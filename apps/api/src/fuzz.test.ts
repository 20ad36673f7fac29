/**
 * Fuzzing the service's inputs with fast-check: thousands of generated variables, documents and
 * uploads, most of them wrong in some way. The server must answer every one (no crash, no 5xx: the
 * only documented 5xx is 503 TIMEOUT), and a refused call must leave no rows behind; an accepted
 * startRuns must have written exactly its batch. No worker runs here: accepted runs only queue.
 */
import { join } from 'node:path';
import { readdir } from 'node:fs/promises';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { writeImages, writeTinyEncoder, writeTinyPrior } from './testing/fixtures.ts';
import { type TestService, folderFiles, startTestService, tempDir } from './testing/harness.ts';

// this suite's time limit: thousands of generated requests against a real service: up to 45 s a test
vi.setConfig({ testTimeout: 240_000 });

const TABLES = ['batches', 'runs', 'images', 'scores', 'models', 'model_files', 'blobs', 'neurons', 'model_neurons', 'datasets', 'dataset_files', 'comparisons', 'api_tokens', 'pgboss.job'];
const METHODS = ['GA', 'EGG', 'EGG_X0', 'MENI', 'RECONSTRUCTION', 'TOP_K', 'DIVERSE'];

describe('fuzzing GraphQL inputs and uploads', () => {
  let t: TestService;
  let encoder: string;
  let dataset: string;
  let prior: string;
  const statuses = new Map<number, number>();
  const note = (status: number) => statuses.set(status, (statuses.get(status) ?? 0) + 1);

  const counts = async () => {
    const { rows } = await t.service.database.executeSql(`SELECT ${TABLES.map((table, i) => `(SELECT count(*)::int FROM ${table}) AS t${i}`).join(', ')}`);
    return TABLES.map((_, i) => rows[0][`t${i}`] as number);
  };

  beforeAll(async () => {
    const folders = await tempDir('fuzz');
    await Promise.all([writeTinyEncoder(join(folders, 'enc')), writeTinyPrior(join(folders, 'prior')), writeImages(join(folders, 'images'), 4)]);
    t = await startTestService('pglite', { worker: false, limits: { rateLimitPerSecond: 0, maxBatchRuns: 50 } });
    encoder = (await t.upload('/upload/model', await folderFiles(join(folders, 'enc')), { name: 'enc' })).body.model.id;
    prior = (await t.upload('/upload/model', await folderFiles(join(folders, 'prior')), { name: 'prior' })).body.model.id;
    dataset = (await t.upload('/upload/dataset', await folderFiles(join(folders, 'images')), { name: 'images' })).body.dataset.id;
  });
  afterAll(() => t?.stop());

  it('startRuns and startComparison: every generated input is answered, refused ones write nothing, accepted ones their batch', async () => {
    const id = () => fc.oneof(fc.constant(encoder), fc.constant(prior), fc.constant(dataset), fc.uuid(), fc.string(), fc.constant(''));
    const number = fc.oneof(fc.integer(), fc.double(), fc.constantFrom(0, -1, 1, 2, 3, 5000, 5001, 2 ** 31, Number.MAX_SAFE_INTEGER), fc.string(), fc.constant(null));
    const settings = fc.record({ steps: number, scale: number, norm: number, lr: number, optimizer: fc.oneof(fc.constantFrom('ADAMW', 'SGD'), fc.string()), diversity: number, setSize: number, k: number }, { requiredKeys: [] });
    const input = fc.record(
      {
        generator: id(),
        generators: fc.array(id(), { maxLength: 3 }),
        methods: fc.array(fc.oneof(fc.constantFrom(...METHODS), fc.string()), { maxLength: 4 }),
        neurons: fc.array(fc.record({ session: fc.oneof(fc.constant('s1'), fc.string()), index: fc.oneof(fc.integer({ min: -2, max: 4 }), number) }), { maxLength: 4 }),
        targetImages: fc.array(fc.oneof(fc.integer({ min: -1, max: 5 }), number), { maxLength: 3 }),
        seeds: fc.array(fc.oneof(fc.integer({ min: -1, max: 3 }), number), { maxLength: 4 }),
        prior: id(),
        dataset: id(),
        settings: fc.oneof(settings, fc.anything()),
        label: fc.oneof(fc.string(), fc.anything()),
        name: fc.string(),
        evaluators: fc.array(id(), { maxLength: 2 }),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(fc.boolean(), fc.oneof({ weight: 9, arbitrary: input }, { weight: 1, arbitrary: fc.anything() }), async (comparison, value) => {
        const before = await counts();
        const query = comparison
          ? 'mutation($input: StartComparisonInput!) { startComparison(input: $input) { batch { runCount } } }'
          : 'mutation($input: StartRunsInput!) { startRuns(input: $input) { runCount } }';
        const r = await t.gql<{ startRuns?: { runCount: number }; startComparison?: { batch: { runCount: number } } }>(query, { input: value });
        note(r.status);
        expect(r.status).toBeLessThan(500);
        const after = await counts();
        if (r.errors?.length) {
          expect(r.errors[0].extensions?.code).toEqual(expect.any(String));
          expect(after).toEqual(before);
        } else {
          const runCount = r.data!.startRuns?.runCount ?? r.data!.startComparison!.batch.runCount;
          expect(after[TABLES.indexOf('batches')] - before[TABLES.indexOf('batches')]).toBe(1);
          expect(after[TABLES.indexOf('runs')] - before[TABLES.indexOf('runs')]).toBe(runCount);
        }
      }),
      { numRuns: 800 },
    );
  });

  it('every other operation with generated arguments, and broken documents', async () => {
    const operations = [
      'query($id: ID!) { run(id: $id) { id status } }',
      'query($f: RunFilter, $n: Int, $a: String) { runs(filter: $f, first: $n, after: $a) { totalCount nodes { id } } }',
      'query($f: ImageFilter, $n: Int, $a: String) { images(filter: $f, first: $n, after: $a) { totalCount nodes { id } } }',
      'query($f: EncoderFilter, $n: Int) { encoders(filter: $f, first: $n) { totalCount } }',
      'query($f: NeuronFilter, $n: Int, $a: String) { neurons(filter: $f, first: $n, after: $a) { totalCount } }',
      'query($s: String!, $i: Int!) { neuron(session: $s, index: $i) { id } }',
      'query($id: ID!, $n: Int, $a: String) { encoder(id: $id) { neurons(first: $n, after: $a) { totalCount } } }',
      'query($id: ID!) { comparison(id: $id) { cells { count } } batch(id: $id) { done } }',
      'mutation($id: ID!) { cancelRun(id: $id) { id } }',
      'mutation($id: ID!) { cancelBatch(id: $id) { id } }',
      'mutation($input: CreateTokenInput!) { createToken(input: $input) { info { role } } }',
      'mutation($id: ID!) { revokeToken(id: $id) { id } }',
    ];
    const value = fc.oneof(fc.anything(), fc.string(), fc.integer(), fc.uuid(), fc.constant(encoder), fc.record({ batch: fc.string(), status: fc.array(fc.string()), neuron: fc.anything(), kind: fc.anything(), name: fc.string(), session: fc.string(), role: fc.string() }, { requiredKeys: [] }));
    const variables = fc.record({ id: value, f: value, n: value, a: value, s: value, i: value, input: value }, { requiredKeys: [] });
    const tokensBefore = await t.count('api_tokens');
    let created = 0;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...operations), variables, async (query, vars) => {
        const r = await t.gql(query, vars);
        note(r.status);
        expect(r.status).toBeLessThan(500);
        if (r.data && 'createToken' in r.data && r.data.createToken) created++;
      }),
      { numRuns: 800 },
    );
    expect(await t.count('api_tokens')).toBe(tokensBefore + created);
    // documents: valid ones cut, spliced and sprinkled with junk, and plain junk
    const mangled = fc.tuple(fc.constantFrom(...operations), fc.nat(), fc.nat(), fc.string()).map(([q, a, b, junk]) => q.slice(0, a % q.length) + junk + q.slice(b % q.length));
    await fc.assert(
      fc.asyncProperty(fc.oneof(mangled, fc.string(), fc.string({ unit: 'binary' })), fc.anything(), async (query, vars) => {
        const res = await t.fetch('/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables: vars }) });
        note(res.status);
        expect(res.status).toBeLessThan(500);
      }),
      { numRuns: 400 },
    );
    // bodies that are not GraphQL requests at all
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string(), fc.uint8Array({ maxLength: 2000 })), fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data'), async (body, type) => {
        const res = await t.fetch('/graphql', { method: 'POST', headers: { 'content-type': type, 'apollo-require-preflight': 'true' }, body });
        note(res.status);
        expect(res.status).toBeLessThan(500);
      }),
      { numRuns: 200 },
    );
  });

  it('the upload endpoints: generated folders, names and bytes are refused cleanly and store nothing', async () => {
    const before = await counts();
    const name = fc.oneof(
      fc.constantFrom('model.json', 'weights.safetensors', 'member-0/model.json', 'images.zip', 'responses.npy', 'img0.png', '../x', '/etc/passwd', 'C:\\x', 'a/b/c/d/e/f', '.hidden', '', 'neuron1.safetensors'),
      fc.string(),
    );
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 3000 }),
      fc.jsonValue().map((v) => new TextEncoder().encode(JSON.stringify(v))),
      fc.constant(new TextEncoder().encode('{"kind":"encoder","architecture":{},"sessions":[]}')),
      fc.constant(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 13, 10, 26, 10])),
    );
    const file = fc.record({ path: name, bytes });
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('/upload/model', '/upload/dataset') as fc.Arbitrary<'/upload/model' | '/upload/dataset'>, fc.array(file, { maxLength: 4 }), fc.dictionary(fc.constantFrom('name', 'session', 'x'), fc.string()), async (path, files, fields) => {
        const r = await t.upload(path, files, fields);
        note(r.status);
        expect([400, 413]).toContain(r.status);
        expect(r.body.error.code).toMatch(/^(INVALID_UPLOAD|UPLOAD_TOO_LARGE|BAD_USER_INPUT|DUPLICATE_PART|PATH_OUTSIDE_FOLDER|ARCHIVE_TOO_LARGE|JSON_TOO_DEEP|JSON_TOO_LARGE|NON_FINITE_VALUES|NO_NEURONS)$/);
      }),
      { numRuns: 400 },
    );
    // raw bodies: broken multipart framing, wrong content types
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('/upload/model', '/upload/dataset'), fc.uint8Array({ maxLength: 3000 }), fc.constantFrom('multipart/form-data; boundary=xyz', 'multipart/form-data', 'application/json', 'application/octet-stream'), async (path, body, type) => {
        const res = await t.fetch(path, { method: 'POST', headers: { 'content-type': type }, body });
        note(res.status);
        expect([400, 413]).toContain(res.status);
      }),
      { numRuns: 200 },
    );
    expect(await counts()).toEqual(before);
    // every temporary upload folder is gone
    expect(await readdir(join(t.dataDir, 'uploads')).catch(() => [])).toEqual([]);
  });

  afterAll(() => {
    // what the fuzzing saw, for the log
    console.log(`fuzz: HTTP statuses ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`);
  });
});
