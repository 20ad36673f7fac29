/**
 * `npm run bench:api`: the embedded default (`excite serve`, PGlite, worker in the process) under
 * load from autocannon: queries per second and p50/p99 latency of a typical dashboard query (the
 * latest batches with their counts, and the unfinished runs with their progress), first idle, then
 * with 200 WebSocket clients each subscribed to the progress of a run that samples meanwhile; and
 * the server's resident memory. The server is its own process; the load generator and the
 * subscribers share the machine with it.
 *
 * The per-token rate limit and query budget are lifted for the bench (EXCITE_LIMIT_RATE_LIMIT_PER_SECOND=0,
 * EXCITE_LIMIT_QUERY_COST_PER_MINUTE=0): with them, one token gets its 100 requests a second and its
 * cost points a minute, and 429s beyond, which measures the limiters.
 *
 *   npm run bench:api [-- --seconds 15 --connections 10 --subscribers 200 --json]
 */
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { DEMO_ENCODER, Graph, buildEncoder, writeEncoder, type EncoderSpec } from '@excite/engine';
import { folderFiles, serviceClient, tempDir } from '../src/testing/harness.ts';
import { startExcite } from '../src/testing/processes.ts';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '15' },
    connections: { type: 'string', default: '10' },
    subscribers: { type: 'string', default: '200' },
    json: { type: 'boolean', default: false },
  },
});
const seconds = Number(args.seconds);
const connections = Number(args.connections);
const subscribers = Number(args.subscribers);
const log = (line: string) => console.error(line);

const DASHBOARD = `query Dashboard {
  batches(first: 10) { totalCount nodes { id label runCount done createdAt counts { queued running succeeded failed cancelled } } }
  runs(first: 20, filter: { status: [RUNNING, QUEUED] }) { totalCount nodes { id method status seed attempts worker
    neuron { session index } generator { name } progress { step steps fraction activation energy updatedAt } } }
}`;

/** A demo-sized encoder (the demo preset: 32 channels, 40x40 inputs) with random weights and 100 neurons. */
async function writeDemoSizedEncoder(dir: string): Promise<void> {
  const spec: EncoderSpec = { ...DEMO_ENCODER, input: { ...DEMO_ENCODER.input, mean: 100, std: 50 }, sessions: [{ id: 'bench', neurons: Array.from({ length: 100 }, (_, i) => i) }] };
  const g = new Graph();
  buildEncoder(g, g.input('image', 'float32', ['batch', 1, 40, 40]), spec, { seed: 1 });
  await writeEncoder(dir, spec, new Map([...g.weights].map(([k, v]) => [k, v.data!])), { name: 'bench-encoder' });
}

const rssOf = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;

async function load(url: string, token: string) {
  const result = await autocannon({
    url: `${url}/graphql`,
    method: 'POST',
    connections,
    duration: seconds,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: DASHBOARD }),
  });
  return {
    requestsPerSecond: Math.round(result.requests.average),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
  };
}

