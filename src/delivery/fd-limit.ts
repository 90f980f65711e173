/**
 * What the process's open-file limit leaves for delivery sockets. Every socket is a file
 * descriptor, and so are the API's connections and the database's files: a process that runs out
 * cannot accept a request or open SQLite's journal (a tester: 100 endpoints on 100 origins under
 * `ulimit -n 256` took the API down). Node raises the soft limit to the hard one at start; Linux
 * says what it is in /proc/self/limits.
 */
import { readFileSync } from 'node:fs';
import type { Config, DeliveryConfig } from '../config/config-types.ts';
import type { Logger } from '../logger.ts';

/** File descriptors kept for everything but delivery sockets: API connections, database files, pipes. */
export const FD_RESERVE = 256;
/** The fewest delivery sockets allowed, however low the limit. */
const MIN_SOCKETS = 16;

/** The soft "Max open files" of a /proc/<pid>/limits text; null when absent or unlimited. */
export function parseOpenFileLimit(text: string): number | null {
  const line = text.split('\n').find((l) => l.startsWith('Max open files'));
  const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
  if (!soft || soft === 'unlimited') return null;
  const n = Number(soft);
  return Number.isSafeInteger(n) && n > 0 ? n : null;
}

/** This process's open-file limit; null where it cannot be read (not Linux) or is unlimited. */
export function openFileLimit(): number | null {
  try {
    return parseOpenFileLimit(readFileSync('/proc/self/limits', 'utf8'));
  } catch {
    return null;
  }
}

/** Delivery sockets the limit leaves (null: no bound). */
export function socketBudget(limit: number | null): number | null {
  return limit === null ? null : Math.max(MIN_SOCKETS, limit - FD_RESERVE);
}

/**
 * Delivery sockets bounded by what the open-file limit leaves (fd-limit.ts), and attempts in flight
 * by the same number when it is lower than HERALD_DELIVERY_CONCURRENCY (said once, at start).
 */
export function fitToOpenFileLimit(
  config: Config,
  logger: Logger,
): { delivery: DeliveryConfig; maxSockets: number | null } {
  const limit = openFileLimit();
  const maxSockets = socketBudget(limit);
  const d = config.delivery;
  if (maxSockets === null || maxSockets >= d.concurrency) return { delivery: d, maxSockets };
  logger.warn(
    { openFileLimit: limit, concurrency: maxSockets },
    `the open-file limit (${limit}) leaves ${maxSockets} sockets for deliveries, keeping ${Math.max(0, (limit ?? 0) - maxSockets)} for the API and the database (at least ${MIN_SOCKETS} go to deliveries): at most ${maxSockets} attempts in flight instead of HERALD_DELIVERY_CONCURRENCY's ${d.concurrency}. Raise the limit (ulimit -n, systemd LimitNOFILE=) to deliver at full concurrency`,
  );
  return {
    delivery: {
      ...d,
      concurrency: maxSockets,
      perProjectConcurrency: Math.min(d.perProjectConcurrency, maxSockets),
      perEndpointConcurrency: Math.min(d.perEndpointConcurrency, maxSockets),
    },
    maxSockets,
  };
}
