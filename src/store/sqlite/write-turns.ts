/**
 * Turns at the write lock among the connections of one process to one SQLite file (the API thread's
 * and the dispatcher thread's: `herald serve` runs them so, and its serving lock keeps any other
 * process from serving the file: serving-lock.ts).
 *
 * SQLite's write lock has no queue. A connection refused it sleeps and tries again, and one that
 * commits again and again takes it back within a millisecond of letting it go: with accepts
 * committed one after the other, the dispatcher thread's claims got it by chance, in a gap between
 * two commits: 4 claims in 8 s against 7 on a file of their own, some refused as busy past the 5 s
 * busy timeout (bench/claim-write-lock.ts), and deliveries waited while ingest went on.
 *
 * So a connection refused the lock puts its name down (`waitFor`), one at a time; the other
 * connections' next transactions wait (`yields`) until it has had the lock, or for at most
 * MAX_YIELD_MS (a thread that does not come back for it, busy or gone, holds up no one for long:
 * its name is then taken off, and one still there puts it down again when refused anew). Every transaction's end is counted and announced (`ended`), so that a connection waiting
 * blocking for the lock (`waitForEnd`) tries again as soon as the other one commits, not after
 * SQLite's busy handler's next sleep (up to 100 ms).
 *
 * The cells live in a SharedArrayBuffer that the threads share through worker_threads' environment
 * data, by the file's path: made by the first store a process opens on a file, and handed to every
 * thread started after it (serve starts the dispatcher thread once its store is open). Another
 * process writing the same file (`herald migrate`, a backup) has none: it takes the lock as SQLite
 * gives it, as before. The entry is taken out of the thread's environment data when the last store
 * the thread opened on the file closes (`release`), so a process that opens many files over its
 * life (tests, copy-to-postgres, VACUUM INTO copies) does not keep one for each; a thread started
 * before that keeps its own copy, and a store opened on the file afterwards starts new turns that
 * such a thread does not share (serve keeps its store open for as long as its dispatcher thread runs).
 */
import { getEnvironmentData, setEnvironmentData } from 'node:worker_threads';

/** The longest a transaction waits for another connection that has put its name down. */
export const MAX_YIELD_MS = 50;

/** Cells: the last connection number given, the connection waiting (0: none), transactions ended. */
const LAST_ID = 0;
const WAITING = 1;
const ENDED = 2;
const CELLS = 3;

/** The environment data key of the turns at the write lock of the database file `path`. */
export function writeTurnsKey(path: string): string {
  return `herald:sqlite-write-turns:${path}`;
}

/** Stores of this thread open on each file (by key) with its turns: the entry goes with the last. */
const openHere = new Map<string, number>();

/**
 * This process's turns at the write lock of the database file `path` (null for an in-memory one);
 * `release()` them when the connection closes.
 */
export function writeTurnsFor(path: string): WriteTurns | null {
  if (path === '' || path === ':memory:') return null;
  const key = writeTurnsKey(path);
  let buffer = getEnvironmentData(key);
  if (!(buffer instanceof SharedArrayBuffer)) {
    buffer = new SharedArrayBuffer(CELLS * Int32Array.BYTES_PER_ELEMENT);
    setEnvironmentData(key, buffer);
  }
  openHere.set(key, (openHere.get(key) ?? 0) + 1);
  let released = false;
  return new WriteTurns(buffer as SharedArrayBuffer, MAX_YIELD_MS, () => {
    if (released) return;
    released = true;
    const left = (openHere.get(key) ?? 1) - 1;
    if (left > 0) return void openHere.set(key, left);
    openHere.delete(key);
    setEnvironmentData(key, undefined); // undefined deletes the entry
  });
}

/** One connection's part in the turns. */
export class WriteTurns {
  readonly #cells: Int32Array;
  readonly #id: number;
  readonly #maxYieldMs: number;
  readonly #onRelease: () => void;
  /** When this connection first held back for the one waiting now (0: it is not holding back). */
  #yieldingSince = 0;

  constructor(buffer: SharedArrayBuffer, maxYieldMs = MAX_YIELD_MS, onRelease: () => void = () => {}) {
    this.#cells = new Int32Array(buffer);
    this.#maxYieldMs = maxYieldMs;
    this.#onRelease = onRelease;
    this.#id = Atomics.add(this.#cells, LAST_ID, 1) + 1;
  }

  /**
   * The connection closed: takes its name off, and with the thread's last store on the file the
   * file's entry out of the thread's environment data (writeTurnsFor). Once is enough.
   */
  release(): void {
    this.done();
    this.#onRelease();
  }

  /**
   * Whether this connection's next transaction should wait: another connection has been refused
   * the lock and not had it since, for less than maxYieldMs of this one's waiting. Past that, one
   * transaction goes, and the next waits again only for a connection refused anew.
   */
  yields(now = performance.now()): boolean {
    const waiting = Atomics.load(this.#cells, WAITING);
    if (waiting === 0 || waiting === this.#id) {
      this.#yieldingSince = 0;
      return false;
    }
    if (this.#yieldingSince === 0) this.#yieldingSince = now;
    if (now - this.#yieldingSince < this.#maxYieldMs) return true;
    // Its name is taken off: one that is still there puts it down again when refused (this
    // transaction holds the lock), and one that is gone (a thread ended) holds up nothing more.
    Atomics.compareExchange(this.#cells, WAITING, waiting, 0);
    this.#yieldingSince = 0;
    return false;
  }

  /** Refused the lock: puts this connection's name down, unless another's is there already. */
  waitFor(): void {
    Atomics.compareExchange(this.#cells, WAITING, 0, this.#id);
  }

  /** Has the lock, or wants it no longer: takes this connection's name off, if it is there. */
  done(): void {
    Atomics.compareExchange(this.#cells, WAITING, this.#id, 0);
  }

  /** The number of transactions ended so far, by any connection (read before trying the lock). */
  get ends(): number {
    return Atomics.load(this.#cells, ENDED);
  }

  /** A transaction of this connection ended (committed or rolled back): a waiting one may go. */
  ended(): void {
    Atomics.add(this.#cells, ENDED, 1);
    Atomics.notify(this.#cells, ENDED);
  }

  /** Blocks the thread until a transaction ends after `seen` (ends), or `ms` pass. */
  waitForEnd(seen: number, ms: number): void {
    Atomics.wait(this.#cells, ENDED, seen, ms);
  }
}