async function main() {
  const data = await tempDir('bench-api');
  const folders = await tempDir('bench-models');
  const server = await startExcite(['serve', '--no-dashboard', '--port', '0', '--host', '127.0.0.1', '--data', data], { DATABASE_URL: '', EXCITE_LIMIT_RATE_LIMIT_PER_SECOND: '0', EXCITE_LIMIT_QUERY_COST_PER_MINUTE: '0' }, /serving GraphQL at (http:\/\/\S+)\/graphql/, 120_000);
  const pid = server.child.pid!;
  const subscriptions: Client[] = [];
  try {
    const url = server.match[1];
    const token = /^\s+(exc_\S+)$/m.exec(server.output())![1];
    const client = serviceClient(url, token);
    await writeDemoSizedEncoder(join(folders, 'encoder'));
    const { id: generator } = (await client.upload('/upload/model', await folderFiles(join(folders, 'encoder')), { name: 'bench-encoder' })).body.model;

    // a history for the dashboard to show: 5 finished batches of 8 short runs
    log('bench:api: filling the database (5 batches of 8 GA runs)');
    const neurons = (from: number) => Array.from({ length: 4 }, (_, i) => ({ session: 'bench', index: from + i }));
    for (let b = 0; b < 5; b++) {
      const { startRuns } = await client.ok('mutation($input: StartRunsInput!) { startRuns(input: $input) { id } }', { input: { generator, methods: ['GA'], neurons: neurons(b * 4), seeds: [0, 1], settings: { steps: 20 }, label: `history ${b}` } });
      for (;;) {
        const { batch } = await client.ok('query($id: ID!) { batch(id: $id) { done } }', { id: startRuns.id });
        if (batch.done) break;
        await new Promise((r) => setTimeout(r, 200));
      }
    }

    await new Promise((r) => setTimeout(r, 1000));
    const idleRss = rssOf(pid);
    log(`bench:api: idle: ${seconds} s of the dashboard query, ${connections} connections`);
    const idle = await load(url, token);

    // a run that samples throughout the next phase, and 200 subscribers to its progress
    const { startRuns } = await client.ok('mutation($input: StartRunsInput!) { startRuns(input: $input) { runs { nodes { id } } } }', {
      input: { generator, methods: ['GA'], neurons: [{ session: 'bench', index: 50 }], settings: { steps: 5000 }, label: 'sampling' },
    });
    const run = startRuns.runs.nodes[0].id as string;
    let events = 0;
    const ready: Promise<void>[] = [];
    for (let i = 0; i < subscribers; i++) {
      const ws = createClient({ url: `${url.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, connectionParams: { Authorization: `Bearer ${token}` }, retryAttempts: 0 });
      subscriptions.push(ws);
      ready.push(
        new Promise<void>((resolve, reject) => {
          let first = true;
          ws.subscribe(
            { query: 'subscription($run: ID!) { runProgress(run: $run) { step energy activation preview { dataUrl } } }', variables: { run } },
            {
              next: () => {
                events++;
                if (first) (first = false), resolve();
              },
              error: reject,
              complete: () => undefined,
            },
          );
        }),
      );
    }
    await Promise.all(ready);
    log(`bench:api: loaded: ${subscribers} subscribers receiving the run's steps; ${seconds} s of the dashboard query`);
    let peakRss = rssOf(pid);
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssOf(pid))), 250);
    const eventsBefore = events;
    const stepBefore = (await client.ok('query($id: ID!) { run(id: $id) { progress { step } } }', { id: run })).run.progress.step as number;
    const loaded = await load(url, token);
    clearInterval(sampler);
    const after = (await client.ok('query($id: ID!) { run(id: $id) { status progress { step } } }', { id: run })).run;
    const result = {
      machine: `${cpus()[0]?.model ?? 'cpu'} x${cpus().length}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
      query: 'Dashboard (10 batches with counts, 20 unfinished runs with progress)',
      connections,
      seconds,
      idle: { ...idle, rssMiB: Math.round(idleRss) },
      loaded: {
        ...loaded,
        subscribers,
        subscriptionEventsPerSecond: Math.round((events - eventsBefore) / seconds),
        runStepsPerSecond: Math.round((after.progress.step - stepBefore) / seconds),
        runStillSampling: after.status === 'RUNNING',
        rssMiB: Math.round(rssOf(pid)),
        peakRssMiB: Math.round(peakRss),
      },
    };
    if (args.json) console.log(JSON.stringify(result, null, 2));
    else {
      console.log(`bench:api on ${result.machine}; ${result.query}, autocannon ${connections} connections x ${seconds} s`);
      console.log('| scenario | queries/s | p50 ms | p99 ms | non-2xx | server RSS MiB |');
      console.log('|---|---|---|---|---|---|');
      console.log(`| idle | ${idle.requestsPerSecond} | ${idle.p50Ms} | ${idle.p99Ms} | ${idle.non2xx} | ${result.idle.rssMiB} |`);
      console.log(`| ${subscribers} progress subscriptions, a GA run sampling | ${loaded.requestsPerSecond} | ${loaded.p50Ms} | ${loaded.p99Ms} | ${loaded.non2xx} | ${result.loaded.rssMiB} (peak ${result.loaded.peakRssMiB}) |`);
      console.log(`subscribers received ${result.loaded.subscriptionEventsPerSecond} events/s; the run made ${result.loaded.runStepsPerSecond} steps/s${result.loaded.runStillSampling ? ' and was still sampling at the end' : ''}`);
    }
  } finally {
    await Promise.all(subscriptions.map((s) => s.dispose()));
    await server.stop('SIGTERM');
    await rm(data, { recursive: true, force: true });
    await rm(folders, { recursive: true, force: true });
  }
}

await main();
