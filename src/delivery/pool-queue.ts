/**
 * A smaller waiting queue for undici's Pools. Each Pool keeps the requests that wait for a
 * connection in a FixedQueue that allocates 2,048 slots (16 KiB) up front and keeps them for the
 * pool's life. Herald holds a pool per origin and endpoint, and sends an endpoint no more requests
 * at once than its pool has connections, so that queue is nearly always empty: with 10,000
 * endpoints it was ~190 MiB of heap holding nothing (a burst to 10,000 origins, one request each:
 * heap +251 MiB with the stock queue, +58 MiB with this one; resident +553 against +397 MiB).
 *
 * undici has no option for it, so the queue is swapped through the Pool's own `queue` symbol. That
 * is undici's inside, not its API: the swap happens only when the field is there and looks exactly
 * like the queue it replaces (an empty FixedQueue), and otherwise the pool keeps its own, which
 * works as before, only larger. test/delivery/pool-queue.test.ts fails when an upgrade changes it.
 */
import type { Pool } from 'undici';

/** First in, first out, growing from nothing; what a Pool calls of its queue: push, shift, isEmpty. */
export class GrowingQueue<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  isEmpty(): boolean {
    return this.head === this.items.length;
  }

  push(item: T): void {
    this.items.push(item);
  }

  /** The oldest item, or null when there is none (as FixedQueue answers). */
  shift(): T | null {
    if (this.head === this.items.length) return null;
    const item = this.items[this.head] as T;
    this.items[this.head++] = undefined;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}

/**
 * What undici's FixedQueue (7.x) is made of: its methods, and its own fields. A queue with anything
 * more may be used through it (a `peek()`, a `length`) by a Pool that GrowingQueue would then break,
 * so it is left in place.
 */
const FIXED_QUEUE_METHODS = 'constructor,isEmpty,push,shift';
const FIXED_QUEUE_FIELDS = 'head,tail';

/** The Pool's own-property symbol that holds its waiting queue, if it is the one this file knows. */
export function poolQueueSymbol(pool: Pool): symbol | null {
  const symbol = Object.getOwnPropertySymbols(pool).find((s) => s.description === 'queue');
  if (!symbol) return null;
  const queue = (pool as unknown as Record<symbol, unknown>)[symbol] as
    | { constructor?: { name?: string }; isEmpty?: unknown; push?: unknown; shift?: unknown }
    | null
    | undefined;
  if (typeof queue !== 'object' || queue === null) return null;
  const methods = Object.getOwnPropertyNames(Object.getPrototypeOf(queue)).sort().join(',');
  const fields = Object.keys(queue).sort().join(',');
  const looksRight =
    queue.constructor?.name === 'FixedQueue' &&
    methods === FIXED_QUEUE_METHODS &&
    fields === FIXED_QUEUE_FIELDS &&
    typeof queue.isEmpty === 'function' &&
    typeof queue.push === 'function' &&
    typeof queue.shift === 'function' &&
    (queue.isEmpty as () => boolean).call(queue) === true;
  return looksRight ? symbol : null;
}

/** Gives a new Pool a GrowingQueue; false (the pool unchanged) when undici's inside is not as expected. */
export function useGrowingQueue(pool: Pool): boolean {
  const symbol = poolQueueSymbol(pool);
  if (!symbol) return false;
  (pool as unknown as Record<symbol, unknown>)[symbol] = new GrowingQueue();
  return true;
}
