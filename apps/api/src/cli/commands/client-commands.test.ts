/**
 * The client commands against a real service: models upload, runs start/list/watch and images
 * export through the SDK (in this process, as `excite` runs them; docs/sdk.md's example test runs the
 * binary), and the progress view: a bar per running run on a terminal, a line per finished run.
 */
import { readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { Command } from 'commander';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { decodeNpy } from '@excite/engine';
import { createClient, type RunDetails } from '@excite/sdk';
import WebSocket from 'ws';
import { writeImages, writeTinyCompact, writeTinyEnsemble, writeTinyPrior } from '../../testing/fixtures.ts';
import { runCommand } from '../../testing/cli.ts';
import { type TestService, startTestService, tempDir } from '../../testing/harness.ts';
import { imagesCommand } from './images.ts';
import { modelsCommand } from './models.ts';
import { progressView } from './run-progress.ts';
import { runsCommand } from './runs.ts';

let t: TestService;
let folders: string;
let connection: string[];

beforeAll(async () => {
  folders = await tempDir('cli-client');
  await Promise.all([writeTinyEnsemble(join(folders, 'tiny-ensemble')), writeTinyPrior(join(folders, 'tiny-prior')), writeTinyCompact(join(folders, 's1')), writeImages(join(folders, 'junk'), 1)]);
  t = await startTestService('pglite', { limits: { maxRunsPerJob: 4 } });
  connection = ['--url', `${t.url}/graphql`, '--token', t.token];
});

afterAll(async () => {
  await t?.stop();
  await rm(folders, { recursive: true, force: true });
});

afterEach(() => {
  vi.restoreAllMocks();
  process.exitCode = undefined;
});

/** Runs `excite <command> <args>` in this process: what it printed on stdout and stderr. */
const excite = (command: Command, ...args: string[]) => runCommand(command, args, connection);

describe('excite models, runs, images against a running service', () => {
  const ids: Record<string, string> = {};

  it('models upload registers a folder and prints its id', async () => {
    const ensemble = await excite(modelsCommand(), 'upload', join(folders, 'tiny-ensemble'));
    expect(ensemble.stdout).toMatch(/^[0-9a-f-]{36}\n$/);
    expect(ensemble.stderr).toBe('excite: registered ensemble "tiny-ensemble" (3 neurons)\n');
    ids.ensemble = ensemble.stdout.trim();
    const again = await excite(modelsCommand(), 'upload', join(folders, 'tiny-ensemble'), '--json');
    expect(JSON.parse(again.stdout)).toEqual({ id: ids.ensemble, name: 'tiny-ensemble', kind: 'ENSEMBLE', neurons: 3, created: false });
    expect((await excite(modelsCommand(), 'upload', join(folders, 's1'), '--session', 's1')).stderr).toMatch(/registered compact "compact s1" \(2 neurons\)/);
    await excite(modelsCommand(), 'upload', join(folders, 'tiny-prior'));
    // the service's refusal, with its code
    await expect(excite(modelsCommand(), 'upload', join(folders, 'junk'))).rejects.toThrow(/^INVALID_UPLOAD: /);
  });

  it('runs start queues neurons x methods x seeds by the generator’s name and follows them to their end', async () => {
    const { stdout, stderr } = await excite(runsCommand(), 'start', '--generator', 'tiny-ensemble', '--methods', 'ga,egg', '--neurons', 's1:1-2', '--seeds', '0,1', '--steps', '3', '--quiet');
    ids.batch = stdout.trim();
    expect(stdout).toMatch(/^[0-9a-f-]{36}\n$/);
    expect(stderr).toBe('');
    const runs = await createClient({ url: `${t.url}/graphql`, token: connection[3] }).runs({ filter: { batch: ids.batch } });
    expect(runs.nodes.map((r) => `${r.method} ${r.neuron!.index} ${r.seed} ${r.status} ${r.settings.steps}`).sort()).toEqual(
      ['EGG 1 0', 'EGG 1 1', 'EGG 2 0', 'EGG 2 1', 'GA 1 0', 'GA 1 1', 'GA 2 0', 'GA 2 1'].map((s) => `${s} SUCCEEDED 3`),
    );

    // columns of the generator, JSON at the end
    const json = JSON.parse((await excite(runsCommand(), 'start', '--generator', ids.ensemble, '--methods', 'ga', '--neurons', '1-2', '--steps', '2', '--json')).stdout);
    expect(json.runs.map((r: RunDetails) => [r.neuron, r.status])).toEqual([
      [{ session: 's1', index: 1 }, 'SUCCEEDED'],
      [{ session: 's1', index: 2 }, 'SUCCEEDED'],
    ]);
    // refused before anything is queued: a neuron the model does not have, a method that is none
    await expect(excite(runsCommand(), 'start', '--generator', 'tiny-ensemble', '--methods', 'ga', '--neurons', 's1:7')).rejects.toThrow(/no neuron 7 of session s1/);
    await expect(excite(runsCommand(), 'start', '--generator', 'tiny-ensemble', '--methods', 'gradient', '--neurons', '1')).rejects.toThrow(/"gradient" is none of/);
    await expect(excite(runsCommand(), 'start', '--generator', 'nobody', '--methods', 'ga', '--neurons', '1')).rejects.toThrow(/no encoder named "nobody"/);
    await expect(excite(runsCommand(), 'start', '--generator', 'tiny-ensemble', '--methods', 'egg', '--neurons', '1', '--steps', '1')).rejects.toThrow(/^INVALID_SETTINGS: /);
  });

  it('runs start --detach returns at once; runs watch follows a batch or a run to its end', async () => {
    const batch = (await excite(runsCommand(), 'start', '--generator', 'tiny-ensemble', '--methods', 'egg', '--neurons', 's1:0-2', '--steps', '3', '--detach', '--quiet')).stdout.trim();
    const watched = JSON.parse((await excite(runsCommand(), 'watch', batch, '--json')).stdout);
    expect(watched.runs.map((r: RunDetails) => r.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
    expect(process.exitCode).toBeUndefined();
    // one run; --quiet prints its line on stdout
    const one = await excite(runsCommand(), 'watch', watched.runs[1].id, '--quiet');
    expect(one.stdout).toMatch(new RegExp(`^${watched.runs[1].id} EGG s1:1 seed 0: SUCCEEDED, activation \\d+\\.\\d{3}, \\d+\\.\\d s\\n$`));
    await expect(excite(runsCommand(), 'watch', '00000000-0000-0000-0000-000000000000')).rejects.toThrow(/^NOT_FOUND: no batch or run/);

    // a cancelled run: exit status 1
    const long = (await excite(runsCommand(), 'start', '--generator', 'tiny-ensemble', '--methods', 'ga', '--neurons', '1', '--steps', '5000', '--detach')).stdout.trim();
    const client = createClient({ url: `${t.url}/graphql`, token: connection[3], webSocketImpl: WebSocket });
    await client.cancelBatch({ id: long });
    await excite(runsCommand(), 'watch', long, '--quiet');
    expect(process.exitCode).toBe(1);
    await client.close();
  });

  it('runs list prints a line per run, with filters', async () => {
    const { stdout } = await excite(runsCommand(), 'list', '--batch', ids.batch, '--method', 'egg');
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(4);
    for (const line of lines) expect(line).toMatch(new RegExp(`^[0-9a-f-]{36}  ${ids.batch}  EGG s1:[12] seed [01] +SUCCEEDED +3/3  \\d+\\.\\d{3}$`));
    const json = JSON.parse((await excite(runsCommand(), 'list', '--status', 'cancelled', '--json')).stdout);
    expect(json.runs.map((r: { status: string }) => r.status)).toEqual(['CANCELLED']);
    expect((await excite(runsCommand(), 'list', '--first', '2')).stdout.trim().split('\n')).toHaveLength(2);
  });

  it('images export writes PNGs, .npy arrays and images.csv with the scores', async () => {
    const out = join(folders, 'export');
    const { stdout, stderr } = await excite(imagesCommand(), 'export', ids.batch, '--out', out);
    expect(stdout).toBe(`${join(out, 'images.csv')}\n`);
    expect(stderr).toBe(`excite: 8 images (PNG and .npy) in ${out}\n`);
    const files = (await readdir(out)).sort();
    expect(files).toHaveLength(17);
    expect(files).toContain('001_egg_s1-1_s0.png');
    expect(files).toContain('008_ga_s1-2_s1.npy');
    const [header, ...rows] = (await readFile(join(out, 'images.csv'), 'utf8')).trim().split('\n').map((l) => l.split(','));
    expect(header).toEqual(['stimulus', 'png', 'npy', 'image', 'run', 'batch', 'generator', 'method', 'kind', 'session', 'neuron', 'seed', 'index', 'source_index', 'width', 'height', 'channels', 'space', 'activation', 'energy', 'score:tiny-ensemble', 'score:compact s1']);
    expect(rows).toHaveLength(8);
    const row = Object.fromEntries(header.map((h, i) => [h, rows[3][i]]));
    // in order of method, neuron and seed
    expect(rows.map((r) => r[1])).toEqual(['001_egg_s1-1_s0.png', '002_egg_s1-1_s1.png', '003_egg_s1-2_s0.png', '004_egg_s1-2_s1.png', '005_ga_s1-1_s0.png', '006_ga_s1-1_s1.png', '007_ga_s1-2_s0.png', '008_ga_s1-2_s1.png']);
    expect(row).toMatchObject({ stimulus: '4', png: '004_egg_s1-2_s1.png', batch: ids.batch, generator: 'tiny-ensemble', method: 'EGG', kind: 'MEI', session: 's1', neuron: '2', seed: '1', space: 'PIXELS', width: '12' });
    for (const column of ['activation', 'score:tiny-ensemble', 'score:compact s1']) expect(Number.isFinite(Number(row[column])), column).toBe(true);
    expect((await readFile(join(out, row.png))).subarray(1, 4).toString()).toBe('PNG');
    expect(decodeNpy(new Uint8Array(await readFile(join(out, row.npy)))).shape).toEqual([1, 12, 12]);

    // one run's images
    const run = JSON.parse((await excite(runsCommand(), 'list', '--batch', ids.batch, '--method', 'ga', '--first', '1', '--json')).stdout).runs[0].id;
    const single = JSON.parse((await excite(imagesCommand(), 'export', run, '--out', join(folders, 'one'), '--json')).stdout);
    expect(single.images).toMatchObject([{ stimulus: 1, png: '001_ga_s1-1_s0.png', run }]);
  });
});

describe('the progress view', () => {
  const run = { id: 'r1', method: 'EGG', neuron: { session: '201025', index: 3 }, targetImage: null, seed: 0 } as RunDetails;
  const finished = { ...run, status: 'SUCCEEDED', progress: { activation: 1.5 }, seconds: 2.25, error: null } as RunDetails;
  const step = (k: number) => ({ runId: 'r1', attempt: 1, step: k, steps: 4, timestep: null, energy: -1, activation: 1.25, preview: null, at: '' });

  it('draws a bar per running run on a terminal and leaves a line when it ends', async () => {
    const stream = Object.assign(new PassThrough(), { isTTY: true, columns: 120, cursorTo: () => true, clearLine: () => true, moveCursor: () => true }) as unknown as NodeJS.WriteStream;
    let written = '';
    (stream as unknown as PassThrough).on('data', (c) => (written += c));
    const view = progressView({ stream });
    view.onProgress(step(1), run);
    view.onProgress(step(3), run);
    await new Promise((r) => setTimeout(r, 250)); // cli-progress redraws 10 times a second
    view.onFinished(finished);
    view.stop();
    expect(written).toMatch(/EGG 201025:3 seed 0 +\|[█░]+\| 3\/4 \| activation 1\.250/);
    expect(written).toContain('r1 EGG 201025:3 seed 0: SUCCEEDED, activation 1.500, 2.3 s\n');
  });

  it('writes one line per finished run elsewhere', () => {
    let written = '';
    const stream = Object.assign(new PassThrough(), { isTTY: false }) as unknown as NodeJS.WriteStream;
    (stream as unknown as PassThrough).on('data', (c) => (written += c));
    const view = progressView({ stream });
    view.onProgress(step(1), run);
    view.onFinished({ ...finished, status: 'FAILED', error: { code: 'DIVERGED', message: 'energy NaN at step 3' } } as RunDetails);
    expect(written).toBe('r1 EGG 201025:3 seed 0: FAILED: DIVERGED energy NaN at step 3, activation 1.500, 2.3 s\n');
  });
});
