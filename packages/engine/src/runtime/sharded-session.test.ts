import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Graph } from '../onnx/graph.ts';
import { float32, int64 } from '../onnx/ndarray.ts';
import { add, mul } from '../onnx/ops/elementwise.ts';
import { reduceSum } from '../onnx/ops/reduce.ts';
import { gather } from '../onnx/ops/gather.ts';
import { SessionCache, createSession } from './session.ts';
import { ShardedSession, shardRows } from './sharded-session.ts';

/** y = x * w + bias (w fed whole to every slice), s = sum over each row of y, and a weight baked in. */
function rowwise() {
  const g = new Graph('rowwise');
  const x = g.input('x', 'float32', ['batch', 4]);
  const w = g.input('w', 'float32', [4]);
  const y = add(mul(x, w), g.weight('bias', float32([4], [0.5, -1, 2, 0])));
  g.output(y, 'y');
  g.output(reduceSum(y, [1], false), 's');
  return g;
}

const outputsFor = (rows: number) => ({ y: float32([rows, 4]), s: float32([rows]) });

describe('sharded sessions (slices of a batch in worker threads)', () => {
  it('splits rows as evenly as it can and skips empty slices', () => {
    expect(shardRows(5, 2)).toEqual([[0, 3], [3, 5]]);
    expect(shardRows(8, 2)).toEqual([[0, 4], [4, 8]]);
    expect(shardRows(2, 3)).toEqual([[0, 1], [1, 2]]);
    expect(shardRows(1, 4)).toEqual([[0, 1]]);
  });

  it('gives what one session gives, in place, run after run, for a batch that does not divide evenly', async () => {
    const g = rowwise();
    const single = await createSession(g, {}, { device: 'cpu', threads: 1 });
    const sharded = await ShardedSession.create(g, { shards: 2 });
    expect(sharded.shards).toBe(2);
    const x = float32([5, 4], Array.from({ length: 20 }, (_, i) => Math.sin(i)));
    const w = float32([4], [1, 2, -3, 0.25]);
    const outputs = outputsFor(5);
    const run = sharded.prepare({ x, w }, outputs);
    for (const shift of [0, 1.5]) {
      x.data.forEach((v, i) => (x.data[i] = v + shift));
      await run();
      const expected = await single.run({ x, w });
      expect([...outputs.y.data]).toEqual([...(expected.y.data as Float32Array)]);
      expect([...outputs.s.data]).toEqual([...(expected.s.data as Float32Array)]);
    }
    await Promise.all([single.release(), sharded.release()]);
  });

  it('refuses what it cannot slice and feeds that do not fit, with clear errors', async () => {
    const g = new Graph('pooled');
    const x = g.input('x', 'float32', ['batch', 4]);
    g.output(reduceSum(x, [0, 1], false), 'total');
    await expect(ShardedSession.create(g, { shards: 2 })).rejects.toThrow(/output "total" \[\] does not have the batch "batch" as its first axis/);
    await expect(ShardedSession.create(rowwise(), { shards: 0 })).rejects.toThrow(/shards must be a positive integer/);
    // a [batch, batch] input (a diverse set's mask): rows that interact
    const pairs = new Graph('pairs');
    const y = pairs.input('y', 'float32', ['batch', 4]);
    pairs.output(reduceSum(mul(pairs.input('mask', 'float32', ['batch', 'batch']), 1), [1], false), 'm');
    pairs.output(y, 'y_out');
    await expect(ShardedSession.create(pairs, { shards: 2 })).rejects.toThrow(/input "mask" \[batch,batch\] has the batch "batch" beyond its first axis/);

    const sharded = await ShardedSession.create(rowwise(), { shards: 2 });
    const x3 = float32([3, 4]);
    expect(() => sharded.prepare({ x: x3 }, outputsFor(3))).toThrow(/missing feed "w"/);
    expect(() => sharded.prepare({ x: x3, w: float32([5]) }, outputsFor(3))).toThrow(/feed "w"/);
    expect(() => sharded.prepare({ x: x3, w: float32([4]) }, outputsFor(2))).toThrow(/output "y" has 2 rows for a batch of 3/);
    expect(() => sharded.prepare({ x: x3, w: float32([4]) }, { z: float32([3]) })).toThrow(/no output "z"/);
    await sharded.release();
    await expect(sharded.prepare({ x: x3, w: float32([4]) }, outputsFor(3))()).rejects.toThrow(/the session was released/);
  });

  it("brings an error inside a slice's thread back as a rejected run, and the session still runs", async () => {
    // an index out of range is only found by onnxruntime, inside the slices' threads
    const g = new Graph('pick');
    const x = g.input('x', 'float32', ['batch', 4]);
    g.output(gather(x, g.input('column', 'int64', [1]), 1), 'y');
    const sharded = await ShardedSession.create(g, { shards: 2 });
    const xs = float32([3, 4], Array.from({ length: 12 }, (_, i) => i));
    const bad = sharded.prepare({ x: xs, column: int64([1], [7]) }, { y: float32([3, 1]) });
    await expect(bad()).rejects.toThrow(/out of (data )?bounds|indices/i);
    const y = float32([3, 1]);
    await sharded.prepare({ x: xs, column: int64([1], [2]) }, { y })();
    expect([...y.data]).toEqual([2, 6, 10]);
    await sharded.release();
  });

  it('is kept by a session cache and made anew once its threads are gone', async () => {
    const cache = new SessionCache();
    const first = await cache.forId('rowwise:2', () => ShardedSession.create(rowwise(), { shards: 2 }));
    expect(await cache.forId('rowwise:2', () => ShardedSession.create(rowwise(), { shards: 2 }))).toBe(first);
    await first.release();
    const second = await cache.forId('rowwise:2', () => ShardedSession.create(rowwise(), { shards: 2 }));
    expect(second).not.toBe(first);
    expect(cache.size).toBe(1);
    await cache.clear();
  });

  it('does not keep a process alive once its runs are done', () => {
    // a CLI that ends without releasing its cached sessions must still exit
    const here = path.dirname(fileURLToPath(import.meta.url));
    const code = `
      import { Graph } from ${JSON.stringify(path.join(here, '../onnx/graph.ts'))};
      import { float32 } from ${JSON.stringify(path.join(here, '../onnx/ndarray.ts'))};
      import { mul } from ${JSON.stringify(path.join(here, '../onnx/ops/elementwise.ts'))};
      import { ShardedSession } from ${JSON.stringify(path.join(here, 'sharded-session.ts'))};
      const g = new Graph('double');
      g.output(mul(g.input('x', 'float32', ['batch', 2]), 2), 'y');
      const s = await ShardedSession.create(g, { shards: 2 });
      const y = float32([3, 2]);
      await s.prepare({ x: float32([3, 2], [1, 2, 3, 4, 5, 6]) }, { y })();
      console.log(JSON.stringify([...y.data]));
    `;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.signal).toBeNull();
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([2, 4, 6, 8, 10, 12]);
  });
});
