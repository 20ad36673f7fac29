/**
 * The event bus between workers and the API processes that serve subscriptions. Embedded (one
 * process) it is an in-memory emitter; on PostgreSQL it is LISTEN/NOTIFY, so that any worker's
 * events reach every API process. Delivery keeps the order of `publish` calls; handlers run
 * synchronously in delivery order.
 */
import { EventEmitter } from 'node:events';
import type { Database } from '../db/database.ts';
import type { Topic, Topics } from './messages.ts';

export interface Bus {
  /** resolves once the messages are on their way (NOTIFY: sent, in order) */
  publish<T extends Topic>(topic: T, messages: readonly Topics[T][]): Promise<void>;
  subscribe<T extends Topic>(topic: T, handler: (message: Topics[T]) => void): () => void;
  /** resolves once the subscriptions made so far receive every later message */
  ready(): Promise<void>;
  close(): Promise<void>;
}

export class LocalBus implements Bus {
  private readonly emitter = new EventEmitter().setMaxListeners(0);

  async publish<T extends Topic>(topic: T, messages: readonly Topics[T][]): Promise<void> {
    // a copy through JSON, as NOTIFY makes it: no subscriber shares the worker's objects
    for (const m of messages) this.emitter.emit(topic, JSON.parse(JSON.stringify(m)));
  }

  subscribe<T extends Topic>(topic: T, handler: (message: Topics[T]) => void): () => void {
    this.emitter.on(topic, handler);
    return () => void this.emitter.off(topic, handler);
  }

  async ready(): Promise<void> {}

  async close(): Promise<void> {
    this.emitter.removeAllListeners();
  }
}

/** PostgreSQL's limit on a NOTIFY payload is 8000 bytes. */
export const MAX_NOTIFY_BYTES = 7900;

export class PostgresBus implements Bus {
  private readonly local = new LocalBus();
  private readonly unlisten: Promise<() => Promise<void>>[] = [];
  private readonly listening = new Set<Topic>();

  constructor(
    private readonly database: Database,
    /** channel prefix: one database can hold several services' events apart */
    private readonly prefix = 'excite_',
  ) {
    if (!database.listen) throw new Error('PostgresBus needs a PostgreSQL database (LISTEN)');
  }

  async publish<T extends Topic>(topic: T, messages: readonly Topics[T][]): Promise<void> {
    if (messages.length === 0) return;
    const payloads = messages.map((m) => fitPayload(m));
    // one statement: the notifications leave in array order
    await this.database.executeSql('SELECT pg_notify($1, payload) FROM unnest($2::text[]) AS payload', [this.prefix + topic, payloads]);
  }

  subscribe<T extends Topic>(topic: T, handler: (message: Topics[T]) => void): () => void {
    if (!this.listening.has(topic)) {
      this.listening.add(topic);
      const stop = this.database.listen!(this.prefix + topic, (payload) => {
        let message: Topics[T];
        try {
          message = JSON.parse(payload);
        } catch {
          return;
        }
        void this.local.publish(topic, [message]);
      });
      stop.catch((e) => console.error(`excite: cannot LISTEN for ${topic} events: ${(e as Error).message}`));
      this.unlisten.push(stop);
    }
    return this.local.subscribe(topic, handler);
  }

  async ready(): Promise<void> {
    await Promise.all(this.unlisten);
  }

  async close(): Promise<void> {
    const stops = await Promise.allSettled(this.unlisten);
    await Promise.all(stops.map((s) => (s.status === 'fulfilled' ? s.value() : undefined)));
    await this.local.close();
  }
}

/** JSON of a message, its preview left out when it would not fit in a NOTIFY. */
function fitPayload(message: object): string {
  const json = JSON.stringify(message);
  if (Buffer.byteLength(json) <= MAX_NOTIFY_BYTES) return json;
  if ('preview' in message) {
    const smaller = JSON.stringify({ ...message, preview: null });
    if (Buffer.byteLength(smaller) <= MAX_NOTIFY_BYTES) return smaller;
  }
  throw new Error(`an event of ${Buffer.byteLength(json)} bytes does not fit in a NOTIFY`);
}
