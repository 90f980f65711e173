/**
 * Lines that the same cause writes again and again (every request failing the same way, a storm
 * of malformed requests): one per interval per server and kind, with the number held back since.
 */

/** A kind of line is written at most once per this long, per server. */
export const LINE_INTERVAL_MS = 10_000;
/** Kinds remembered per server; past it, the rest share one (messages with an id in them). */
export const MAX_KINDS = 100;

/** The kind of an error a line is throttled by: its code and message (the first 500 characters). */
export const errorKind = (error: unknown): string => {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return `${String(code ?? '')}:${String(message ?? error)}`.slice(0, 500);
};

interface Throttle {
  loggedAt: number;
  since: number;
}

const throttles = new WeakMap<object, Map<string, Throttle>>();

/**
 * Whether a line of `kind` is due for `server` now: null when it is held back (and counted), else
 * the number held back since the last one (the count restarts).
 */
export function lineDue(server: object, kind: string, now = Date.now()): { since: number } | null {
  let kinds = throttles.get(server);
  if (!kinds) {
    kinds = new Map();
    throttles.set(server, kinds);
  }
  const key = kinds.has(kind) || kinds.size < MAX_KINDS ? kind : 'other';
  let state = kinds.get(key);
  if (!state) {
    state = { loggedAt: Number.NEGATIVE_INFINITY, since: 0 };
    kinds.set(key, state);
  }
  if (now - state.loggedAt < LINE_INTERVAL_MS) {
    state.since++;
    return null;
  }
  const since = state.since;
  state.loggedAt = now;
  state.since = 0;
  return { since };
}
