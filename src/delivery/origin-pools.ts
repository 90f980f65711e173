/**
 * The sender's undici Pools, one per origin and endpoint (SendRequest.poolKey): keep-alive, bounded,
 * closed when idle, and dropped with their dials in progress when an origin misbehaves (sender.ts
 * decides when).
 */
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { buildConnector } from 'undici';
import { useGrowingQueue } from './pool-queue.ts';
import { Pool } from './undici-parts.ts';

const KEEP_ALIVE_MS = 10_000;

/**
 * What a connector returns for one dial, as the pools use it: the socket it dials, or what stands
 * for the sockets of one dial (a tunnel through the proxy that moves on to the next address:
 * proxy-connector.ts). It closes when the connection it gave undici closes.
 */
export type Dial = Pick<Socket, 'connecting'> & {
  once(event: 'close', listener: () => void): unknown;
  destroy(error?: Error): unknown;
};

export interface PoolEntry {
  pool: Pool;
  /** Attempts using it now. */
  active: number;
  lastUsed: number;
  /** Sockets of this pool still connecting (TCP or TLS handshake): undici cannot cancel those. */
  dialing: Set<Dial>;
  /** Sockets of this pool open or opening (counted against the process's maxSockets). */
  sockets: number;
}

export interface OriginPools {
  /**
   * The pool of `key` (the origin, or the origin and an endpoint) to `origin`, created on first
   * use, counted as used by one more attempt.
   */
  acquire(origin: string, key?: string): PoolEntry;
  /** Takes the pool of `key` out of use when no attempt uses it, tearing down its sockets and dials. */
  dropIfIdle(key: string, entry: PoolEntry): void;
  /** Closes every pool; requests in flight fail. */
  close(): Promise<void>;
}

/** Ends a dial nobody waits for any more (its attempt is over); undici sees a connect failure. */
export class DialAbandonedError extends Error {
  readonly code = 'UND_ERR_CONNECT_TIMEOUT';
  constructor() {
    super('connection attempt abandoned: the delivery attempt ended first');
    this.name = 'DialAbandonedError';
  }
}

export function createOriginPools(options: {
  /** The shared connector (SSRF guard, CAs, connect timeout). */
  connect: buildConnector.connector;
  connectionsPerOrigin: number;
  /** A pool unused this long is closed. */
  idleMs: number;
  /**
   * Sockets open or opening across every pool (default: no bound): what the process's open-file
   * limit leaves for deliveries (fd-limit.ts). A dial beyond it first makes room (reclaim): pools no
   * attempt uses are closed, then pools in use whose idle keep-alive sockets hold the room are
   * closed gracefully. Attempts in flight are bounded by the same number (main.ts); what can still
   * go beyond it for a moment is sockets of closed pools whose attempts are finishing, within the
   * FD_RESERVE descriptors the open-file limit keeps beyond it for the API and the database.
   */
  maxSockets?: number;
}): OriginPools {
  const pools = new Map<string, PoolEntry>();
  const maxSockets = options.maxSockets ?? Number.POSITIVE_INFINITY;
  /** Sockets open or opening, every pool. */
  let open = 0;
  const socketGone = (entry: PoolEntry) => {
    open--;
    entry.sockets--;
  };
  /**
   * Makes room for a dial beyond maxSockets: closes the pools no attempt uses, least recently used
   * first; then, if that is not enough, the pools whose idle keep-alive sockets hold the room,
   * least recently used first and gracefully (their attempts in flight finish; the idle sockets
   * close now, the others as their attempts end; the endpoint's next attempt opens a new pool).
   */
  const reclaim = () => {
    let closing = 0;
    const byAge = [...pools].sort((a, b) => a[1].lastUsed - b[1].lastUsed);
    for (const [key, entry] of byAge) {
      if (open - closing < maxSockets) return;
      if (entry.active === 0 && entry.sockets > 0) {
        closing += entry.sockets;
        drop(key, entry);
      }
    }
    for (const [key, entry] of byAge) {
      if (open - closing < maxSockets) return;
      const idle = entry.sockets - entry.active;
      if (entry.active > 0 && idle > 0 && pools.get(key) === entry) {
        closing += idle;
        pools.delete(key);
        entry.pool.close().catch(() => {});
      }
    }
  };
  const drop = (key: string, entry: PoolEntry) => {
    pools.delete(key);
    for (const socket of entry.dialing) socket.destroy(new DialAbandonedError());
    entry.dialing.clear();
    entry.pool.destroy().catch(() => {});
  };

  // Many endpoints mean many origins: close the pools nobody used lately.
  const sweeper = setInterval(
    () => {
      const now = performance.now();
      for (const [key, entry] of pools) {
        if (entry.active === 0 && now - entry.lastUsed >= options.idleMs) {
          pools.delete(key);
          entry.pool.close().catch(() => {});
        }
      }
    },
    Math.max(10, Math.min(options.idleMs, 30_000)),
  );
  sweeper.unref();

  return {
    acquire(origin, key = origin) {
      let entry = pools.get(key);
      if (!entry) {
        const dialing = new Set<Dial>();
        // The shared connector, remembering each socket until its handshake ends, so a pool that is
        // dropped can cut dials that would otherwise wait out the connector's timeout; and counting
        // every socket against maxSockets until it closes.
        const dial: buildConnector.connector = (opts, callback) => {
          if (open >= maxSockets) reclaim();
          let socket: Dial | undefined;
          let done = false;
          open++;
          created.sockets++;
          // undici's connector returns the socket it dials, although its type says void
          socket = options.connect(opts, (...args) => {
            done = true;
            if (socket) dialing.delete(socket);
            else if (args[0]) socketGone(created); // failed before a socket existed
            callback(...args);
          }) as unknown as Dial | undefined;
          if (socket) socket.once('close', () => socketGone(created));
          if (socket && !done) dialing.add(socket);
          return socket;
        };
        const created: PoolEntry = {
          pool: new Pool(origin, {
            connections: options.connectionsPerOrigin,
            connect: dial,
            keepAliveTimeout: KEEP_ALIVE_MS,
            pipelining: 1,
          }),
          active: 0,
          lastUsed: performance.now(),
          dialing,
          sockets: 0,
        };
        useGrowingQueue(created.pool);
        entry = created;
        pools.set(key, entry);
      }
      entry.active++;
      return entry;
    },
    dropIfIdle(key, entry) {
      if (entry.active !== 0 || pools.get(key) !== entry) return;
      drop(key, entry);
    },
    async close() {
      clearInterval(sweeper);
      const all = [...pools.values()];
      pools.clear();
      for (const e of all) for (const socket of e.dialing) socket.destroy(new DialAbandonedError());
      await Promise.allSettled(all.map((e) => e.pool.destroy()));
    },
  };
}
