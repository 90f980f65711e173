/**
 * Retention in the background (HERALD_RETENTION_DAYS): every `intervalMs` it walks every project
 * and calls Store.purgeBefore until the project is done. Each batch is one short transaction of at
 * most `batchSize` events (SQLite's also end after a few ms of work: sqlite/retention.ts); after each
 * it pauses twice as long as the batch took, at least `pauseMs` (pauseAfter), so accepts, claims and
 * attempt records keep flowing while a large backlog of old history is deleted. Stops between two
 * batches.
 *
 * A round that deletes anything says so: one line at its first batch that deleted something, one
 * with the counts so far at most every `progressMs` (a round over 200,000 events took ~40 s in
 * ~1,000 batches: no line per batch), and one at its end.
 */
import { storeErrorLog } from '../delivery/store-error-log.ts';
import { counted } from '../domain/counted.ts';
import type { Store } from '../store/store.ts';

export interface PurgeTotals {
  events: number;
  deliveries: number;
  attempts: number;
  operationalEvents: number;
  batches: number;
}

export interface PurgerLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export interface PurgerOptions {
  /**
   * With `databaseNow` (PostgreSQL), each round's cutoff is the database server's time less the
   * retention: a process whose clock is far ahead (a host booted with a wrong clock, before NTP
   * put it right) would otherwise delete history that is not yet old, for every process.
   */
  store: Pick<Store, 'listProjects' | 'purgeBefore' | 'databaseNow'>;
  /** History older than this is purged. */
  retentionMs: number;
  /** Between two runs (default 10 min; the first run starts `firstRunMs` after start, default 30 s). */
  intervalMs?: number;
  firstRunMs?: number;
  /** Events per batch (default 1,000). */
  batchSize?: number;
  /** Shortest pause between two batches (default 20 ms; longer after a slow batch: pauseAfter). */
  pauseMs?: number;
  /** At most one progress line per this long while a round deletes (default 10 s). */
  progressMs?: number;
  /** Cutoffs (without the store's databaseNow), round durations, when a failed round was last logged. */
  clock?: () => number;
  log?: PurgerLog;
}

export interface Purger {
  start(): void;
  /** Purges everything older than the retention now (resolves when done or stopped). */
  runOnce(): Promise<PurgeTotals>;
  /** Stops after the batch in progress; resolves once it has. */
  stop(): Promise<void>;
}

/** The longest pause between two batches, however long the last one took. */
const MAX_PAUSE_MS = 1_000;

/**
 * The pause after a batch that took `tookMs`: twice that, at least `pauseMs`, at most
 * MAX_PAUSE_MS. The purge so takes at most about a third of the database's time, and a batch slowed
 * by a busy database (its wait for the write lock or the connection counts in `tookMs`) pauses
 * longer: the purge gives way under load.
 */
export function pauseAfter(tookMs: number, pauseMs: number): number {
  return Math.max(pauseMs, Math.min(2 * tookMs, MAX_PAUSE_MS));
}

export function createPurger(options: PurgerOptions): Purger {
  const { store, retentionMs } = options;
  const intervalMs = options.intervalMs ?? 10 * 60_000;
  const firstRunMs = options.firstRunMs ?? 30_000;
  const batchSize = options.batchSize ?? 1_000;
  const pauseMs = options.pauseMs ?? 20;
  const progressMs = options.progressMs ?? 10_000;
  const clock = options.clock ?? Date.now;
  const roundFailed = options.log ? roundErrorLog(options.log, clock) : () => undefined;
  let stopping = false;
  let loop: Promise<void> | null = null;
  let cancelSleep: (() => void) | null = null;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        cancelSleep = null;
        resolve();
      }
      cancelSleep = done;
    });

  const runOnce = async (): Promise<PurgeTotals> => {
    const totals: PurgeTotals = { events: 0, deliveries: 0, attempts: 0, operationalEvents: 0, batches: 0 };
    const started = clock();
    const cutoff = (store.databaseNow ? await store.databaseNow() : started) - retentionMs;
    const before = new Date(cutoff).toISOString();
    const counts = () =>
      `${counted(totals.events, 'events')}, ${counted(totals.deliveries, 'deliveries')}, ${counted(totals.attempts, 'attempts')} and ${counted(totals.operationalEvents, 'operational events')}`;
    const fields = () => ({ ...totals, cutoff: before, ms: clock() - started });
    /** When the last line of this round was logged; null until the round has deleted something. */
    let logged: number | null = null;
    const progress = () => {
      if (!options.log || totals.events + totals.attempts + totals.operationalEvents === 0) return;
      const now = clock();
      if (logged === null) {
        options.log.info(
          { cutoff: before },
          `retention: purging history older than ${before} (progress at most every ${Math.round(progressMs / 1000)} s)`,
        );
        logged = now;
      } else if (now - logged >= progressMs) {
        options.log.info(
          fields(),
          `retention: ${counts()} purged so far (${Math.round((now - started) / 1000)} s)`,
        );
        logged = now;
      }
    };
    let cursor: string | null = null;
    walk: do {
      const page = await store.listProjects({ limit: 100, cursor });
      for (const project of page.data) {
        let after: string | null = null;
        do {
          if (stopping) break walk;
          const began = performance.now();
          const r = await store.purgeBefore(project.id, cutoff, batchSize, after);
          const took = performance.now() - began;
          totals.events += r.events;
          totals.deliveries += r.deliveries;
          totals.attempts += r.attempts;
          totals.operationalEvents += r.operationalEvents;
          totals.batches++;
          after = r.next;
          progress();
          await sleep(pauseAfter(took, pauseMs));
        } while (after !== null);
      }
      cursor = page.nextCursor;
    } while (cursor !== null);
    if (totals.events + totals.attempts + totals.operationalEvents > 0) {
      options.log?.info(
        fields(),
        stopping
          ? `retention: stopped after purging ${counts()} older than ${before}`
          : `retention: purged ${counts()} older than ${before}`,
      );
    }
    return totals;
  };

  return {
    start() {
      if (loop) return;
      stopping = false;
      loop = (async () => {
        await sleep(firstRunMs);
        while (!stopping) {
          try {
            await runOnce();
          } catch (error) {
            roundFailed(error);
          }
          if (!stopping) await sleep(intervalMs);
        }
      })();
    },
    runOnce,
    async stop() {
      stopping = true;
      cancelSleep?.();
      await loop;
      loop = null;
    },
  };
}

/**
 * How a failed round is logged: as the dispatcher logs its failed store calls (storeErrorLog), in
 * the purger's words. While the database cannot be reached, one warn line without a stack, then at
 * most one per 10 s with the rounds failed since (an outage `herald_store_up` already reports is no
 * error for the purger, which tries again next round); any other failure at error level, with its
 * stack, at most once per 10 s per kind.
 */
function roundErrorLog(log: PurgerLog, clock: () => number): (error: unknown) => void {
  const logged = storeErrorLog(
    {
      warn: (fields) =>
        log.warn(
          fields,
          'retention: the database cannot be reached; purging again next round (logged at most once per 10 s)',
        ),
      error: (fields) => log.error(fields, 'retention: a purge batch failed; trying again next round'),
    },
    10_000,
    clock,
  );
  return (error) => logged(error, 'retention');
}
