/**
 * `excite trainings start|list|watch` against a real service (PGlite), in this process as
 * `excite` runs them: a tiny synthetic recording uploaded, one epoch trained, the JSON outputs,
 * a refusal's code, and the progress view on a terminal (a bar over the epoch's batches, a line
 * per epoch).
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { Command } from 'commander';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { writeSyntheticSession } from '@excite/engine/testing';
import { createClient } from '@excite/sdk';
import WebSocket from 'ws';
import { runCommand } from '../../testing/cli.ts';
import { type TestService, folderFiles, startTestService, tempDir } from '../../testing/harness.ts';
import { followTraining, trainingsCommand } from './trainings.ts';

// this suite's time limit: two one-epoch trainings of the demo preset on 30 images: seconds
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

let t: TestService;
let folders: string;
let connection: string[];

beforeAll(async () => {
  folders = await tempDir('cli-trainings');
  await writeSyntheticSession(join(folders, 'lab-a'), { images: 30, neurons: 3, seed: 4, size: 32 });
  t = await startTestService('pglite', { demoModels: false });
  connection = ['--url', `${t.url}/graphql`, '--token', t.token];
  expect((await t.upload('/upload/dataset', await folderFiles(join(folders, 'lab-a')), { name: 'lab-a' })).status).toBe(201);
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

describe('excite trainings against a running service', () => {
  let id = '';

  it('start trains on a dataset named by its name and prints the training as JSON', async () => {
    const { stdout } = await excite(trainingsCommand(), 'start', '--data', 'lab-a', '--max-epochs', '1', '--batch-size', '16', '--seed', '2', '--name', 'cli twin', '--json');
    const { training } = JSON.parse(stdout);
    expect(training).toMatchObject({ name: 'cli twin', kind: 'ENCODER', status: 'SUCCEEDED', epoch: 1, recipe: { seed: 2, batchSize: 16, maxEpochs: 1 }, model: { name: 'cli twin', sessions: ['lab-a'], neuronCount: 3 } });
    expect(training.history).toHaveLength(1);
    expect(process.exitCode).toBeUndefined();
    id = training.id;
  });

  it('list and watch show it; a refusal reads CODE: message', async () => {
    const list = JSON.parse((await excite(trainingsCommand(), 'list', '--status', 'succeeded', '--json')).stdout);
    expect(list.trainings.map((x: { id: string }) => x.id)).toEqual([id]);
    const lines = (await excite(trainingsCommand(), 'list')).stdout;
    expect(lines).toMatch(new RegExp(`^${id} encoder cli twin: SUCCEEDED, epoch 1/1, best val loss \\d`));
    const watched = await excite(trainingsCommand(), 'watch', id, '--quiet');
    expect(watched.stdout).toContain(`${id} encoder cli twin: SUCCEEDED`);
    await expect(excite(trainingsCommand(), 'start', '--kind', 'readout', '--data', 'lab-a', '--json')).rejects.toThrow(/^CORE_REQUIRED: /);
    await expect(excite(trainingsCommand(), 'start', '--data', 'lab-a', '--max-epochs', '5000')).rejects.toThrow(/^INVALID_SETTINGS: maxEpochs/);
  });

  it('shows a bar over the epoch’s batches and a line per epoch on a terminal', async () => {
    const client = createClient({ url: `${t.url}/graphql`, token: t.token, webSocketImpl: WebSocket });
    try {
      const started = await client.startTraining({ input: { kind: 'ENCODER', datasets: [(await client.datasets()).nodes[0].id], maxEpochs: 2, seed: 5, settings: { batchSize: 4 } } });
      const stream = Object.assign(new PassThrough(), { isTTY: true, columns: 120, cursorTo: () => true, clearLine: () => true, moveCursor: () => true }) as unknown as NodeJS.WriteStream;
      let written = '';
      (stream as unknown as PassThrough).on('data', (c) => (written += c));
      const final = await followTraining(client, started.id, { stream });
      expect(final.status).toBe('SUCCEEDED');
      expect(written).toMatch(/epoch 1\/2 \|[█░]*\| \d+\/7 batches \| loss \d/);
      expect(written).toMatch(/epoch 1: train loss -?\d+\.\d{3}, val loss -?\d+\.\d{3}, median r -?\d\.\d{3}, lr 3\.0e-3\n/);
      expect(written).toMatch(/epoch 2: train loss/);
    } finally {
      await client.close();
    }
  });
});
