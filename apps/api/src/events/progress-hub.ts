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
import type { ProgressMessage, StatusMessage } from './messages.ts';

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
    await this.bus.ready();
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
  }
}
