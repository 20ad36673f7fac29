/**
 * A push-to-pull queue: producers push, one consumer iterates (a subscription's event stream).
 * Nothing is dropped; `end` lets the consumer drain what is queued and then finish; `return` (the
 * consumer went away) runs the cleanup.
 */
export class AsyncQueue<T> implements AsyncIterableIterator<T> {
  private readonly items: T[] = [];
  private waiting?: { resolve: (result: IteratorResult<T>) => void; reject: (e: unknown) => void };
  private ended = false;
  private failure?: unknown;

  constructor(private readonly cleanup: () => void = () => undefined) {}

  push(item: T): void {
    if (this.ended) return;
    if (this.waiting) {
      const { resolve } = this.waiting;
      this.waiting = undefined;
      resolve({ value: item, done: false });
    } else this.items.push(item);
  }

  /** No more items: the consumer gets what is queued, then the end (or `error`). */
  end(error?: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.failure = error;
    this.cleanup();
    if (this.waiting && this.items.length === 0) {
      const { resolve, reject } = this.waiting;
      this.waiting = undefined;
      if (error) reject(error);
      else resolve({ value: undefined, done: true });
    }
  }

  next(): Promise<IteratorResult<T>> {
    if (this.items.length > 0) return Promise.resolve({ value: this.items.shift()!, done: false });
    if (this.ended) return this.failure ? Promise.reject(this.failure) : Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => (this.waiting = { resolve, reject }));
  }

  return(): Promise<IteratorResult<T>> {
    this.items.length = 0;
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
