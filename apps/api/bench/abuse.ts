/**
 * `npm run bench:abuse`: the embedded default (`excite serve`, PGlite, worker in the process) as
 * its own process on a loopback port, in a temporary data folder, and a series of attacks against
 * it. For each: the answer (HTTP status and error code, or what the WebSocket did), the worst
 * latency of GET /health polled every 50 ms while the attack ran (a stalled event loop shows here),
 * and the server's peak resident memory during the attack (its VmHWM, reset before each attack
 * where the kernel allows, else VmRSS sampled every 20 ms).
 *
 *   npm run bench:abuse [-- --json]
 *
 * Only 127.0.0.1; every loop is bounded and each attack has a time limit; the server is stopped
 * and the data folder removed at the end.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { crc32, deflateRawSync } from 'node:zlib';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { writeImages, writeTinyEncoder } from '../src/testing/fixtures.ts';
import { type UploadFile, folderFiles, serviceClient, tempDir } from '../src/testing/harness.ts';
import { startExcite } from '../src/testing/processes.ts';

const { values: args } = parseArgs({ options: { json: { type: 'boolean', default: false } } });
const log = (line: string) => console.error(line);
const ATTACK_TIMEOUT_MS = 60_000;

const status = (pid: number, field: 'VmRSS' | 'VmHWM') => {
  try {
    return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;
  } catch {
    return NaN;
  }
};

/** Resets the process's peak RSS (Linux: writing 5 to clear_refs); false where that is not allowed. */
function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/**
 * A zip of `entries` copies of one deflated run of `entryBytes` zeros, named image0.png... (a
 * classic bomb: a few megabytes that inflate to gigabytes). Written by hand: the compressed data is
 * made once and repeated, where a zip library would compress every entry.
 */
