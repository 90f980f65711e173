/**
 * What the soak sends and to whom: the event types and their shares, and the project's endpoints,
 * each a behaviour of the soak receiver (soak-receiver.ts). Pure data and the rules that follow
 * from it (which endpoints an event of a type must reach), so the checks can be tested alone.
 */

/** Event types and the share of events of each (they add up to 1). */
export const EVENT_MIX: readonly { type: string; share: number }[] = [
  { type: 'order.created', share: 0.6 },
  { type: 'order.paid', share: 0.3 },
  { type: 'order.refunded', share: 0.1 },
];

export type EndpointKind = 'healthy' | 'flaky' | 'failing' | 'slow';

export interface SoakEndpoint {
  /** Names it in the receiver's path and in the report. */
  key: string;
  kind: EndpointKind;
  /** Path and query on the receiver (its behaviour: see soak-receiver.ts). */
  path: string;
  /** The endpoint's filter; empty takes every type. */
  eventTypes: string[];
  /** Which receiver port: endpoints on another origin get a connection pool of their own. */
  origin: 0 | 1;
  timeoutMs?: number;
  /** Short schedules, so that every delivery is finished a minute after the load stops. */
  retrySchedule?: number[];
}

/**
 * The flaky endpoint fails 20 % of its attempts: at 30 % a run of 10 failures in a row (the
 * default HERALD_FAILURE_THRESHOLD) would come about twice in 500,000 attempts and disable it.
 * The slow one answers 10 % of its requests after its timeout (1 s), the rest in 50 ms.
 */
export const SOAK_ENDPOINTS: readonly SoakEndpoint[] = [
  { key: 'a', kind: 'healthy', path: '/ok/a', eventTypes: [], origin: 0 },
  { key: 'b', kind: 'healthy', path: '/ok/b', eventTypes: [], origin: 1 },
  { key: 'paid', kind: 'healthy', path: '/ok/paid', eventTypes: ['order.paid'], origin: 0 },
  {
    key: 'flaky',
    kind: 'flaky',
    path: '/flaky/flaky?fail=0.2',
    eventTypes: [],
    origin: 0,
    retrySchedule: [0.5, 1, 2, 4, 8, 16],
  },
  {
    key: 'slow',
    kind: 'slow',
    path: '/slow/slow?ms=50&late=0.1&lateMs=1500',
    eventTypes: ['order.paid'],
    origin: 1,
    timeoutMs: 1_000,
    retrySchedule: [1, 2, 4],
  },
  {
    key: 'failing',
    kind: 'failing',
    path: '/fail/failing',
    eventTypes: ['order.refunded'],
    origin: 1,
    retrySchedule: [1, 2],
  },
];

/**
 * Every `CALLBACK_EVERY`th event also names a `callbackUrl`: the receiver's slow path, answering
 * in 150 ms, so that a project's callbacks hold slots beside its endpoints and take their turns in
 * the claims as one more of them. A callback has no endpoint: it is retried on the project's
 * schedule, `PROJECT_RETRY_SCHEDULE`, short so that it drains too.
 */
export const CALLBACK_EVERY = 5;
export const CALLBACK_PATH = '/slow/cb?ms=150&late=0';
export const CALLBACK_KEY = 'cb';
export const PROJECT_RETRY_SCHEDULE: readonly number[] = [1, 2, 4];

/** Whether the `n`th event carries a callbackUrl. */
export function hasCallback(n: number): boolean {
  return n % CALLBACK_EVERY === 0;
}

/**
 * The endpoints with every retry delay multiplied by `scale` (`--smoke` uses 0.1, so that a
 * seconds-long run drains in seconds too).
 */
export function scaledEndpoints(scale: number): SoakEndpoint[] {
  return SOAK_ENDPOINTS.map((e) =>
    e.retrySchedule
      ? { ...e, retrySchedule: e.retrySchedule.map((d) => Math.round(d * scale * 1000) / 1000) }
      : e,
  );
}

/** Whether an endpoint's filter takes an event of `type`. */
export function takes(endpoint: Pick<SoakEndpoint, 'eventTypes'>, type: string): boolean {
  return endpoint.eventTypes.length === 0 || endpoint.eventTypes.includes(type);
}

/** The type of the `n`th event: the mix, spread evenly (not at random, so that runs compare). */
export function typeOf(n: number): number {
  const x = (((n * 0.618_033_988_75) % 1) + 1) % 1;
  let sum = 0;
  for (let i = 0; i < EVENT_MIX.length; i++) {
    sum += EVENT_MIX[i]!.share;
    if (x < sum) return i;
  }
  return EVENT_MIX.length - 1;
}
