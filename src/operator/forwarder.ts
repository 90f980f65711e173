/**
 * Hands operational events (endpoint.disabled, endpoint.recovered, delivery.exhausted) to the
 * operator project as ordinary events, from the store's outbox (operational_events.forwarded_at).
 * The stores write operational events in the same transaction as what they report; this loop
 * picks them up, so nothing is lost to a crash in between: an event accepted but not yet marked is
 * accepted again with the same idempotency key (`herald-op-<id>`), which returns the first one.
 *
 * Not forwarded (marked only): events about the operator project itself (no recursion), and events
 * older than STALE_MS (left from a time the webhook was not configured, or beyond the idempotency
 * window, where a replay could duplicate).
 */

import { storeErrorLog } from '../delivery/store-error-log.ts';
import { createWakeSignal } from '../delivery/wake-signal.ts';
import type { OperationalEvent } from '../domain/types.ts';
import type { NewEventInput, Store } from '../store/store.ts';
import { urlOrigin } from './url-origin.ts';

/** Kept under the 24 h idempotency window of acceptEvents. */
export const STALE_MS = 23 * 3_600_000;

export interface ForwarderLog {
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export interface ForwarderOptions {
  store: Pick<
    Store,
    | 'listUnforwardedOperationalEvents'
    | 'markOperationalEventsForwarded'
    | 'acceptEvents'
    | 'getProject'
    | 'databaseTime'
  >;
  operatorProjectId: string;
  /** Poll interval when idle (default 1 s); `wake()` comes sooner. */
  intervalMs?: number;
  batchSize?: number;
  clock?: () => number;
  log?: ForwarderLog;
}

export interface Forwarder {
  start(): void;
  /** Forwards one batch; returns how many operational events it handled. */
  runOnce(): Promise<number>;
  wake(): void;
  stop(): Promise<void>;
}

/** The event an operational event becomes in the operator project. */
export function operatorEvent(
  op: OperationalEvent,
  project: { uid: string | null; name: string } | null,
): NewEventInput {
  const reason = op.data.reason ?? (op.type === 'endpoint.recovered' ? 'enabled' : null);
  return {
    type: op.type,
    payload: {
      ...op.data,
      // delivery.exhausted's receiver URL, by its origin: its path and query may be a customer's
      // credential, and the operator's receiver is often a chat relay (the project's list has it whole).
      ...(typeof op.data.url === 'string' ? { url: urlOrigin(op.data.url) } : {}),
      projectId: op.projectId,
      projectUid: project?.uid ?? null,
      projectName: project?.name ?? null,
      reason,
      at: new Date(op.createdAt).toISOString(),
      operationalEventId: op.id,
    },
    test: false,
    idempotencyKey: `herald-op-${op.id}`,
    callbackUrl: null,
  };
}

export function createForwarder(options: ForwarderOptions): Forwarder {
  const { store, operatorProjectId } = options;
  const intervalMs = options.intervalMs ?? 1_000;
  const batchSize = options.batchSize ?? 100;
  const clock = options.clock ?? Date.now;
  let running = false;
  let loop: Promise<void> | null = null;
  const signal = createWakeSignal();
  const sleep = signal.sleep;
  const logRoundError = options.log ? roundErrorLog(options.log, clock) : () => undefined;

  const reportStale = staleReport(options.log);

  const runOnce = async (): Promise<number> => {
    const ops = await store.listUnforwardedOperationalEvents(batchSize);
    const now = clock();
    // An operational event's created_at is in the database's time (PostgreSQL): compared with this
    // process's clock, one S ahead passed over events S short of 23 h old, one S behind sent some
    // S past it. Now moved by the offset this process last proved (Store.databaseTime, no round trip).
    const staleAt = (store.databaseTime?.(now) ?? now) - STALE_MS;
    const send = ops.filter((o) => o.projectId !== operatorProjectId && o.createdAt > staleAt);
    const stale = ops.filter((o) => o.projectId !== operatorProjectId && o.createdAt <= staleAt);
    reportStale(stale.length, now);
    if (ops.length === 0) return 0;
    if (send.length) {
      const projects = new Map<string, { uid: string | null; name: string } | null>();
      for (const o of send) {
        if (!projects.has(o.projectId)) projects.set(o.projectId, await store.getProject(o.projectId));
      }
      await store.acceptEvents(
        operatorProjectId,
        send.map((o) => operatorEvent(o, projects.get(o.projectId) ?? null)),
        now,
      );
    }
    await store.markOperationalEventsForwarded(
      ops.map((o) => ({ projectId: o.projectId, id: o.id })),
      now,
    );
    return ops.length;
  };

  return {
    start() {
      if (running) return;
      running = true;
      loop = (async () => {
        while (running) {
          let handled = 0;
          try {
            handled = await runOnce();
          } catch (error) {
            logRoundError(error);
          }
          if (running && handled < batchSize) await sleep(intervalMs);
        }
      })();
    },
    runOnce,
    wake: signal.wake,
    async stop() {
      running = false;
      signal.wake();
      await loop;
      loop = null;
    },
  };
}

/**
 * How operational events too old to send are logged: the first batch at once, then what the
 * following batches passed over together, at most once per 10 s and when a round finds none. A month
 * without the operator URL can leave a million of them, which the forwarder marks 100 a round: one
 * line per round was 10,000 warn lines at the start that set the URL again.
 */
function staleReport(log: ForwarderLog | undefined): (count: number, now: number) => void {
  let unlogged = 0;
  let loggedAt = Number.NEGATIVE_INFINITY;
  return (count, now) => {
    unlogged += count;
    if (unlogged === 0 || (count > 0 && now - loggedAt < 10_000)) return;
    log?.warn(
      { count: unlogged },
      'operator webhook: operational events older than 23 h were not sent (recorded before the webhook was configured, or the forwarder was down)',
    );
    unlogged = 0;
    loggedAt = now;
  };
}

/**
 * How a failed round is logged: as the dispatcher and the retention purger log their failed store
 * calls (storeErrorLog). The loop polls every second, so while the database cannot be reached it
 * logged an error with its stack every second (a re-tester's outage); now one warn line without a
 * stack, then at most one per 10 s with the rounds failed since. Nothing is lost meanwhile: the
 * outbox keeps the events until a round forwards them. Any other failure at error level, with its
 * stack, at most once per 10 s per kind.
 */
function roundErrorLog(log: ForwarderLog, clock: () => number): (error: unknown) => void {
  const logged = storeErrorLog(
    {
      warn: (fields) =>
        log.warn(
          fields,
          'operator webhook: the database cannot be reached; forwarding operational events again once it can (logged at most once per 10 s)',
        ),
      error: (fields) =>
        log.error(fields, 'operator webhook: forwarding operational events failed; trying again next round'),
    },
    10_000,
    clock,
  );
  return (error) => logged(error, 'operator webhook');
}
