/**
 * When the deliveries this process put back (no rate token yet, or no free slot) come due, so the
 * loop claims again then instead of sleeping a whole poll interval. Deliveries put back are spread
 * one token apart (1/perSecond), so the loop needs every one of those times, not only the earliest:
 * a min-heap of them. Only a hint for when to claim: the deliveries themselves are in the store,
 * and a time dropped here (the heap is full) only means that delivery waits for the next poll.
 */
export interface DeferredWakeups {
  /** Remembers that something will be due at `at` (ms). */
  add(at: number): void;
  /** Forgets every time up to `now`; true when there was one (something is due). */
  takeDue(now: number): boolean;
  /** How long to sleep from `now`: `ms`, or less when something comes due sooner (at least `minMs`). */
  sleepFor(ms: number, now: number, minMs: number): number;
  readonly size: number;
}

/** Times held at most; past it a deferred delivery waits for the next poll (or wake-up). */
export const DEFERRED_WAKEUPS_MAX = 65_536;

export function createDeferredWakeups(max = DEFERRED_WAKEUPS_MAX): DeferredWakeups {
  const heap: number[] = [];
  const up = (i: number) => {
    const v = heap[i]!;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]! <= v) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = v;
  };
  const down = (i: number) => {
    const n = heap.length;
    const v = heap[i]!;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && heap[child + 1]! < heap[child]!) child++;
      if (heap[child]! >= v) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = v;
  };
  const pop = () => {
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      down(0);
    }
  };
  return {
    add(at) {
      if (heap.length >= max) {
        // Full: the latest half goes (a sorted array is a heap), so a near time is never the one
        // dropped. Those deliveries wait for the poll, or for a wake-up.
        heap.sort((a, b) => a - b);
        heap.length = max >> 1;
      }
      heap.push(at);
      up(heap.length - 1);
    },
    takeDue(now) {
      let due = false;
      while (heap.length > 0 && heap[0]! <= now) {
        pop();
        due = true;
      }
      return due;
    },
    sleepFor(ms, now, minMs) {
      if (heap.length === 0) return ms;
      return Math.min(ms, Math.max(minMs, heap[0]! - now));
    },
    get size() {
      return heap.length;
    },
  };
}
