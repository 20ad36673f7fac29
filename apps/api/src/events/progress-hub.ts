/**
 * Subscriptions' side of the bus, in each API process: it follows every run's steps as they pass
 * (so a subscriber who comes late gets the steps it missed, then the live ones, in order and
 * without gaps or repeats) and ends a run's stream at its terminal status. Older steps keep their
 * energy and activation but drop their previews (memory); a run's log is forgotten a while after
 * it ended.
 */
import { TERMINAL_STATUSES } from '../db/schema.ts';
import { AsyncQueue } from './async-queue.ts';
import type { Bus } from './bus.ts';
import type { ProgressMessage, StatusMessage, TrainingMessage } from './messages.ts';
import type { RunStatus, TrainingEpochRow } from '../db/schema.ts';

/** What the hub needs of a training's row: its status and the epochs it stored. */
export interface TrainingSnapshot {
  id: string;
  status: RunStatus;
  attempts: number;
  member: number;
  epoch: number;
  history: TrainingEpochRow[];
  error: { code: string; message: string } | null;
}

/** A training's batch events kept for late subscribers (epochs and status changes are all kept). */
const MAX_TRAINING_BATCH_EVENTS = 20_000;

/** Where an event is in a training: member, epoch, then its batches, then the epoch's validation. */
function position(m: TrainingMessage): number[] | undefined {
  if (m.kind === 'batch') return [m.member, m.epoch, 0, m.batch ?? 0];
  if (m.kind === 'epoch') return [m.member, m.epoch, 1, 0];
  return undefined;
}

