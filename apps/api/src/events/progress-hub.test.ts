import { describe, expect, it } from 'vitest';
import { LocalBus } from './bus.ts';
import type { ProgressMessage, StatusMessage, TrainingMessage } from './messages.ts';
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

  it('replays a training as its history reads after a resume: the events a new attempt computes again leave the log', async () => {
    const bus = new LocalBus();
    const hub = new ProgressHub(bus);
    await hub.start();
    const at = new Date().toISOString();
    const batch = (epoch: number, b: number, attempt = 1): TrainingMessage => ({ trainingId: 't', kind: 'batch', attempt, member: 0, epoch, batch: b, batches: 3, loss: 1, status: 'running', at });
    const epochEnd = (epoch: number, attempt = 1): TrainingMessage => ({ trainingId: 't', kind: 'epoch', attempt, member: 0, epoch, valLoss: 1, valCorrelation: 0.5, lr: 1e-3, status: 'running', at });
    const state = (s: TrainingMessage['status'], attempt: number): TrainingMessage => ({ trainingId: 't', kind: 'status', attempt, member: 0, epoch: 1, status: s, at });
    // attempt 1 got to epoch 2 batch 2, its checkpoint was at epoch 2 batch 1; attempt 2 goes on from there
    await bus.publish('training', [state('running', 1), batch(1, 1), batch(1, 2), batch(1, 3), epochEnd(1), batch(2, 1), batch(2, 2), state('queued', 1), state('running', 2), batch(2, 2, 2)]);
    const live = hub.followTraining({ id: 't', status: 'running', attempts: 2, member: 0, epoch: 1, history: [], error: null }, async () => ({ id: 't', status: 'running', attempts: 2, member: 0, epoch: 1, history: [], error: null }));
    await bus.publish('training', [batch(2, 3, 2), epochEnd(2, 2), state('succeeded', 2)]);
    const events = await drain(live);
    const key = (e: TrainingMessage) => (e.kind === 'status' ? `${e.status}@${e.attempt}` : `${e.epoch}.${e.batch ?? 'end'}@${e.attempt}`);
    expect(events.map(key)).toEqual(['running@1', '1.1@1', '1.2@1', '1.3@1', '1.end@1', '2.1@1', 'queued@1', 'running@2', '2.2@2', '2.3@2', '2.end@2', 'succeeded@2']);
    // a subscriber after the end gets the same and ends at once
    const late = await drain(hub.followTraining({ id: 't', status: 'succeeded', attempts: 2, member: 0, epoch: 2, history: [], error: null }, async () => ({ id: 't', status: 'succeeded', attempts: 2, member: 0, epoch: 2, history: [], error: null })));
    expect(late.map(key)).toEqual(events.map(key));
    hub.close();
  });

  it('replays the stored history of a training this process saw nothing of, and ends with its end', async () => {
    const hub = new ProgressHub(new LocalBus());
    await hub.start();
    const history = [1, 2].map((epoch) => ({ member: 0, epoch, trainLoss: 2, valLoss: 1, valCorrelation: 0.4, lr: 1e-3, improved: true, action: 'continue', seconds: 1 }));
    const row = { id: 'u', status: 'failed' as const, attempts: 1, member: 0, epoch: 2, history, error: { code: 'DIVERGED', message: 'nan' } };
    const events = await drain(hub.followTraining(row, async () => row));
    expect(events.map((e) => [e.kind, e.epoch, e.status])).toEqual([['epoch', 1, 'running'], ['epoch', 2, 'running'], ['status', 2, 'failed']]);
    expect(events.at(-1)!.error).toEqual({ code: 'DIVERGED', message: 'nan' });
    hub.close();
  });
});