function zipBomb(entries: number, entryBytes: number): Uint8Array {
  const zeros = new Uint8Array(entryBytes);
  const data = deflateRawSync(zeros, { level: 9 });
  const crc = crc32(zeros);
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (let i = 0; i < entries; i++) {
    const name = Buffer.from(`image${i}.png`);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(8, 8); // deflate
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(entryBytes, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(8, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(entryBytes, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, data);
    centrals.push(central, name);
    offset += local.length + name.length + data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries, 8);
  end.writeUInt16LE(entries, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return new Uint8Array(Buffer.concat([...locals, directory, end]));
}

interface Row {
  attack: string;
  answer: string;
  worstHealthMs: number;
  healthPolls: number;
  peakRssMiB: number;
}

async function main() {
  const data = await tempDir('bench-abuse');
  const folders = await tempDir('bench-abuse-files');
  const machine = `${cpus()[0]?.model ?? 'cpu'} x${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
  log(`bench:abuse: starting excite serve in ${data}`);
  const server = await startExcite(['serve', '--no-dashboard', '--no-demo', '--port', '0', '--host', '127.0.0.1', '--data', data], { DATABASE_URL: '' }, /serving GraphQL at (http:\/\/\S+)\/graphql/, 120_000);
  const pid = server.child.pid!;
  const rows: Row[] = [];
  try {
    const url = server.match[1];
    if (!/^http:\/\/(127\.0\.0\.1|localhost|\[::1\]):\d+$/.test(url)) throw new Error(`not a loopback address: ${url}`);
    const admin = /^\s+(exc_\S+)$/m.exec(server.output())![1];
    const client = serviceClient(url, admin);

    // what the attacks need, made before any measurement
    await writeTinyEncoder(join(folders, 'encoder'));
    await writeImages(join(folders, 'images'), 2);
    const encoderFiles = await folderFiles(join(folders, 'encoder'));
    const generator = (await client.upload('/upload/model', encoderFiles, { name: 'bench-encoder' })).body.model.id as string;
    // an encoder elsewhere on the server's disk, for the ensemble to reach with ../
    await mkdir(join(data, 'victim'), { recursive: true });
    await writeTinyEncoder(join(data, 'victim'));
    const bomb = zipBomb(50, 64 * 2 ** 20);
    const deep = new TextEncoder().encode(`{"kind": "encoder", "format": 1, "x": ${'['.repeat(5000)}${']'.repeat(5000)}}`);
    const aliases = `{ ${Array.from({ length: 300 }, (_, i) => `a${i}: runs(first: 500) { nodes { id images { id run { id } } } }`).join(' ')} }`;
    const cheapAliases = `{ ${Array.from({ length: 5000 }, (_, i) => `h${i}: health`).join(' ')} }`;
    const baselineRss = status(pid, 'VmRSS');

    const answerOf = (r: { status: number; body: any }) => `${r.status} ${r.body?.error?.code ?? r.body?.errors?.[0]?.extensions?.code ?? (r.status < 300 ? 'accepted' : '')}`.trim();
    const post = async (path: string, init: RequestInit) => {
      const res = await fetch(`${url}${path}`, init);
      const text = await res.text();
      let body: any;
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
      return { status: res.status, body, type: res.headers.get('content-type') ?? '' };
    };
    const gql = (query: string, variables: Record<string, unknown> = {}, authorization = `Bearer ${admin}`) =>
      post('/graphql', { method: 'POST', headers: { 'content-type': 'application/json', authorization }, body: JSON.stringify({ query, variables }) });

    const attacks: { name: string; run: () => Promise<string> }[] = [
      {
        name: 'revoked token kept on an open WebSocket',
        async run() {
          const created = await client.ok('mutation { createToken(input: { role: READ, name: "bench" }) { token info { id } } }');
          const { token, info } = created.createToken;
          const ws = createClient({ url: `${url.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0, lazy: false, connectionParams: { Authorization: `Bearer ${token}` } });
          let closed = '';
          ws.on('closed', (e) => (closed = `closed ${(e as { code?: number }).code ?? ''}`.trim()));
          const ask = () =>
            new Promise<string>((resolve) => {
              const stop = ws.subscribe({ query: '{ health }' }, { next: () => resolve('answered'), error: (e) => resolve(`refused ${JSON.stringify((e as { code?: number })?.code ?? (e as { message?: string }[])?.[0]?.message ?? String(e)).slice(0, 60)}`), complete: () => undefined });
              setTimeout(() => (stop(), resolve('no answer within 5 s')), 5000);
            });
          const before = await ask();
          await client.ok('mutation($id: ID!) { revokeToken(id: $id) { id } }', { id: info.id });
          await new Promise((r) => setTimeout(r, 200));
          const after = closed || (await ask());
          await ws.dispose();
          return `before revocation: ${before}; after: ${closed || after}`;
        },
      },
      {
        name: 'ensemble members with ../ paths',
        async run() {
          const json = { path: 'model.json', bytes: new TextEncoder().encode(JSON.stringify({ kind: 'ensemble', format: 1, name: 'e', members: ['../../victim'] })) };
          return answerOf(await client.upload('/upload/model', [json]));
        },
      },
      { name: 'many aliases of a costly field (300 x runs(first: 500))', run: async () => answerOf(await gql(aliases)) },
      { name: 'many aliases of one cheap field (5000 x health)', run: async () => answerOf(await gql(cheapAliases)) },
      {
        name: `zip bomb (${(bomb.length / 2 ** 20).toFixed(1)} MB images.zip, 3.2 GB inflated)`,
        run: async () => answerOf(await client.upload('/upload/dataset', [{ path: 'images.zip', bytes: bomb }])),
      },
      {
        name: 'two multipart parts of the same name',
        run: async () => answerOf(await client.upload('/upload/model', [...encoderFiles, encoderFiles.find((f) => f.path === 'model.json')!] as UploadFile[])),
      },
      { name: 'model.json nested 5000 deep', run: async () => answerOf(await client.upload('/upload/model', [{ path: 'model.json', bytes: deep }, ...encoderFiles.filter((f) => f.path !== 'model.json')])) },
      {
        name: 'oversize label (500 000 characters)',
        run: async () => answerOf(await gql('mutation($input: StartRunsInput!) { startRuns(input: $input) { id } }', { input: { generator, methods: ['GA'], neurons: [{ session: 's1', index: 0 }], settings: { steps: 1 }, label: 'x'.repeat(500_000) } })),
      },
      { name: 'token without "Bearer "', run: async () => answerOf(await gql('{ health }', {}, admin)) },
      {
        name: 'unknown route (GET /nope)',
        async run() {
          const r = await post('/nope', { headers: { authorization: `Bearer ${admin}` } });
          return `${r.status} ${r.type.split(';')[0]}${r.body?.error?.code ? ` ${r.body.error.code}` : ''}`;
        },
      },
    ];

    for (const attack of attacks) {
      log(`bench:abuse: ${attack.name}`);
      const peakResettable = resetPeak(pid);
      let sampled = status(pid, 'VmRSS');
      const sampler = setInterval(() => (sampled = Math.max(sampled, status(pid, 'VmRSS'))), 20);
      let running = true;
      let worst = 0;
      let polls = 0;
      const poller = (async () => {
        // bounded: one poll per 50 ms while the attack runs, which ends within ATTACK_TIMEOUT_MS
        for (let i = 0; running && i < ATTACK_TIMEOUT_MS / 50 + 100; i++) {
          const t0 = performance.now();
          await fetch(`${url}/health`).then((r) => r.arrayBuffer()).catch(() => undefined);
          worst = Math.max(worst, performance.now() - t0);
          polls++;
          await new Promise((r) => setTimeout(r, 50));
        }
      })();
      let answer: string;
      let timer: NodeJS.Timeout | undefined;
      try {
        answer = await Promise.race([attack.run(), new Promise<string>((resolve) => (timer = setTimeout(() => resolve(`no answer within ${ATTACK_TIMEOUT_MS / 1000} s`), ATTACK_TIMEOUT_MS)))]);
      } catch (e) {
        answer = `error: ${(e as Error).message.slice(0, 100)}`;
      } finally {
        clearTimeout(timer);
      }
      // one more poll after the answer: a stall that outlasts the request shows too
      await new Promise((r) => setTimeout(r, 100));
      running = false;
      await poller;
      clearInterval(sampler);
      const peak = Math.max(sampled, peakResettable ? status(pid, 'VmHWM') : 0);
      rows.push({ attack: attack.name, answer, worstHealthMs: Math.round(worst), healthPolls: polls, peakRssMiB: Math.round(peak) });
    }

    const result = { machine, server: 'excite serve (embedded PGlite, worker in the process), 127.0.0.1', baselineRssMiB: Math.round(baselineRss), attacks: rows };
    if (args.json) console.log(JSON.stringify(result, null, 2));
    else {
      console.log(`bench:abuse on ${machine}`);
      console.log(`${result.server}; server RSS before the attacks ${result.baselineRssMiB} MiB; /health polled every 50 ms during each attack`);
      console.log('| attack | answer | worst /health ms | server peak RSS MiB |');
      console.log('|---|---|---|---|');
      for (const r of rows) console.log(`| ${r.attack} | ${r.answer} | ${r.worstHealthMs} (${r.healthPolls} polls) | ${r.peakRssMiB} |`);
    }
  } finally {
    await server.stop('SIGTERM');
    await rm(data, { recursive: true, force: true });
    await rm(folders, { recursive: true, force: true });
  }
}

await main();
