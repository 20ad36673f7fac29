import { describe, expect, it } from 'vitest';
import { LocalBus } from './bus.ts';
import type { ProgressMessage, StatusMessage } from './messages.ts';
import { ProgressHub } from './progress-hub.ts';

const step = (runId: string, step: number, attempt = 1): ProgressMessage => ({
  runId,
  attempt,
  step,
  steps: 5,
  energy: -step,
  activation: step,
  preview: { width: 1, height: 1, channels: 1, png: 'AA==' },
  at: new Date().toISOString(),
});
const status = (runId: string, s: StatusMessage['status']): StatusMessage => ({ runId, batchId: 'b', status: s, error: null, at: new Date().toISOString() });

async function drain<T>(it: AsyncIterableIterator<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('the progress hub', () => {
  it('replays the steps a late subscriber missed, then the live ones, and ends with the run', async () => {
    const bus = new LocalBus();
    const hub = new ProgressHub(bus, { previews: 2 });
    await hub.start();
    await bus.publish('progress', [step('r', 1), step('r', 2), step('r', 3), step('other', 1)]);
    const stream = hub.followRun('r', async () => false);
    await bus.publish('progress', [step('r', 4), step('r', 5)]);
    await bus.publish('status', [status('r', 'succeeded')]);
    const events = await drain(stream);
    expect(events.map((e) => e.step)).toEqual([1, 2, 3, 4, 5]);
    // older steps lose their previews: only the latest `previews` keep them
    expect(events.map((e) => e.preview !== null)).toEqual([false, true, true, true, true]);
    hub.close();
  });

  it('ends at once after the replay when the run has finished', async () => {
    const bus = new LocalBus();
    const hub = new ProgressHub(bus);
    await hub.start();
    await bus.publish('progress', [step('r', 1), step('r', 2)]);
    await bus.publish('status', [status('r', 'failed')]);
    expect((await drain(hub.followRun('r', async () => true))).map((e) => e.step)).toEqual([1, 2]);
    hub.close();
  });

  it('starts over with a retry (the next attempt) and never repeats a step', async () => {
    const bus = new LocalBus();
    const hub = new ProgressHub(bus);
    await hub.start();
    await bus.publish('progress', [step('r', 1), step('r', 2)]);
    const stream = hub.followRun('r', async () => false);
    await bus.publish('progress', [step('r', 2), step('r', 1, 2), step('r', 2, 2)]);
    await bus.publish('status', [status('r', 'succeeded')]);
    expect((await drain(stream)).map((e) => `${e.attempt}:${e.step}`)).toEqual(['1:1', '1:2', '2:1', '2:2']);
    hub.close();
  });

  it('filters status changes and stops delivering when the subscriber leaves', async () => {
    const bus = new LocalBus();
    const hub = new ProgressHub(bus);
    await hub.start();
    const stream = hub.statusChanges((m) => m.batchId === 'b' && m.runId === 'x');
    await bus.publish('status', [status('y', 'running'), status('x', 'running')]);
    expect((await stream.next()).value).toMatchObject({ runId: 'x', status: 'running' });
    await stream.return!();
    await bus.publish('status', [status('x', 'succeeded')]);
    expect(await stream.next()).toEqual({ value: undefined, done: true });
    hub.close();
  });
});