function compare(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

interface TrainingLog {
  attempt: number;
  events: TrainingMessage[];
  batches: number;
  ended?: NodeJS.Timeout;
}

export interface HubOptions {
  /** how many of a run's latest steps keep their previews (default 4) */
  previews?: number;
  /** how long a run's log stays after it ended, ms (default 60 s) */
  keepEnded?: number;
}

interface RunLog {
  attempt: number;
  events: ProgressMessage[];
  ended?: NodeJS.Timeout;
}

const isTerminal = (m: StatusMessage) => TERMINAL_STATUSES.includes(m.status);

export class ProgressHub {
  private readonly logs = new Map<string, RunLog>();
  private readonly progressListeners = new Map<string, Set<(m: ProgressMessage) => void>>();
  private readonly statusListeners = new Set<(m: StatusMessage) => void>();
  private readonly trainingLogs = new Map<string, TrainingLog>();
  private readonly trainingListeners = new Map<string, Set<(m: TrainingMessage) => void>>();
  private readonly open = new Set<AsyncQueue<unknown>>();
  private readonly unsubscribe: (() => void)[] = [];
  private readonly previews: number;
  private readonly keepEnded: number;

  constructor(
    private readonly bus: Bus,
    options: HubOptions = {},
  ) {
    this.previews = options.previews ?? 4;
    this.keepEnded = options.keepEnded ?? 60_000;
  }

  /** Starts following the bus; resolves when no later event can be missed. */
  async start(): Promise<void> {
    this.unsubscribe.push(this.bus.subscribe('progress', (m) => this.onProgress(m)));
    this.unsubscribe.push(this.bus.subscribe('status', (m) => this.onStatus(m)));
    this.unsubscribe.push(this.bus.subscribe('training', (m) => this.onTraining(m)));
    await this.bus.ready();
  }

  /**
   * A training's log is its history as subscribers should see it: when a new attempt resumes from
   * a checkpoint, the events after the checkpoint's position (which it computes again) leave the log.
   */
  private onTraining(m: TrainingMessage): void {
    let log = this.trainingLogs.get(m.trainingId);
    if (!log) {
      log = { attempt: m.attempt, events: [], batches: 0 };
      this.trainingLogs.set(m.trainingId, log);
    }
    const pos = position(m);
    if (pos && m.attempt > log.attempt) {
      if (log.ended) clearTimeout(log.ended);
      log.ended = undefined;
      log.events = log.events.filter((e) => {
        const p = position(e);
        return !p || compare(p, pos) < 0;
      });
      log.batches = log.events.filter((e) => e.kind === 'batch').length;
      log.attempt = m.attempt;
    }
    if (!pos || m.attempt >= log.attempt) {
      log.events.push(m);
      if (m.kind === 'batch' && ++log.batches > MAX_TRAINING_BATCH_EVENTS) {
        log.events.splice(log.events.findIndex((e) => e.kind === 'batch'), 1);
        log.batches--;
      }
    }
    if (m.kind === 'status' && TERMINAL_STATUSES.includes(m.status) && !log.ended) {
      const ended = log;
      ended.ended = setTimeout(() => this.trainingLogs.get(m.trainingId) === ended && this.trainingLogs.delete(m.trainingId), this.keepEnded);
      ended.ended.unref();
    }
    for (const listener of this.trainingListeners.get(m.trainingId) ?? []) listener(m);
  }

  /**
   * A training's events: those logged so far (or, when this process saw none, its stored epochs),
   * then the live ones, in order without repeats; the stream ends with the status event of its end
   * (made from the row when the training had ended already).
   */
  followTraining(training: TrainingSnapshot, now: () => Promise<TrainingSnapshot | undefined>): AsyncIterableIterator<TrainingMessage> {
    const id = training.id;
    let attempt = 0;
    let last: number[] | undefined;
    let done = false;
    const deliver = (m: TrainingMessage) => {
      if (done) return;
      const pos = position(m);
      if (m.attempt < attempt) return;
      if (m.attempt > attempt) {
        // a new attempt goes on from its checkpoint: its positions start over
        attempt = m.attempt;
        last = undefined;
      }
      if (pos) {
        if (last && compare(pos, last) <= 0) return;
        last = pos;
      }
      queue.push(m);
      if (m.kind === 'status' && TERMINAL_STATUSES.includes(m.status)) {
        done = true;
        queue.end();
      }
    };
    const listeners = this.trainingListeners.get(id) ?? new Set();
    this.trainingListeners.set(id, listeners);
    const queue: AsyncQueue<TrainingMessage> = new AsyncQueue(() => {
      listeners.delete(deliver);
      if (listeners.size === 0 && this.trainingListeners.get(id) === listeners) this.trainingListeners.delete(id);
      this.open.delete(queue as AsyncQueue<unknown>);
    });
    this.open.add(queue as AsyncQueue<unknown>);
    listeners.add(deliver);
    const logged = this.trainingLogs.get(id)?.events;
    if (logged?.length) for (const m of logged) deliver(m);
    else for (const h of training.history) deliver({ trainingId: id, kind: 'epoch', attempt: training.attempts, member: h.member, epoch: h.epoch, loss: h.trainLoss, valLoss: h.valLoss, valCorrelation: h.valCorrelation, lr: h.lr, status: 'running', at: new Date().toISOString() });
    now().then(
      (row) => {
        if (done) return;
        if (!row) return queue.end();
        if (TERMINAL_STATUSES.includes(row.status)) deliver({ trainingId: id, kind: 'status', attempt: Math.max(row.attempts, attempt), member: row.member, epoch: row.epoch, status: row.status, error: row.error, at: new Date().toISOString() });
      },
      (e) => queue.end(e),
    );
    return queue;
  }

  private onProgress(m: ProgressMessage): void {
    let log = this.logs.get(m.runId);
    if (!log || m.attempt > log.attempt) {
      if (log?.ended) clearTimeout(log.ended);
      log = { attempt: m.attempt, events: [] };
      this.logs.set(m.runId, log);
    }
    if (m.attempt === log.attempt) {
      log.events.push(m);
      const old = log.events.length - 1 - this.previews;
      if (old >= 0 && log.events[old].preview) log.events[old] = { ...log.events[old], preview: null };
    }
    for (const listener of this.progressListeners.get(m.runId) ?? []) listener(m);
  }

  private onStatus(m: StatusMessage): void {
    if (isTerminal(m)) {
      const log = this.logs.get(m.runId);
      if (log && !log.ended) {
        log.ended = setTimeout(() => this.logs.get(m.runId) === log && this.logs.delete(m.runId), this.keepEnded);
        log.ended.unref();
      }
    }
    for (const listener of this.statusListeners) listener(m);
  }

  /**
   * A run's steps: those logged so far, then the live ones; the stream ends at the run's terminal
   * status, or at once after the replay when `finished()` says the run already ended.
   */
  followRun(runId: string, finished: () => Promise<boolean>): AsyncIterableIterator<ProgressMessage> {
    let attempt = 0;
    let step = 0;
    const deliver = (m: ProgressMessage) => {
      if (m.attempt < attempt || (m.attempt === attempt && m.step <= step)) return;
      attempt = m.attempt;
      step = m.step;
      queue.push(m);
    };
    const onStatus = (m: StatusMessage) => m.runId === runId && isTerminal(m) && queue.end();
    const listeners = this.progressListeners.get(runId) ?? new Set();
    this.progressListeners.set(runId, listeners);
    const queue: AsyncQueue<ProgressMessage> = new AsyncQueue(() => {
      listeners.delete(deliver);
      if (listeners.size === 0 && this.progressListeners.get(runId) === listeners) this.progressListeners.delete(runId);
      this.statusListeners.delete(onStatus);
      this.open.delete(queue as AsyncQueue<unknown>);
    });
    this.open.add(queue as AsyncQueue<unknown>);
    // registration and replay happen in one synchronous stretch: no event falls between them
    listeners.add(deliver);
    this.statusListeners.add(onStatus);
    for (const m of this.logs.get(runId)?.events ?? []) deliver(m);
    finished().then(
      (done) => done && queue.end(),
      (e) => queue.end(e),
    );
    return queue;
  }

  /** Status changes that pass `filter`, from now on. */
  statusChanges(filter: (m: StatusMessage) => boolean): AsyncIterableIterator<StatusMessage> {
    const listener = (m: StatusMessage) => filter(m) && queue.push(m);
    const queue: AsyncQueue<StatusMessage> = new AsyncQueue(() => {
      this.statusListeners.delete(listener);
      this.open.delete(queue as AsyncQueue<unknown>);
    });
    this.open.add(queue as AsyncQueue<unknown>);
    this.statusListeners.add(listener);
    return queue;
  }

  /** Ends every open stream (shutdown) and stops following the bus. */
  close(): void {
    for (const queue of [...this.open]) queue.end();
    for (const stop of this.unsubscribe.splice(0)) stop();
    for (const log of this.logs.values()) if (log.ended) clearTimeout(log.ended);
    this.logs.clear();
    for (const log of this.trainingLogs.values()) if (log.ended) clearTimeout(log.ended);
    this.trainingLogs.clear();
  }
}
